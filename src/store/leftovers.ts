// What killed runs leave in a host folder, removed by the next run that holds the host's lock
// (a backup, next to the .partial folders; `bbackup rotate`). Never anything of a live run:
// - .removing-<id>: a rotation cut short. Only the lock holder makes and removes them, so while we
//   hold the lock every one of them is a dead holder's.
// - .pull-*: a pull's work folder. A pull writes its reader mark (naming the folder) before it
//   creates the folder, and the folder names are listed here before the marks are read: a live
//   pull's folder always has a live mark by then.
// - reader marks of dead runs, and the temporary names of locks and marks that a kill interrupted
//   (removed once older than the stale age; they live for milliseconds).
import { lstat, readdir, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { LOCK } from './layout.js';
import { CLAIM_SUFFIX } from './lock-file.js';
import { STALE_AFTER_MS } from './lock.js';
import { GATE, READER_PREFIX, readMarks } from './readers.js';
import { REMOVING_PREFIX } from './remove-backup.js';

export const PULL_PREFIX = '.pull-';

const list = (dir: string) =>
  readdir(dir).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? [] : Promise.reject(err)));

/** Remove leftovers of dead runs; call only while holding the host's lock. Returns the folders removed. */
export async function removeLeftovers(hostFolder: string, now = Date.now()): Promise<string[]> {
  const names = await list(hostFolder);
  const marks = await readMarks(hostFolder, now);
  const liveWork = new Set(marks.filter((m) => m.live && m.mark?.work).map((m) => m.mark!.work!));
  const removed: string[] = [];
  for (const n of names) {
    if (n.startsWith(REMOVING_PREFIX) || (n.startsWith(PULL_PREFIX) && !liveWork.has(n))) {
      await rm(join(hostFolder, n), { recursive: true, force: true });
      removed.push(n);
    }
  }
  for (const m of marks.filter((x) => !x.live)) await unlink(join(hostFolder, m.name)).catch(() => undefined);
  const temporary = (n: string) =>
    n.startsWith(`${LOCK}.`) || n.startsWith(`${GATE}.`) || (n.startsWith(READER_PREFIX) && n.endsWith('.tmp'));
  await removeOldTemporaries(hostFolder, names.filter(temporary), now);
  return removed;
}

/** Temporary and set-aside names (never a lock's removal claim, which lock-file.ts ages itself). */
async function removeOldTemporaries(dir: string, names: string[], now: number): Promise<void> {
  for (const n of names.filter((x) => !x.endsWith(CLAIM_SUFFIX))) {
    const st = await lstat(join(dir, n)).catch(() => undefined);
    if (st && now - st.ctimeMs > STALE_AFTER_MS) await unlink(join(dir, n)).catch(() => undefined);
  }
}
