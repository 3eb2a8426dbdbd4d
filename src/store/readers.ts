// Readers of a backup: restore, pull and verify do not take the host's exclusive lock (a restore
// must not wait for a long backup), but rotation must never delete a backup one of them uses. Each
// reader leaves a mark, <host folder>/.reader-<runId>-<n>.json = {run identity, backup id,
// purpose, work folder}, refreshed like a heartbeat (the file's mtime) and removed when done
// (files next to the backups, not a folder: a reader that is done leaves nothing behind).
// A mark is live while its run is alive (run identity, exact on this machine) or, for a run we
// cannot probe (another machine), while its mtime is younger than STALE_AFTER_MS.
//
// Why no reader can lose its backup: a reader writes its mark and checks that the backup still
// exists while holding the readers' gate (.readers.gate, a lock held for milliseconds); rotation
// (remove-backup.ts) reads the marks and renames <id> to .removing-<id> while holding the same gate.
// The gate orders the two: either the mark was written first, then rotation sees it and keeps the
// backup; or the rename came first, then the reader finds the backup gone and fails cleanly before
// reading a byte. Without the gate (mark, then check; rename, then re-check marks and rename back)
// a reader that checked just before the rename would see its files vanish for a moment.
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, open, readdir, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { BbackupError } from '../errors.js';
import { currentRun, parseRunIdentity, runLiveness, type RunIdentity } from '../process-identity.js';
import { BACKUP_ID_RE, MANIFEST } from './layout.js';
import { HEARTBEAT_MS, STALE_AFTER_MS, takeLock } from './lock.js';

export const READER_PREFIX = '.reader-';
export const GATE = '.readers.gate';
/** The gate is held for milliseconds; a holder on another machine silent this long is gone. */
const GATE_STALE_MS = 30_000;

export type ReaderPurpose = 'restore' | 'pull' | 'verify';

export interface ReaderMark {
  version: 1;
  run: RunIdentity;
  backup: string;
  purpose: ReaderPurpose;
  started: string;
  /** pull: its work folder in the host folder (.pull-*), so leftovers can be told from live work */
  work?: string;
}

export interface MarkFile {
  name: string;
  mark?: ReaderMark;
  live: boolean;
}

export interface ReaderHandle {
  release(): Promise<void>;
}

const code = (err: unknown) => (err as NodeJS.ErrnoException).code;

/** Run `fn` holding the readers' gate of a host folder. */
export async function withReadersGate<T>(hostFolder: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  await mkdir(hostFolder, { recursive: true, mode: 0o700 });
  const gate = await takeLock(join(hostFolder, GATE), {
    wait: true,
    signal,
    pollMs: 20,
    staleAfterMs: GATE_STALE_MS,
    locked: () => new BbackupError('LOCKED', `the readers' gate of ${hostFolder} is held`),
  });
  try {
    return await fn();
  } finally {
    await gate.release();
  }
}

/**
 * Mark backup `backupId` of a host folder as in use until release(). Unless `mustExist` is false
 * (pull, which is about to create it), fails with NOT_FOUND when the backup is no longer there.
 */
export async function registerReader(
  hostFolder: string,
  backupId: string,
  purpose: ReaderPurpose,
  o: { mustExist?: boolean; work?: string; signal?: AbortSignal } = {},
): Promise<ReaderHandle> {
  const run = currentRun();
  const mark: ReaderMark = {
    version: 1,
    run,
    backup: backupId,
    purpose,
    started: new Date().toISOString(),
    work: o.work,
  };
  const path = join(hostFolder, `${READER_PREFIX}${run.runId}-${randomBytes(3).toString('hex')}.json`);
  const handle = await withReadersGate(
    hostFolder,
    async () => {
      if (
        o.mustExist !== false &&
        !(await lstat(join(hostFolder, backupId, MANIFEST)).then(
          () => true,
          () => false,
        ))
      ) {
        throw new BbackupError('NOT_FOUND', `backup ${backupId} is no longer in ${hostFolder} (removed by rotation?)`, {
          id: backupId,
        });
      }
      return writeMark(path, mark);
    },
    o.signal,
  );
  const timer = setInterval(() => {
    const t = new Date();
    void handle.utimes(t, t).catch(() => undefined);
  }, HEARTBEAT_MS);
  timer.unref();
  let released: Promise<void> | undefined;
  return {
    release: () =>
      (released ??= (async () => {
        clearInterval(timer);
        await unlink(path).catch(() => undefined);
        await handle.close().catch(() => undefined);
      })()),
  };
}

