// sendEmail's security modes against real SMTP servers on 127.0.0.1 (smtp-server), with a
// self-signed certificate made by openssl: STARTTLS is required (never a plain fallback), the
// certificate is checked unless tls_reject_unauthorized is false, implicit TLS works.
import { execa } from 'execa';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { sendEmail, type EmailConfig } from '../../src/notify/email.js';
import { buildReport } from '../../src/notify/report.js';

let key: Buffer;
let cert: Buffer;

beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'bbt-ops-tls-'));
  try {
    await execa('openssl', [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-keyout',
      join(dir, 'k.pem'),
      '-out',
      join(dir, 'c.pem'),
    ]);
    [key, cert] = await Promise.all([readFile(join(dir, 'k.pem')), readFile(join(dir, 'c.pem'))]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

async function smtp(
  options: SMTPServerOptions,
): Promise<{ port: number; received: { secure: boolean; text: string }[] }> {
  const received: { secure: boolean; text: string }[] = [];
  const server = new SMTPServer({
    authOptional: true,
    logger: false,
    ...options,
    onData(stream, session, cb) {
      let text = '';
      stream.on('data', (c: Buffer) => (text += c.toString('utf8')));
      stream.on('end', () => {
        received.push({ secure: session.secure, text });
        cb();
      });
    },
  });
  server.on('error', () => undefined);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  onTestFinished(() => new Promise<void>((r) => server.close(() => r())));
  return { port: (server.server.address() as AddressInfo).port, received };
}

const report = buildReport({
  host: 'prod-1',
  status: 'failed',
  started: new Date(),
  errors: [{ item: 'run', code: 'DISK', message: 'store full' }],
});
const cfg = (port: number, over: Partial<EmailConfig>): EmailConfig => ({
  enabled: true,
  smtp_host: '127.0.0.1',
  smtp_port: port,
  security: 'starttls',
  tls_reject_unauthorized: true,
  from: 'b@test.local',
  to: ['ops@test.local'],
  ...over,
});

describe('email security', () => {
  it('starttls upgrades the connection; a self-signed certificate is refused unless tls_reject_unauthorized is false', async () => {
    const s = await smtp({ key, cert });
    await expect(sendEmail(cfg(s.port, {}), report)).rejects.toThrow(
      /email via 127\.0\.0\.1:\d+ \(starttls\) failed: .*(self[- ]signed|certificate)/i,
    );
    expect(s.received).toHaveLength(0);
    await sendEmail(cfg(s.port, { tls_reject_unauthorized: false }), report);
    expect(s.received).toHaveLength(1);
    expect(s.received[0]!.secure).toBe(true);
    expect(s.received[0]!.text).toContain('run: [DISK] store full');
  });

  it('starttls never falls back to plain text when the server does not offer it', async () => {
    const s = await smtp({ disabledCommands: ['STARTTLS'] });
    await expect(sendEmail(cfg(s.port, {}), report)).rejects.toThrow(/starttls/i);
    expect(s.received).toHaveLength(0);
  });

  it('tls speaks TLS from the first byte; none sends in plain text', async () => {
    const tls = await smtp({ key, cert, secure: true });
    await sendEmail(cfg(tls.port, { security: 'tls', tls_reject_unauthorized: false }), report);
    expect(tls.received.map((r) => r.secure)).toEqual([true]);
    const plain = await smtp({ key, cert });
    await sendEmail(cfg(plain.port, { security: 'none' }), report);
    expect(plain.received.map((r) => r.secure)).toEqual([false]);
  });
});
