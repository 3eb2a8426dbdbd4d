// Moving staged entries into the target (a live volume's folder, or a host folder): every path is
// checked before anything moves (each parent folder in the target must be a real folder, never a
// symlink: nothing is written through one), then each selected path is put in place by rename(2)
// from a staging folder on the same filesystem, so a reader sees the old or the new entry, never
// half of one. What it replaces is kept next to it as <name>.bbackup-<UTC time>, or, with
// overwrite, removed once the new entry is in place.
import { chmod, chown, lstat, mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { BbackupError } from '../errors.js';
import type { ListedEntry } from './listing.js';
import { parentsOf } from './selection.js';

export interface PlaceOptions {
  staging: string;
  /** the folder the volume's paths are relative to */
  target: string;
  /** what the target is, for messages ("volume data", "/srv/out") */
  targetName: string;
  tops: string[];
  /** saved entries of the selected paths' parent folders: created with their owner and mode */
  parents: Map<string, ListedEntry>;
  stamp: string;
  overwrite: boolean;
}

export interface PlacedPath {
  path: string;
  /** where the entry it replaced was kept (relative to the target); absent when there was none or it was removed */
  keptAs?: string;
  replaced: boolean;
}

/** The suffix of a kept copy: UTC to the second, sortable (20261202T091945Z). */
export const stampOf = (d: Date): string =>
  d
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');

export async function placeEntries(o: PlaceOptions): Promise<PlacedPath[]> {
  await assertFolder(o.target, o.targetName, '');
  for (const top of o.tops)
    for (const q of parentsOf(top)) await assertFolder(join(o.target, q), o.targetName, q, true);
  const trash = join(o.staging, '.replaced');
  const placed: PlacedPath[] = [];
  for (const [i, top] of o.tops.entries()) {
    for (const q of parentsOf(top)) await ensureFolder(join(o.target, q), o.parents.get(q), o.targetName, q);
    const dest = join(o.target, top);
    const old = await lstat(dest).catch(() => undefined);
    let keptAs: string | undefined;
    if (old) {
      if (o.overwrite) {
        await mkdir(trash, { recursive: true, mode: 0o700 });
        await rename(dest, join(trash, String(i)));
      } else {
        keptAs = await freeName(o.target, `${top}.bbackup-${o.stamp}`);
        await rename(dest, join(o.target, keptAs));
      }
    }
    await rename(join(o.staging, top), dest).catch((err: unknown) => {
      throw new BbackupError(
        (err as NodeJS.ErrnoException).code === 'EXDEV' ? 'INTERNAL' : 'DISK',
        `could not put ${top} in place in ${o.targetName}: ${(err as Error).message}`,
        { path: top },
        { cause: err },
      );
    });
    placed.push({ path: top, replaced: old !== undefined, ...(keptAs ? { keptAs } : {}) });
  }
  await rm(trash, { recursive: true, force: true });
  return placed;
}

/** path is a real folder, or (missingOk) absent; never a symlink or a file. */
async function assertFolder(path: string, targetName: string, rel: string, missingOk = false): Promise<void> {
  const st = await lstat(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT' && missingOk) return undefined;
    throw new BbackupError('NOT_FOUND', `${targetName}: ${rel || 'the target folder'} cannot be read: ${err.message}`, {
      path,
    });
  });
  if (!st || st.isDirectory()) return;
  const what = st.isSymbolicLink() ? 'is a symlink' : 'is not a folder';
  throw new BbackupError(
    'CONFLICT',
    `${targetName}: ${rel || 'the target folder'} ${what}; bbackup never writes through it (move it away, or restore with --to DIR)`,
    { path },
  );
}

async function ensureFolder(
  path: string,
  saved: ListedEntry | undefined,
  targetName: string,
  rel: string,
): Promise<void> {
  const st = await lstat(path).catch(() => undefined);
  if (st) return assertFolder(path, targetName, rel);
  await mkdir(path, { mode: 0o700 });
  if (saved) {
    await chown(path, saved.uid, saved.gid);
    await chmod(path, saved.mode);
  } else await chmod(path, 0o755);
}

async function freeName(target: string, wanted: string): Promise<string> {
  for (let n = 1; ; n++) {
    const name = n === 1 ? wanted : `${wanted}-${n}`;
    if (!(await lstat(join(target, name)).catch(() => undefined))) return name;
  }
}