/** Written whole under a temporary name, then renamed: a mark is never seen half-written. */
async function writeMark(path: string, mark: ReaderMark): Promise<FileHandle> {
  const tmp = `${path}.tmp`;
  const handle = await open(tmp, 'wx', 0o600);
  try {
    await handle.writeFile(`${JSON.stringify(mark)}\n`);
    await handle.sync();
    await rename(tmp, path);
    return handle;
  } catch (err) {
    await handle.close();
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}

/** Every mark of a host folder, with whether it is live. */
export async function readMarks(hostFolder: string, now = Date.now()): Promise<MarkFile[]> {
  const dir = hostFolder;
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.startsWith(READER_PREFIX) && n.endsWith('.json'));
  } catch (err) {
    if (code(err) === 'ENOENT') return [];
    throw err;
  }
  const marks: MarkFile[] = [];
  for (const name of names) {
    let text: string;
    let mtimeMs: number;
    try {
      const h = await open(join(dir, name), 'r');
      try {
        mtimeMs = (await h.stat()).mtimeMs;
        text = await h.readFile('utf8');
      } finally {
        await h.close();
      }
    } catch (err) {
      if (code(err) === 'ENOENT') continue; // released meanwhile
      throw err;
    }
    const mark = parseMark(text);
    const liveness = mark ? runLiveness(mark.run) : 'unknown';
    marks.push({
      name,
      mark,
      live: liveness === 'alive' || (liveness === 'unknown' && now - mtimeMs <= STALE_AFTER_MS),
    });
  }
  return marks;
}

function parseMark(text: string): ReaderMark | undefined {
  try {
    const v = JSON.parse(text) as Partial<ReaderMark>;
    const run = parseRunIdentity(v.run);
    if (!run || typeof v.backup !== 'string') return undefined;
    return {
      version: 1,
      run,
      backup: v.backup,
      purpose: v.purpose ?? 'restore',
      started: String(v.started ?? ''),
      work: typeof v.work === 'string' ? v.work : undefined,
    };
  } catch {
    return undefined;
  }
}

export const describeReader = (m: ReaderMark): string =>
  `${m.purpose} pid ${m.run.pid}${m.run.hostname === currentRun().hostname ? '' : ` on ${m.run.hostname}`}`;

/**
 * Register as a reader of the backup folder `dir` when it is a backup of the store `store`
 * (<store>/<host>/<id>); a folder elsewhere (a copy on a USB disk) is not rotated by us and gets
 * no mark (undefined).
 */
export async function readerForDir(
  store: string,
  dir: string,
  purpose: ReaderPurpose,
  signal?: AbortSignal,
): Promise<ReaderHandle | undefined> {
  const full = resolve(dir);
  const hostFolder = dirname(full);
  if (dirname(hostFolder) !== resolve(store) || !BACKUP_ID_RE.test(basename(full))) return undefined;
  return registerReader(hostFolder, basename(full), purpose, { signal });
}

/** Run `fn` as a reader of the backup folder `dir` (see readerForDir). */
export async function withBackupReader<T>(
  store: string,
  dir: string,
  purpose: ReaderPurpose,
  fn: () => Promise<T>,
  signal?: AbortSignal,
): Promise<T> {
  const reader = await readerForDir(store, dir, purpose, signal);
  try {
    return await fn();
  } finally {
    await reader?.release();
  }
}
