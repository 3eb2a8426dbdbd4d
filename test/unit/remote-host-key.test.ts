import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyHostKey } from '../../src/remote/host-key.js';
import { classifyRclone } from '../../src/remote/rclone-env.js';

const key = randomBytes(51);
const other = randomBytes(51);
const b64 = key.toString('base64');
const dir = mkdtempSync(join(tmpdir(), 'bbt-rm-hk-'));
const file = (text: string) => {
  const p = join(dir, `kh-${Math.random()}`);
  writeFileSync(p, text);
  return p;
};
const hashed = (name: string) => {
  const salt = randomBytes(20);
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
};
const base = { host: '10.0.0.7', port: 2222, acceptAny: false };

describe('verifyHostKey', () => {
  it.each([
    { name: 'plain [host]:port entry', text: `[10.0.0.7]:2222 ssh-ed25519 ${b64}\n`, ok: true },
    { name: 'hashed entry', text: `${hashed('[10.0.0.7]:2222')} ssh-ed25519 ${b64}\n`, ok: true },
    { name: 'comma list and wildcard', text: `foo,[10.0.0.*]:2222 ssh-ed25519 ${b64}\n`, ok: true },
    {
      name: 'port 22 form does not match port 2222',
      text: `10.0.0.7 ssh-ed25519 ${b64}\n`,
      ok: false,
      reason: /not in .*ssh-keyscan -p 2222/,
    },
    {
      name: 'a different key is a mismatch',
      text: `[10.0.0.7]:2222 ssh-ed25519 ${other.toString('base64')}\n`,
      ok: false,
      reason: /HOST KEY MISMATCH/,
    },
    {
      name: 'revoked key',
      text: `@revoked [10.0.0.7]:2222 ssh-ed25519 ${b64}\n[10.0.0.7]:2222 ssh-ed25519 ${b64}\n`,
      ok: false,
      reason: /@revoked/,
    },
    { name: 'negated pattern', text: `![10.0.0.7]:2222,* ssh-ed25519 ${b64}\n`, ok: false },
  ])('known_hosts: $name', ({ text, ok, reason }) => {
    const v = verifyHostKey({ ...base, knownHostsFile: file(text) }, key);
    expect(v.ok).toBe(ok);
    if (!v.ok && reason) expect(v.reason).toMatch(reason);
  });

  it('pinned host_key wins over known_hosts, and a wrong pin is refused', () => {
    expect(verifyHostKey({ ...base, pinned: `ssh-ed25519 ${b64}` }, key).ok).toBe(true);
    expect(verifyHostKey({ ...base, pinned: `ssh-ed25519 ${b64}` }, other)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(
        /^HOST KEY MISMATCH for \[10\.0\.0\.7\]:2222: the server's key is not the pinned host_key/,
      ),
    });
  });

  it('never accepts blindly: no file and no pin is refused; only insecure_accept_any_host_key accepts', () => {
    expect(verifyHostKey({ ...base, knownHostsFile: join(dir, 'missing') }, key).ok).toBe(false);
    expect(verifyHostKey({ ...base }, key).ok).toBe(false);
    expect(verifyHostKey({ ...base, acceptAny: true }, key).ok).toBe(true);
  });
});

describe('classifyRclone', () => {
  const line = (msg: string) => JSON.stringify({ level: 'error', msg });
  it.each([
    {
      stderr: line("couldn't connect SSH: ssh: handshake failed: knownhosts: key mismatch"),
      code: 'REMOTE_AUTH',
      retryable: false,
      text: /host key mismatch/,
    },
    {
      stderr: line('Failed to copy: write /x: no space left on device'),
      code: 'DISK',
      retryable: false,
      text: /disk full/,
    },
    { stderr: line('directory not found'), code: 'NOT_FOUND', retryable: false, text: /not found/ },
    {
      stderr: line('dial tcp 127.0.0.1:1: connect: connection refused'),
      code: 'REMOTE_IO',
      retryable: true,
      text: /cannot reach/,
    },
    {
      stderr: '2026/11/25 20:00:00 Failed to create file system for "nope:": didn\'t find section in config file',
      code: 'CONFIG_INVALID',
      retryable: false,
      text: /no such remote/,
    },
  ])('$code from "$stderr"', ({ stderr, code, retryable, text }) => {
    const e = classifyRclone('offsite', 'writing x', stderr);
    expect(e.code).toBe(code);
    expect(e.retryable).toBe(retryable);
    expect(e.message).toMatch(/^remote offsite: writing x: /);
    expect(e.message).toMatch(text);
  });
});
