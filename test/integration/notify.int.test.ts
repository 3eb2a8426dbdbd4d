// Notifications from real runs of the CLI (`bbackup schedule run`): a real SMTP server on
// 127.0.0.1 receives the failure mail of a run whose store cannot be opened, with the error in
// it; a local HTTP server receives the webhook; an endpoint that fails twice gets it on the third try.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createTestContainer, createTestVolume, runInBusybox, testDocker } from '../helpers/docker.js';
import { runCli } from '../helpers/cli.js';
import { tempDir, writeConfig } from './ops-fixtures.js';
import type { RunReport } from '../../src/notify/report.js';

const docker = testDocker();
const SOCKET = process.env.BBACKUP_TEST_DOCKER_HOST!.replace(/^unix:\/\//, '');

interface Mail {
  from: string;
  to: string[];
  raw: string;
}

async function smtpServer(): Promise<{ port: number; mails: Mail[]; logins: string[] }> {
  const mails: Mail[] = [];
  const logins: string[] = [];
  const server = new SMTPServer({
    authOptional: true,
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onAuth(auth, _session, cb) {
      logins.push(`${auth.username}:${auth.password}`);
      if (auth.username === 'u' && auth.password === 'secret') cb(null, { user: auth.username });
      else cb(new Error('bad credentials'));
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        mails.push({
          from: String(session.envelope.mailFrom && session.envelope.mailFrom.address),
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        cb();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { port: (server.server.address() as AddressInfo).port, mails, logins };
}

interface Hit {
  at: number;
  body: RunReport;
  headers: IncomingMessage['headers'];
}

/** An HTTP endpoint answering with the given statuses in turn (the last one repeats). */
async function webhookServer(statuses: number[]): Promise<{ url: string; hits: Hit[] }> {
  const hits: Hit[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      hits.push({
        at: Date.now(),
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as RunReport,
        headers: req.headers,
      });
      res.statusCode = statuses[Math.min(hits.length - 1, statuses.length - 1)]!;
      res.end(res.statusCode >= 400 ? 'try later' : '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, hits };
}

describe('notifications', () => {
  it('a run whose store cannot be opened sends the failure mail (with the error) and the webhook', async () => {
    const dir = await tempDir('notify');
    const smtp = await smtpServer();
    const hook = await webhookServer([204]);
    // the store lies below a regular file: it cannot be created
    await writeFile(join(dir, 'not-a-dir'), 'x');
    const config = await writeConfig(dir, {
      backup: { store: join(dir, 'not-a-dir', 'store') },
      docker: { socket: SOCKET },
      notifications: {
        on: 'failure',
        email: {
          smtp_host: '127.0.0.1',
          smtp_port: smtp.port,
          security: 'none',
          from: 'bbackup@test.local',
          to: ['ops@test.local'],
          username: 'u',
          password_file: join(dir, 'pw'),
        },
        webhooks: [{ url: hook.url, headers: { authorization: 'Bearer t0k' } }],
      },
      schedule: { nightly: { cron: '0 3 * * *' } },
    });
    await writeFile(join(dir, 'pw'), 'secret\n');
    const r = await runCli(['-c', config, 'schedule', 'run', 'nightly'], { env: { BBACKUP_CONFIG: undefined } });
    expect(r.exitCode, r.stderr).toBe(3);

    expect(smtp.logins).toEqual(['u:secret']); // the password came from password_file
    expect(smtp.mails, r.stderr).toHaveLength(1);
    const mail = smtp.mails[0]!;
    expect(mail.to).toEqual(['ops@test.local']);
    expect(mail.raw).toMatch(/^Subject: \[bbackup\] FAILED: backup could not start on /m);
    expect(mail.raw).toContain('X-Bbackup-Event: backup.unavailable');
    expect(mail.raw).toMatch(/ENOTDIR|not a directory/);

    expect(hook.hits).toHaveLength(1);
    const body = hook.hits[0]!.body;
    expect(hook.hits[0]!.headers.authorization).toBe('Bearer t0k');
    expect(hook.hits[0]!.headers['content-type']).toBe('application/json');
    expect(body).toMatchObject({ event: 'backup.unavailable', status: 'failed', backup_id: null, schedule: 'nightly' });
    expect(body.errors[0]!.message).toMatch(/ENOTDIR|not a directory/);
  });

  it('a webhook that fails twice gets the report of a good backup on the third try; email stays quiet at level failure', async () => {
    const dir = await tempDir('notify');
    const smtp = await smtpServer();
    const hook = await webhookServer([500, 503, 204]);
    const volume = await createTestVolume(docker, 'ops-notify');
    await runInBusybox(docker, 'head -c 50000 /dev/urandom > /d/a.bin && echo hi > /d/b.txt', [`${volume}:/d`]);
    const container = await createTestContainer(docker, 'ops-notify', { HostConfig: { Binds: [`${volume}:/d`] } });
    const config = await writeConfig(dir, {
      backup: { store: join(dir, 'store') },
      docker: { socket: SOCKET },
      notifications: {
        email: {
          smtp_host: '127.0.0.1',
          smtp_port: smtp.port,
          security: 'none',
          from: 'bbackup@test.local',
          to: ['ops@test.local'],
        },
        webhooks: [{ url: hook.url, on: 'always', retries: 3, timeout: 5 }],
      },
      schedule: { hourly: { cron: '0 * * * *', containers: [container] } },
    });
    const r = await runCli(['-c', config, '--json', 'schedule', 'run', 'hourly'], {
      env: { BBACKUP_CONFIG: undefined },
    });
    expect(r.exitCode, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as { backupId: string; host: string };

    expect(hook.hits).toHaveLength(3);
    // exponential back-off: ~1 s, then ~2 s
    const gaps = [hook.hits[1]!.at - hook.hits[0]!.at, hook.hits[2]!.at - hook.hits[1]!.at];
    expect(gaps[0]).toBeGreaterThanOrEqual(900);
    expect(gaps[1]).toBeGreaterThanOrEqual(1800);
    const body = hook.hits[2]!.body;
    expect(body).toMatchObject({
      event: 'backup.finished',
      status: 'ok',
      backup_id: result.backupId,
      host: result.host,
      schedule: 'hourly',
      errors: [],
    });
    expect(body.items.ok).toBeGreaterThanOrEqual(2); // the container and its volume
    expect(body.items.failed).toBe(0);
    expect(body.sizes.bytes).toBeGreaterThanOrEqual(50_003);
    expect(body.duration).toBeGreaterThan(0);
    expect(smtp.mails).toHaveLength(0);
  });

  it('an engine that cannot be reached is reported, from the scheduler and from `bbackup backup`', async () => {
    const dir = await tempDir('notify');
    const hook = await webhookServer([204]);
    const config = await writeConfig(dir, {
      backup: { store: join(dir, 'store') },
      hosts: { ghost: { docker_host: `unix://${join(dir, 'no-such.sock')}` } },
      notifications: { webhooks: [{ url: hook.url }] },
      schedule: { nightly: { cron: '0 3 * * *', host: 'ghost' } },
    });
    const s = await runCli(['-c', config, 'schedule', 'run', 'nightly'], { env: { BBACKUP_CONFIG: undefined } });
    expect(s.exitCode).toBe(3);
    const b = await runCli(['-c', config, '--host', 'ghost', 'backup'], { env: { BBACKUP_CONFIG: undefined } });
    expect(b.exitCode).toBe(3);
    expect(hook.hits.map((h) => [h.body.event, h.body.status, h.body.host, h.body.schedule])).toEqual([
      ['backup.unavailable', 'failed', 'ghost', 'nightly'],
      ['backup.unavailable', 'failed', 'ghost', null],
    ]);
    for (const h of hook.hits) expect(h.body.errors[0]!.message).toContain('cannot reach the Docker engine');
  });

  it('a remote that cannot be opened is reported at level failure, with the remote named', async () => {
    const dir = await tempDir('notify');
    const hook = await webhookServer([204]);
    const volume = await createTestVolume(docker, 'ops-notify');
    await runInBusybox(docker, 'echo hi > /d/b.txt', [`${volume}:/d`]);
    const container = await createTestContainer(docker, 'ops-notify', { HostConfig: { Binds: [`${volume}:/d`] } });
    const config = await writeConfig(dir, {
      backup: { store: join(dir, 'store') },
      docker: { socket: SOCKET },
      // an SFTP server that is not there: nothing listens on port 1
      remotes: {
        offsite: { type: 'sftp', host: '127.0.0.1', port: 1, user: 'backup', path: '/srv', password: 'x', retry: 0 },
      },
      notifications: { on: 'failure', webhooks: [{ url: hook.url }] },
    });
    const r = await runCli(['-c', config, '--json', 'backup', '-C', container], { env: { BBACKUP_CONFIG: undefined } });
    expect(r.exitCode, r.stderr).toBe(4);
    const { id } = JSON.parse(r.stdout) as { id: string };
    expect(hook.hits).toHaveLength(1);
    const body = hook.hits[0]!.body;
    expect(body).toMatchObject({ event: 'backup.finished', status: 'partial', backup_id: id });
    expect(body.errors.map((e) => e.item)).toEqual(['upload offsite']);
    expect(body.errors[0]!.message).toMatch(/ECONNREFUSED|connect|refused/i);
  });

  it('notify-test reaches every notifier whatever its level, and says which one failed', async () => {
    const dir = await tempDir('notify');
    const smtp = await smtpServer();
    const hook = await webhookServer([204]);
    const closed = await closedPort();
    const config = await writeConfig(dir, {
      backup: { store: join(dir, 'store') },
      notifications: {
        on: 'failure',
        email: {
          smtp_host: '127.0.0.1',
          smtp_port: smtp.port,
          security: 'none',
          from: 'bbackup@test.local',
          to: ['ops@test.local'],
        },
        webhooks: [{ url: hook.url }, { url: `http://127.0.0.1:${closed}/nothing-listens`, retries: 0 }],
      },
    });
    const r = await runCli(['-c', config, 'notify-test'], { env: { BBACKUP_CONFIG: undefined } });
    expect(r.exitCode).toBe(3);
    expect(r.stdout).toMatch(/^ok {6}email ops@test\.local$/m);
    expect(r.stdout).toMatch(/^ok {6}webhook http:\/\/127\.0\.0\.1:\d+\/…$/m);
    expect(r.stdout).toContain(`FAILED  webhook http://127.0.0.1:${closed}/…: failed after 1 attempt(s): ECONNREFUSED`);
    expect(smtp.mails).toHaveLength(1);
    expect(smtp.mails[0]!.raw).toMatch(/^Subject: \[bbackup\] test notification from /m);
    expect(hook.hits.map((h) => h.body.event)).toEqual(['notify.test']);
  });
});

/** A loopback port nothing listens on (it was free a moment ago). */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}
