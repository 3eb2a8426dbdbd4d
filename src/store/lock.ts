// One run per host store at a time (and the short gate of the readers, readers.ts). The lock file
// holds the holder's run identity (process-identity.ts) and when it started; lock-file.ts says how
// it is created and removed without races. Staleness:
// - a holder on this machine is judged by its identity, exactly: alive (pid exists with the recorded
//   start time, same boot) means held, however old the heartbeat; anything else is dead;
// - a holder we cannot probe (another machine sharing the store, another pid namespace, a lock
//   written by an older bbackup whose pid exists) is held until the file's mtime, which the holder
//   refreshes every HEARTBEAT_MS, is older than the stale age;
// - a file we cannot parse is held too until its mtime is older than the stale age: a lock being
//   written or damaged is not a reason to run a second backup next to the first.
// The heartbeat touches only the mtime of the holder's own inode (futimes on the handle it created
// it with); it never rewrites the content and never replaces the file, so the name keeps pointing
// at the inode a remover judged, which is what makes removing "exactly the judged file" possible.
// A holder whose lock name no longer holds its inode has lost the lock: `lost` aborts.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BbackupError } from '../errors.js';
import { currentRun, parseRunIdentity, runLiveness, type Liveness, type RunIdentity } from '../process-identity.js';
import { LOCK } from './layout.js';
import { createExclusive, holds, inspectLock, removeIfSame, type CreatedLock } from './lock-file.js';

export interface LockInfo {
  version: 2;
  run: RunIdentity;
  /** repeated from `run` for people reading the file */
  pid: number;
  hostname: string;
  started: string;
}

/** What a lock file says about its holder; undefined fields when the file is not ours or damaged. */
export interface Holder {
  run?: RunIdentity;
  pid?: number;
  hostname?: string;
  started?: string;
  /** last heartbeat: the file's mtime */
  mtimeMs: number;
}

export const HEARTBEAT_MS = 10_000;
export const STALE_AFTER_MS = 120_000;

export interface HeldLock {
  path: string;
  info: LockInfo;
  /** aborts when the lock file was taken over (a holder judged dead by another machine) */
  lost: AbortSignal;
  release(): Promise<void>;
}

export function parseHolder(text: string, mtimeMs: number): Holder {
  try {
    const v = JSON.parse(text) as Record<string, unknown>;
    const run = parseRunIdentity(v.run);
    const pid = typeof v.pid === 'number' && Number.isInteger(v.pid) ? v.pid : run?.pid;
    const hostname = typeof v.hostname === 'string' ? v.hostname : run?.hostname;
    return { run, pid, hostname, started: typeof v.started === 'string' ? v.started : undefined, mtimeMs };
  } catch {
    return { mtimeMs };
  }
}

export function holderLiveness(h: Holder): Liveness {
  if (h.run) return runLiveness(h.run);
  if (h.pid !== undefined && h.hostname !== undefined) return runLiveness({ pid: h.pid, hostname: h.hostname }); // older bbackup: dead or unknown
  return 'unknown';
}

export function isStale(h: Holder, now = Date.now(), staleAfterMs = STALE_AFTER_MS): boolean {
  const liveness = holderLiveness(h);
  return liveness === 'dead' || (liveness === 'unknown' && now - h.mtimeMs > staleAfterMs);
}

export function describeHolder(h: Holder): string {
  const beat = new Date(h.mtimeMs).toISOString();
  if (h.pid === undefined || h.hostname === undefined)
    return `an unreadable lock file, last written ${beat} (taken over once it is ${STALE_AFTER_MS / 1000} s old)`;
  return `pid ${h.pid} on ${h.hostname}, started ${h.started ?? '?'}, last heartbeat ${beat}`;
}

export interface TakeOptions {
  wait?: boolean;
  signal?: AbortSignal;
  pollMs?: number;
  staleAfterMs?: number;
  heartbeatMs?: number;
  /** the error for a live holder when not waiting */
  locked(h: Holder): Error;
}

/** Take the lock file `path` (its folder must exist). */
export async function takeLock(path: string, o: TakeOptions): Promise<HeldLock> {
  const run = currentRun();
  const info: LockInfo = { version: 2, run, pid: run.pid, hostname: run.hostname, started: new Date().toISOString() };
  const content = `${JSON.stringify(info)}\n`;
  let busy = 0;
  for (;;) {
    o.signal?.throwIfAborted();
    // Look before creating: a waiting run polls without writing a temporary file each time.
    const seen = await inspectLock(path);
    if (!seen) {
      let created: CreatedLock | undefined;
      try {
        created = await createExclusive(path, content);
      } catch (err) {
        throw new BbackupError(
          'DISK',
          `cannot create lock ${path}: ${(err as Error).message}`,
          { path },
          { cause: err },
        );
      }
      if (created) return held(path, info, created, o.heartbeatMs ?? HEARTBEAT_MS);
      continue; // another run created it first: look at it
    }
    const holder = parseHolder(seen.text, seen.mtimeMs);
    if (isStale(holder, Date.now(), o.staleAfterMs)) {
      const r = await removeIfSame(path, seen.id);
      // changed: someone else removed it (and may hold a new one); removed: try again to create ours.
      if (r !== 'busy') continue;
      // another run is removing it right now; it will hold the lock in a moment
      if (o.wait || ++busy < 50) {
        await sleep(20, undefined, { signal: o.signal });
        continue;
      }
    }
    if (!o.wait) throw o.locked(holder);
    await sleep(o.pollMs ?? 500, undefined, { signal: o.signal });
  }
}

function held(path: string, info: LockInfo, created: CreatedLock, heartbeatMs: number): HeldLock {
  const lost = new AbortController();
  const beat = async () => {
    const t = new Date();
    await created.handle.utimes(t, t).catch(() => undefined);
    if (lost.signal.aborted || (await holds(path, created.id).catch(() => true))) return;
    clearInterval(timer);
    lost.abort(
      new BbackupError(
        'LOCKED',
        `the lock ${path} was taken over by another run (this run was judged dead); stopping`,
        { path },
      ),
    );
  };
  const timer = setInterval(() => void beat(), heartbeatMs);
  timer.unref();
  let released: Promise<void> | undefined;
  const release = async () => {
    clearInterval(timer);
    try {
      for (let i = 0; i < 100; i++) {
        if ((await removeIfSame(path, created.id)) !== 'busy') return;
        await sleep(20);
      }
    } finally {
      await created.handle.close().catch(() => undefined);
    }
  };
  return { path, info, lost: lost.signal, release: () => (released ??= release()) };
}

/**
 * Take the lock of a host folder. With `wait`, poll until it is free or `signal` aborts; without,
 * a live holder fails the run with LOCKED (exit 3) naming it.
 */
export async function acquireLock(
  hostFolder: string,
  opts: { wait?: boolean; signal?: AbortSignal; pollMs?: number } = {},
): Promise<HeldLock> {
  await mkdir(hostFolder, { recursive: true, mode: 0o700 });
  const path = join(hostFolder, LOCK);
  return takeLock(path, {
    ...opts,
    staleAfterMs: STALE_AFTER_MS,
    locked: (h) =>
      new BbackupError(
        'LOCKED',
        `another bbackup run holds the store lock ${path}: ${describeHolder(h)}. Wait for it (--wait) or stop it.`,
        { path, holder: h },
      ),
  });
}
