// File-level restore (README "Restoring single files"): the named paths of one volume of a backup,
// either into a host folder (--to) or into the live volume (--in-place), for both volume formats.
// Order: check the paths against the saved listing (nothing is read or written for a bad one),
// extract them into a private staging folder, check each staged entry against the listing, then
// put each path in place (src/files/place.ts). A failure before the last step changes nothing.
import { lstat, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type Docker from 'dockerode';
import { BbackupError } from '../errors.js';
import type { Manifest, VolumeItem } from '../store/manifest.js';
import { withBackupReader } from '../store/readers.js';
import { stageEntries } from './extract.js';
import { listVolume, type ListedEntry } from './listing.js';
import { placeEntries, stampOf, type PlacedPath } from './place.js';
import { isUnder, normalizeSelection, parentsOf } from './selection.js';

export interface PathRestoreRequest {
  backupDir: string;
  manifest: Manifest;
  volume: string;
  paths: readonly string[];
  /** a host folder to write the paths under (created if missing) */
  to?: string;
  /** into the live volume of the same name */
  inPlace?: boolean;
  /** in place: remove what a restored path replaces instead of keeping it as <name>.bbackup-<time> */
  overwrite?: boolean;
}

export interface PathRestoreDeps {
  docker: Docker;
  /** the engine runs on this machine (a volume's Mountpoint is a folder here) */
  localEngine: boolean;
  /** the store: the backup is registered as being read, so rotation leaves it alone meanwhile */
  store?: string;
  signal?: AbortSignal;
  now?: Date;
}

export interface PathRestoreResult {
  backup: string;
  volume: string;
  /** the folder the paths were written under */
  target: string;
  restored: PlacedPath[];
  /** entries written (files, folders, links) and bytes of file data */
  entries: number;
  bytes: number;
}

export function volumeItemOf(manifest: Manifest, volume: string): VolumeItem {
  const item = manifest.items.find((i): i is VolumeItem => i.kind === 'volume' && i.name === volume);
  if (item) return item;
  const held = manifest.items.filter((i) => i.kind === 'volume').map((i) => i.name);
  throw new BbackupError(
    'NOT_FOUND',
    `backup ${manifest.id} holds no volume ${volume} (it holds: ${held.join(', ') || 'no volumes'})`,
    { volume },
  );
}

/** The Mountpoint of a live volume, when it is a folder this process can use. */
export async function liveVolumeFolder(docker: Docker, volume: string, localEngine: boolean): Promise<string> {
  const info = (await docker
    .getVolume(volume)
    .inspect()
    .catch((err: unknown) => {
      throw new BbackupError(
        'NOT_FOUND',
        `there is no live volume ${volume} on this engine (restore the whole volume, or use --to DIR)`,
        { volume },
        { cause: err },
      );
    })) as { Mountpoint?: string };
  const mp = info.Mountpoint;
  const st = localEngine && mp ? await lstat(mp).catch(() => undefined) : undefined;
  if (!mp || !st?.isDirectory())
    throw new BbackupError(
      'USAGE',
      `volume ${volume}: its Mountpoint is not a folder on this machine (a remote engine, or a volume driver); file-level work on the live volume needs it — use --to DIR`,
      { volume },
    );
  return mp;
}

export async function restorePaths(r: PathRestoreRequest, deps: PathRestoreDeps): Promise<PathRestoreResult> {
  if (Boolean(r.to) === Boolean(r.inPlace))
    throw new BbackupError('USAGE', 'say where the files go: --to DIR (a host folder) or --in-place (the live volume)');
  if (r.overwrite && !r.inPlace && !r.to) throw new BbackupError('USAGE', '--overwrite needs --in-place or --to');
  const tops = normalizeSelection(r.paths);
  const item = volumeItemOf(r.manifest, r.volume);
  const target = r.to ? resolve(r.to) : await liveVolumeFolder(deps.docker, r.volume, deps.localEngine);
  const stamp = stampOf(deps.now ?? new Date());
  const run = async (): Promise<PathRestoreResult> => {
    const { entries, parents } = await selectEntries(r.backupDir, item, tops, deps.signal);
    if (r.to) await mkdir(target, { recursive: true, mode: 0o700 });
    const staging = await mkdtemp(join(await stagingParent(target, Boolean(r.inPlace)), `.bbackup-staging-${stamp}-`));
    try {
      await stageEntries({ backupDir: r.backupDir, item, staging, entries, tops, signal: deps.signal });
      if (deps.signal?.aborted) throw new BbackupError('CANCELLED', 'file restore cancelled; nothing was written');
      const restored = await placeEntries({
        staging,
        target,
        targetName: r.inPlace ? `volume ${r.volume}` : target,
        tops,
        parents,
        stamp,
        overwrite: r.overwrite ?? false,
      });
      const bytes = entries.reduce((n, e) => n + (e.t === 'f' ? (e.size ?? 0) : 0), 0);
      return { backup: r.manifest.id, volume: r.volume, target, restored, entries: entries.length, bytes };
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  };
  return deps.store ? withBackupReader(deps.store, r.backupDir, 'restore', run, deps.signal) : run();
}

/**
 * Staging must be on the target's filesystem (rename). A volume's Mountpoint (…/volumes/NAME/_data)
 * has a parent the container never sees: stage there when it is the same filesystem.
 */
async function stagingParent(target: string, inPlace: boolean): Promise<string> {
  if (!inPlace) return target;
  const [a, b] = await Promise.all([lstat(target), lstat(dirname(target)).catch(() => undefined)]);
  return b && b.dev === a.dev ? dirname(target) : target;
}

/** The listing's entries under the selected paths, and the saved parents of those paths; refuses a path not in the backup. */
export async function selectEntries(
  backupDir: string,
  item: VolumeItem,
  tops: string[],
  signal?: AbortSignal,
): Promise<{ entries: ListedEntry[]; parents: Map<string, ListedEntry> }> {
  const wantedParents = new Set(tops.flatMap(parentsOf));
  const entries: ListedEntry[] = [];
  const parents = new Map<string, ListedEntry>();
  for await (const e of listVolume(backupDir, item, { signal, hash: true })) {
    if (wantedParents.has(e.p)) parents.set(e.p, e);
    if (tops.some((t) => isUnder(e.p, t))) entries.push(e);
  }
  for (const top of tops) {
    // a parent that is a symlink (or a file) in the backup: the path does not exist through it
    const bad = parentsOf(top).find((q) => parents.has(q) && parents.get(q)!.t !== 'd');
    if (bad !== undefined)
      throw new BbackupError('NOT_FOUND', `path "${top}": "${bad}" is not a folder in the backup`, { path: top });
    if (!entries.some((e) => e.p === top))
      throw new BbackupError(
        'NOT_FOUND',
        `path "${top}" is not in volume ${item.name} of this backup (browse it with the TUI, or compare with bbackup diff)`,
        { path: top },
      );
  }
  return { entries, parents };
}
