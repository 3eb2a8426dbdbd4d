// Durability: after a power cut, a folder that looks like a complete backup IS complete.
//
// A backup becomes complete with one rename, <id>.partial -> <id> (src/jobs/backup-run.ts). The
// kernel may write dirty pages and metadata in any order, so without a flush a power cut could
// leave <id> renamed but holding empty or missing files. The order that rules this out:
//
//   1. syncTree(<id>.partial): syncfs(2) of the store's filesystem (`sync -f`). It writes back
//      every dirty inode and data page of that filesystem and then commits its journal (ext4,
//      xfs, btrfs: the sync_fs operation with wait=1), so every file, hard link, directory entry
//      and mode written before the call, by us, rsync, tar or a worker container (the same kernel
//      and filesystem through a bind mount), is on disk when it returns. That includes the
//      store root and host folder if this run created them. It reports writeback errors
//      (Linux >= 5.8), and coreutils `sync` exits non-zero on them.
//   2. rename(<id>.partial, <id>): atomic; after a crash the folder has one name or the other.
//   3. fsyncDir(<host folder>): the rename itself reaches the disk before we report success or
//      let rotation delete older backups.
//
// Why not fsync every file: a 1 GiB tree of 10,000 files took ~1 s with one syncfs, 10-14 s with
// an fsync per file and 22-27 s with `rsync --fsync` on this machine kind (README "What a run
// does"). syncfs also flushes other programs' dirty data on the same filesystem; that data would
// be written within seconds anyway (vm.dirty_expire), so the cost is bounded by dirty memory,
// not by the tree's size. Incremental runs only dirty what changed (hard links dirty inodes, not
// data), so their flush is small.
//
// Where we write few files ourselves (the local remote), an fsync per file and per folder is
// exact and cheap, and does not flush a whole (maybe network) filesystem: fsyncFile / fsyncDirs.
import { open, readdir } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { execa } from 'execa';
import { BbackupError, lastLines } from '../errors.js';

/** Flush everything written under `dir` to disk; rejects when the data may not be there. */
export type SyncTree = (dir: string, signal: AbortSignal) => Promise<void>;

/** syncfs(2) of the filesystem holding `dir`, through coreutils `sync -f` (Node has no syncfs). */
export const syncFilesystem: SyncTree = async (dir, signal) => {
  signal.throwIfAborted();
  const r = await execa('sync', ['-f', dir], {
    reject: false,
    stdin: 'ignore',
    cancelSignal: signal,
    forceKillAfterDelay: 5000,
  });
  if (r.isCanceled) signal.throwIfAborted();
  if (r.exitCode !== 0 || r.signal) {
    const why = lastLines(String(r.stderr ?? ''), 3) || r.message || `exit ${r.exitCode}`;
    throw new BbackupError('DISK', `could not flush ${dir} to disk (sync -f): ${why}`, { path: dir, stderr: r.stderr });
  }
};

/** Filesystems that cannot fsync a directory (some FUSE, CIFS) say so; that is not a failure. */
const UNSUPPORTED = new Set(['EINVAL', 'ENOTSUP', 'EOPNOTSUPP', 'EISDIR', 'EBADF']);

async function fsyncPath(path: string, dir: boolean): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } catch (err) {
    if (!(dir && UNSUPPORTED.has((err as NodeJS.ErrnoException).code ?? ''))) throw err;
  } finally {
    await fh.close();
  }
}

/** fsync(2) a folder: its entries (names created, renamed, removed in it) reach the disk. */
export const fsyncDir = (dir: string): Promise<void> => fsyncPath(dir, true);

/** fsync every folder under `root` (deepest first) and `root` itself; files are the caller's. */
export async function fsyncDirs(root: string): Promise<void> {
  for (const e of await readdir(root, { withFileTypes: true }))
    if (e.isDirectory()) await fsyncDirs(join(root, e.name));
  await fsyncDir(root);
}

/** fsync the folders from dirname(path) up to and including `top` (new folders' own entries). */
export async function fsyncParents(path: string, top: string): Promise<void> {
  for (let d = dirname(path); ; d = dirname(d)) {
    await fsyncDir(d);
    const r = relative(top, d);
    if (r === '' || r.startsWith('..') || d === dirname(d)) return;
  }
}
