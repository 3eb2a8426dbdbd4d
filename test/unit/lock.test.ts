// The store lock and the run identity it trusts: a recycled pid never passes for a live run, a
// half-written or garbage lock is not broken while fresh, a dead holder's lock is taken over,
// removal touches only the exact file that was judged, and the heartbeat never rewrites the file.
import { execFileSync } from 'node:child_process';
import { link, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { currentRun, readBootId, readStartTime, runLiveness, type RunIdentity } from '../../src/process-identity.js';
import { isDaemonAlive } from '../../src/schedule/state.js';
import { acquireLock, isStale, parseHolder, STALE_AFTER_MS, takeLock } from '../../src/store/lock.js';
import { inspectLock, removeIfSame } from '../../src/store/lock-file.js';

const dirs: string[] = [];
const tmp = async () => {
  const d = await mkdtemp(join(tmpdir(), 'bbt-lock-unit-'));
  dirs.push(d);
  return d;
};
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

/** A pid that existed and is gone: a child that has exited. */
const deadPid = (): number => Number(execFileSync('sh', ['-c', 'echo $$'], { encoding: 'utf8' }).trim());
const me = (): RunIdentity => currentRun();
const bump = (t: string | undefined) => String(Number(t ?? '0') + 1);
const lockJson = (run: Partial<RunIdentity> & { pid: number }, started = new Date().toISOString()) =>
  JSON.stringify({
    version: 2,
    run: { runId: 'other', hostname: hostname(), ...run },
    pid: run.pid,
    hostname: run.hostname ?? hostname(),
    started,
  });

describe('run identity', () => {
  it.each<[string, () => Partial<RunIdentity> & { pid: number; hostname: string }, string]>([
    ['this process', () => me(), 'alive'],
    ['this pid with another start time (recycled)', () => ({ ...me(), startTime: bump(me().startTime) }), 'dead'],
    [
      'pid 1 with another start time (daemon as pid 1 after a container restart)',
      () => ({ ...me(), pid: 1, startTime: bump(readStartTime(1)) }),
      'dead',
    ],
    ['a pid that has exited', () => ({ ...me(), pid: deadPid() }), 'dead'],
    ['another boot of this machine', () => ({ ...me(), bootId: 'not-this-boot' }), 'dead'],
    ['another machine', () => ({ ...me(), hostname: 'elsewhere' }), 'unknown'],
    ['another pid namespace', () => ({ ...me(), pidNs: 'pid:[1]' }), 'unknown'],
    ['an old record (pid only) whose pid exists', () => ({ pid: process.pid, hostname: hostname() }), 'unknown'],
    ['an old record (pid only) whose pid is gone', () => ({ pid: deadPid(), hostname: hostname() }), 'dead'],
  ])('%s: %s', (_name, id, expected) => {
    expect(runLiveness(id())).toBe(expected);
  });

  it('reads the start time after the command name, whatever it holds', () => {
    expect(readStartTime(process.pid)).toMatch(/^\d+$/);
    expect(readBootId()).toMatch(/^[0-9a-f-]{36}$/);
    expect(readStartTime(deadPid())).toBeUndefined();
  });
});

describe('scheduler daemon alive?', () => {
  const now = Date.now();
  const seen = (ago: number) => new Date(now - ago).toISOString();
  it.each<[string, () => { pid: number; started: string; lastSeen: string; run?: RunIdentity }, boolean]>([
    ['its identity is this process', () => ({ pid: process.pid, started: '', lastSeen: seen(0), run: me() }), true],
    [
      'pid 1 of a restarted container',
      () => ({ pid: 1, started: '', lastSeen: seen(0), run: { ...me(), pid: 1, startTime: bump(readStartTime(1)) } }),
      false,
    ],
    ['older file, pid exists, seen lately', () => ({ pid: process.pid, started: '', lastSeen: seen(1000) }), true],
    [
      'older file, pid exists, silent for long',
      () => ({ pid: process.pid, started: '', lastSeen: seen(3600_000) }),
      false,
    ],
    ['older file, pid gone', () => ({ pid: deadPid(), started: '', lastSeen: seen(0) }), false],
  ])('%s: %s', (_name, d, alive) => {
    expect(isDaemonAlive(d(), hostname(), now)).toBe(alive);
  });
});

describe('stale?', () => {
  const now = Date.now();
  it.each<[string, string, number, boolean]>([
    ['live holder, old heartbeat (exact on this machine)', lockJson(me()), STALE_AFTER_MS * 10, false],
    ['recycled pid, fresh heartbeat', lockJson({ ...me(), startTime: bump(me().startTime) }), 0, true],
    ['dead pid, fresh heartbeat', lockJson({ ...me(), pid: deadPid() }), 0, true],
    ['another machine, fresh heartbeat', lockJson({ ...me(), hostname: 'elsewhere' }), 0, false],
    ['another machine, old heartbeat', lockJson({ ...me(), hostname: 'elsewhere' }), STALE_AFTER_MS + 1000, true],
    ['garbage, fresh', '{"pid": 12', 0, false],
    ['empty, fresh', '', 0, false],
    ['garbage, old', '{"pid": 12', STALE_AFTER_MS + 1000, true],
    [
      'older bbackup, live pid, fresh',
      JSON.stringify({ pid: process.pid, hostname: hostname(), started: '', heartbeat: '' }),
      0,
      false,
    ],
    [
      'older bbackup, dead pid',
      JSON.stringify({ pid: deadPid(), hostname: hostname(), started: '', heartbeat: '' }),
      0,
      true,
    ],
  ])('%s', (_name, text, age, stale) => {
    expect(isStale(parseHolder(text, now - age), now)).toBe(stale);
  });
});

describe('store lock', () => {
  it('is exclusive, names its holder, is never empty, and is released', async () => {
    const host = await tmp();
    const lock = await acquireLock(host);
    const info = JSON.parse(await readFile(join(host, '.lock'), 'utf8'));
    expect(info).toMatchObject({
      pid: process.pid,
      hostname: hostname(),
      run: { runId: me().runId, startTime: me().startTime, bootId: me().bootId },
    });
    await expect(acquireLock(host)).rejects.toThrow(
      new RegExp(`another bbackup run holds the store lock .* pid ${process.pid} on ${hostname()}`),
    );
    await lock.release();
    expect(await readdir(host)).toEqual([]);
    const again = await acquireLock(host);
    await again.release();
  });

  it('waits for a live holder when asked', async () => {
    const host = await tmp();
    const first = await acquireLock(host);
    let got = false;
    const second = acquireLock(host, { wait: true, pollMs: 10 }).then((l) => ((got = true), l));
    await new Promise((r) => setTimeout(r, 50));
    expect(got).toBe(false);
    await first.release();
    await (await second).release();
    expect(got).toBe(true);
  });

  it.each([
    ['half written', '{"version":2,"run":{"runId":"x","pid":'],
    ['garbage', 'not json at all'],
    ['empty', ''],
  ])('a %s lock is not broken while fresh, and is once older than the stale age', async (_name, text) => {
    const host = await tmp();
    const path = join(host, '.lock');
    await writeFile(path, text);
    await expect(acquireLock(host)).rejects.toThrow(/holds the store lock .*an unreadable lock file/);
    expect(await readFile(path, 'utf8')).toBe(text);
    const old = new Date(Date.now() - STALE_AFTER_MS - 5000);
    await utimes(path, old, old);
    const lock = await acquireLock(host);
    expect(JSON.parse(await readFile(path, 'utf8')).run.runId).toBe(me().runId);
    await lock.release();
  });

  it.each<[string, () => Partial<RunIdentity> & { pid: number }]>([
    ['a dead pid', () => ({ ...me(), runId: 'dead', pid: deadPid() })],
    [
      'pid 1 with another start time',
      () => ({ ...me(), runId: 'old-daemon', pid: 1, startTime: bump(readStartTime(1)) }),
    ],
    ['this very pid with another start time', () => ({ ...me(), runId: 'recycled', startTime: bump(me().startTime) })],
    ['another boot', () => ({ ...me(), runId: 'before-reboot', bootId: 'another-boot' })],
  ])('a lock held by %s is taken over at once', async (_name, run) => {
    const host = await tmp();
    await writeFile(join(host, '.lock'), lockJson(run()));
    const lock = await acquireLock(host);
    expect(JSON.parse(await readFile(join(host, '.lock'), 'utf8')).run.runId).toBe(me().runId);
    await lock.release();
    expect(await readdir(host)).toEqual([]);
  });

  it('a live holder on another machine keeps it while its heartbeat is fresh', async () => {
    const host = await tmp();
    await writeFile(join(host, '.lock'), lockJson({ ...me(), hostname: 'elsewhere', pid: 4242 }));
    await expect(acquireLock(host)).rejects.toThrow(/pid 4242 on elsewhere/);
  });

  it('the heartbeat refreshes the mtime of the same file and never rewrites it', async () => {
    const host = await tmp();
    const path = join(host, '.lock');
    const lock = await takeLock(path, { heartbeatMs: 5, locked: () => new Error('held') });
    const before = await stat(path);
    const text = await readFile(path, 'utf8');
    const old = new Date(Date.now() - 60_000);
    await utimes(path, old, old);
    for (let i = 0; i < 500 && (await stat(path)).mtimeMs < before.mtimeMs - 1000; i++)
      await new Promise((r) => setTimeout(r, 5));
    const after = await stat(path);
    expect(after.ino).toBe(before.ino);
    expect(after.mtimeMs).toBeGreaterThan(old.getTime() + 1000);
    expect(await readFile(path, 'utf8')).toBe(text);
    await lock.release();
  });

  it('a holder whose lock was taken over learns it (lost aborts)', async () => {
    const host = await tmp();
    const path = join(host, '.lock');
    const lock = await takeLock(path, { heartbeatMs: 5, locked: () => new Error('held') });
    await rm(path);
    await writeFile(path, lockJson({ ...me(), hostname: 'elsewhere' }));
    if (!lock.lost.aborted)
      await new Promise((resolve) => lock.lost.addEventListener('abort', resolve, { once: true }));
    expect(String(lock.lost.reason)).toMatch(/taken over/);
    await lock.release();
    expect(await readFile(path, 'utf8')).toContain('elsewhere'); // release never removes another's lock
  });
});

describe('removing exactly the judged file', () => {
  it('removes it when the name still holds it', async () => {
    const path = join(await tmp(), '.lock');
    await writeFile(path, 'a');
    const seen = (await inspectLock(path))!;
    expect(await removeIfSame(path, seen.id)).toBe('removed');
    expect(await inspectLock(path)).toBeUndefined();
  });

  it('removes nothing when the name now holds another file', async () => {
    const path = join(await tmp(), '.lock');
    await writeFile(path, 'old');
    const judged = (await inspectLock(path))!;
    await rm(path);
    await writeFile(path, 'new holder');
    expect(await removeIfSame(path, judged.id)).toBe('changed');
    expect(await readFile(path, 'utf8')).toBe('new holder');
  });

  it('waits for another remover (busy), and clears the claim of a remover that died', async () => {
    const dir = await tmp();
    const path = join(dir, '.lock');
    await writeFile(path, 'stale');
    const judged = (await inspectLock(path))!;
    await link(path, `${path}.breaking`); // a remover at work
    expect(await removeIfSame(path, judged.id)).toBe('busy');
    expect(await readFile(path, 'utf8')).toBe('stale');
    // ... that died: its claim ages (ctime) past CLAIM_STALE_MS
    expect(await removeIfSame(path, judged.id, Date.now() + 61_000)).toBe('busy');
    expect(await removeIfSame(path, judged.id)).toBe('removed');
    expect(await readdir(dir)).toEqual([]);
  });
});
