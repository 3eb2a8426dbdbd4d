// One run per host store at a time. The lock file holds {pid, hostname, started, heartbeat}; it
// is stale when its pid is gone on this machine or its heartbeat is older than STALE_AFTER_MS
// (a holder on another machine sharing the store, or a frozen process). A second run names the
// holder and fails with LOCKED (exit 3), or waits when asked.
import { hostname as osHostname } from 'node:os';
import { mkdir, open, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BbackupError } from '../errors.js';
import { LOCK } from './layout.js';
import { isPidAlive } from '../pid.js';

export interface LockInfo {
  pid: number;
  hostname: string;
  started: string;
  heartbeat: string;
}

export const HEARTBEAT_MS = 10_000;
export const STALE_AFTER_MS = 120_000;

export interface HeldLock {
  info: LockInfo;
  release(): Promise<void>;
}

export { isPidAlive };
export function isStale(info: LockInfo, now = Date.now(), host = osHostname()): boolean {
  if (info.hostname === host && !isPidAlive(info.pid)) return true;
  const beat = Date.parse(info.heartbeat);
  return !Number.isFinite(beat) || now - beat > STALE_AFTER_MS;
}

export const describeHolder = (i: LockInfo): string => `pid ${i.pid} on ${i.hostname}, started ${i.started}, last heartbeat ${i.heartbeat}`;

async function readLock(path: string): Promise<LockInfo | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as LockInfo;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    // Half-written or garbage: treat as a lock without heartbeat, i.e. stale.
    return { pid: 0, hostname: '?', started: '?', heartbeat: '?' };
  }
}

/**
 * Take the lock of a host folder. With `wait`, poll until it is free or `signal` aborts.
 * The heartbeat is refreshed every HEARTBEAT_MS until release().
 */
export async function acquireLock(hostFolder: string, opts: { wait?: boolean; signal?: AbortSignal; pollMs?: number } = {}): Promise<HeldLock> {
  await mkdir(hostFolder, { recursive: true });
  const path = join(hostFolder, LOCK);
  for (;;) {
    opts.signal?.throwIfAborted();
    const now = new Date().toISOString();
    const info: LockInfo = { pid: process.pid, hostname: osHostname(), started: now, heartbeat: now };
    try {
      const fh = await open(path, 'wx');
      try {
        await fh.writeFile(JSON.stringify(info));
      } finally {
        await fh.close();
      }
      return held(path, info);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new BbackupError('DISK', `cannot create lock ${path}: ${(err as Error).message}`, { path }, { cause: err });
      }
    }
    const holder = await readLock(path);
    if (!holder) continue;
    if (isStale(holder)) {
      await rm(path, { force: true });
      continue;
    }
    if (!opts.wait) {
      throw new BbackupError('LOCKED', `another bbackup run holds the store lock ${path}: ${describeHolder(holder)}. Wait for it (--wait) or stop it.`, { path, holder });
    }
    await sleep(opts.pollMs ?? 500, undefined, { signal: opts.signal });
  }
}

function held(path: string, info: LockInfo): HeldLock {
  const timer = setInterval(() => {
    info.heartbeat = new Date().toISOString();
    void writeFile(path, JSON.stringify(info)).catch(() => undefined);
  }, HEARTBEAT_MS);
  timer.unref();
  let released = false;
  return {
    info,
    release: async () => {
      if (released) return;
      released = true;
      clearInterval(timer);
      const current = await readLock(path);
      // Only remove our own lock (a stale-break by someone else may have replaced it).
      if (current && current.pid === info.pid && current.hostname === info.hostname && current.started === info.started) await rm(path, { force: true });
    },
  };
}
