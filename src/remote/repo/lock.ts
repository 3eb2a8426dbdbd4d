// The remote lock: locks/<lockId>.json (plaintext) = {format, kind, purpose, host, run, created,
// expires}. Uploads take a shared lock (many may upload at once), the sweep that deletes objects
// an exclusive one, so objects an upload is about to reuse are never deleted under it. Taking a
// lock = write ours, then list the others: two writers that both write first and list second
// cannot both miss each other (listings are consistent after a write on every backend bbackup
// supports). On a conflict we remove ours and wait or give up, so two can back off but never both
// proceed. A lock is live until `expires` (a lease, refreshed while held) or until its run is
// proven dead on this machine (pid, start time, boot id): a killed run blocks nobody for long.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { BbackupError, describeError } from '../../errors.js';
import type { Emit } from '../../events.js';
import { currentRun, describeRun, parseRunIdentity, runLiveness, type RunIdentity } from '../../process-identity.js';
import type { Remote } from '../types.js';
import { LOCKS_DIR, lockKey, REPO_FORMAT } from './format.js';
import { putJson, readJson } from './io.js';

export type LockKind = 'shared' | 'exclusive';

export interface LockDoc {
  format: typeof REPO_FORMAT;
  kind: LockKind;
  /** upload, rotate, ...: shown to whoever waits */
  purpose: string;
  /** the Docker host the run works for */
  host: string;
  run: RunIdentity;
  created: string;
  expires: string;
}

export interface HeldLock {
  key: string;
  release(): Promise<void>;
}

export interface LockOptions {
  kind: LockKind;
  purpose: string;
  host: string;
  signal: AbortSignal;
  emit?: Emit;
  /** lease length (default 30 min); refreshed every third of it */
  leaseMs?: number;
  /** how long to wait for a conflicting lock to go (default 0: fail at once) */
  waitMs?: number;
}

export const DEFAULT_LEASE_MS = 30 * 60 * 1000;
const POLL_MS = 3000;

export interface OtherLock {
  key: string;
  doc?: LockDoc;
  live: boolean;
}

function parseLock(value: unknown): LockDoc | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const d = value as Partial<LockDoc>;
  const run = parseRunIdentity(d.run);
  if (
    d.format !== REPO_FORMAT ||
    (d.kind !== 'shared' && d.kind !== 'exclusive') ||
    !run ||
    typeof d.expires !== 'string' ||
    Number.isNaN(Date.parse(d.expires))
  )
    return undefined;
  return { ...(d as LockDoc), run };
}

/** Every lock file but `own`, each with whether it is live. */
export async function readLocks(remote: Remote, signal: AbortSignal, own?: string): Promise<OtherLock[]> {
  const out: OtherLock[] = [];
  for await (const e of remote.list(LOCKS_DIR, { signal, maxDepth: 1 })) {
    if (e.key === own || !e.key.endsWith('.json')) continue;
    let doc: LockDoc | undefined;
    try {
      doc = parseLock(await readJson(remote, e.key, 64 * 1024, signal));
    } catch (err) {
      if (signal.aborted) throw err;
      if (err instanceof BbackupError && err.code === 'NOT_FOUND') continue; // released meanwhile
    }
    // A lock we cannot read is live for one lease after it was written (newer formats, damage).
    const live = doc
      ? Date.parse(doc.expires) > Date.now() && runLiveness(doc.run) !== 'dead'
      : Date.now() - e.mtime.getTime() < DEFAULT_LEASE_MS;
    out.push({ key: e.key, doc, live });
  }
  return out;
}

export const describeLock = (l: OtherLock): string =>
  l.doc
    ? `${l.doc.kind} lock of ${l.doc.purpose} for host ${l.doc.host} (${describeRun(l.doc.run)}, until ${l.doc.expires})`
    : `unreadable lock ${l.key}`;

export async function acquireRemoteLock(remote: Remote, o: LockOptions): Promise<HeldLock> {
  const leaseMs = o.leaseMs ?? DEFAULT_LEASE_MS;
  const key = lockKey(`${Date.now().toString(36)}-${randomBytes(6).toString('hex')}`);
  const doc = (): LockDoc => {
    const now = Date.now();
    return {
      format: REPO_FORMAT,
      kind: o.kind,
      purpose: o.purpose,
      host: o.host,
      run: currentRun(),
      created: new Date(now).toISOString(),
      expires: new Date(now + leaseMs).toISOString(),
    };
  };
  const deadline = Date.now() + (o.waitMs ?? 0);
  let told = false;
  for (;;) {
    await putJson(remote, key, doc(), o.signal, true);
    const others = (await readLocks(remote, o.signal, key)).filter(
      (l) => l.live && (o.kind === 'exclusive' || l.doc?.kind !== 'shared'),
    );
    if (others.length === 0) break;
    await remote.remove(key, { signal: AbortSignal.timeout(60_000) }).catch(() => undefined);
    const who = others.map(describeLock).join('; ');
    if (Date.now() >= deadline)
      throw new BbackupError('LOCKED', `remote ${remote.name} is locked: ${who}`, { remote: remote.name });
    if (!told)
      o.emit?.({ type: 'log', level: 'info', source: 'remote', msg: `remote ${remote.name}: waiting for ${who}` });
    told = true;
    await sleep(POLL_MS, undefined, { signal: o.signal });
  }
  // Refresh the lease while held; a failed refresh is logged, the next one may work.
  let refreshing: Promise<unknown> | undefined;
  const timer = setInterval(
    () => {
      refreshing ??= putJson(remote, key, doc(), AbortSignal.timeout(60_000), true)
        .catch((err: unknown) =>
          o.emit?.({
            type: 'log',
            level: 'warn',
            source: 'remote',
            msg: `remote ${remote.name}: refreshing the lock failed: ${describeError(err)}`,
          }),
        )
        .finally(() => (refreshing = undefined));
    },
    Math.max(1000, leaseMs / 3),
  );
  timer.unref();
  return {
    key,
    release: async () => {
      clearInterval(timer);
      await refreshing; // a refresh landing after the removal would bring the lock back
      await remote.remove(key, { signal: AbortSignal.timeout(60_000) }).catch(() => undefined);
    },
  };
}
