// A tree's skeleton: everything of a volume tree except the contents of its regular files, as one
// POSIX tar (GNU tar): directories, symlinks, fifos, hard links, and every regular file empty, with
// numeric owners, modes, nanosecond mtimes, xattrs and ACLs. Contents travel as objects; the tree
// index says which file holds which content. The stock tools rebuild a tree from both (docs/FORMAT.md).
//
// Made without reading a byte of content: in-process from a walk when the tree has no extended
// attributes, ACLs or devices (skeleton-tar.ts); otherwise `cp -a --attributes-only` copies the
// tree's structure and attributes into a scratch folder (empty files), and tar archives that.
// Names sorted and atime/ctime left out, so an unchanged tree gives the same bytes (one object,
// sent once).
import { createReadStream } from 'node:fs';
import { mkdir, readdir, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { TarGate } from '../../archive/tar-gate.js';
import { BbackupError, isAbortError, lastLines } from '../../errors.js';
import { runChain } from '../proc-stream.js';
import { writeSkeletonTar } from './skeleton-tar.js';

/** GNU tar's options for a skeleton (skeleton-tar.ts writes the same bytes in-process) */
export const TAR_CREATE = [
  '--sort=name',
  '--format=posix',
  '--pax-option=delete=atime,delete=ctime',
  '--numeric-owner',
  '--xattrs',
  '--xattrs-include=*',
  '--acls',
];
const TAR_EXTRACT = [
  '--numeric-owner',
  '--same-owner',
  '--same-permissions',
  '--xattrs',
  '--xattrs-include=*',
  '--acls',
];

async function run(file: string, args: string[], what: string, signal: AbortSignal): Promise<void> {
  try {
    await execa(file, args, { cancelSignal: signal, forceKillAfterDelay: 3000, stdin: 'ignore', env: { LC_ALL: 'C' } });
  } catch (err) {
    if (isAbortError(err) || signal.aborted) throw err;
    const stderr = lastLines((err as { stderr?: string }).stderr, 10);
    throw new BbackupError(
      'TOOL_FAILED',
      `${what}: ${file} failed${stderr ? `: ${stderr}` : ''}`,
      { stderr },
      { cause: err },
    );
  }
}

/** Write the skeleton of `tree` to `out` (a file), using `scratch` (must not exist) on the same filesystem. */
export async function makeSkeleton(tree: string, scratch: string, out: string, signal: AbortSignal): Promise<void> {
  if (await writeSkeletonTar(tree, out, signal)) return;
  try {
    await run('cp', ['-a', '--attributes-only', '-T', tree, scratch], `copying the structure of ${tree}`, signal);
    await run('tar', ['-C', scratch, ...TAR_CREATE, '-cf', out, '.'], `archiving the structure of ${tree}`, signal);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/**
 * Extract a skeleton into `dir` (existing, empty) through the archive gate: the skeleton comes from
 * a remote, so nothing absolute, no "..", nothing through a symlink, no hard link out, no device.
 */
export async function extractSkeleton(skeleton: string, dir: string, signal: AbortSignal, what: string): Promise<void> {
  const gate = new TarGate(what);
  const gated = new Promise<void>((resolve, reject) => {
    gate.on('finish', resolve);
    gate.on('error', reject);
  });
  gated.catch(() => undefined);
  const src = createReadStream(skeleton, { highWaterMark: 1 << 20 });
  src.on('error', (err) => gate.destroy(err));
  src.pipe(gate);
  const out = runChain([{ file: 'tar', args: ['-C', dir, ...TAR_EXTRACT, '-xf', '-'], env: { LC_ALL: 'C' } }], {
    signal,
    input: gate,
    what: `unpacking ${what}`,
  });
  out.resume();
  try {
    await new Promise<void>((resolve, reject) => {
      out.on('end', resolve);
      out.on('error', reject);
    });
  } catch (err) {
    throw gate.error ?? err;
  }
  await gated;
}

/**
 * Writing contents into the skeleton's files moved their mtimes (and the kernel drops
 * security.capability on write). Put the skeleton's attributes back: extract it again into
 * `scratch`, keep only its regular files and folders (cp would refuse to copy a symlink or fifo
 * onto the existing one), and copy attributes only — never contents — onto `dir`.
 */
export async function restoreAttributes(
  skeleton: string,
  dir: string,
  scratch: string,
  signal: AbortSignal,
  what: string,
): Promise<void> {
  try {
    await mkdir(scratch, { mode: 0o700 });
    await extractSkeleton(skeleton, scratch, signal, what);
    await pruneSpecial(scratch, signal);
    await run(
      'cp',
      ['-a', '--attributes-only', '--no-preserve=links', '-T', scratch, dir],
      `restoring the attributes of ${what}`,
      signal,
    );
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

async function pruneSpecial(dir: string, signal: AbortSignal): Promise<void> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    signal.throwIfAborted();
    const p = join(dir, e.name);
    if (e.isDirectory()) await pruneSpecial(p, signal);
    else if (!e.isFile()) await unlink(p);
  }
}
