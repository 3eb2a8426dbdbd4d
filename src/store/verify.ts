// verify: re-read every stored byte of a backup and compare it with the manifest (and, for tree
// volumes, with their index). Reports every file that differs, is missing or is extra; never
// stops at the first problem. Streams: memory stays flat on big trees.
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { hashFile } from '../backup/hash.js';
import { comparePaths, entryType, readIndex, walkTree } from '../backup/tree-index.js';
import { MANIFEST, rel } from './layout.js';
import { readManifest, type IndexEntry, type Manifest } from './manifest.js';

export interface VerifyProblem {
  /** path relative to the backup folder */
  path: string;
  problem: 'differs' | 'missing' | 'extra';
  detail: string;
}

export interface VerifyReport {
  id: string;
  dir: string;
  files: number;
  bytes: number;
  problems: VerifyProblem[];
}

export interface VerifyOptions {
  signal?: AbortSignal;
  /** bytes read so far of total */
  progress?: (bytes: number, total: number) => void;
}

const exists = (p: string) =>
  lstat(p).then(
    () => true,
    () => false,
  );

export async function verifyBackup(dir: string, opts: VerifyOptions = {}): Promise<VerifyReport> {
  const manifest = await readManifest(dir);
  const report: VerifyReport = { id: manifest.id, dir, files: 0, bytes: 0, problems: [] };
  const total = totalBytes(manifest);
  const tick = (n: number) => {
    report.bytes += n;
    opts.progress?.(report.bytes, total);
  };
  const known = new Set<string>([MANIFEST]);
  for (const item of manifest.items) {
    for (const f of item.files) {
      known.add(f.path);
      await checkFile(dir, f.path, f.size, f.sha256, report, tick, opts.signal);
    }
    if (item.kind === 'volume' && item.format === 'tree') {
      const tree = rel.volumeTree(item.name);
      known.add(tree);
      const index = join(dir, rel.volumeIndex(item.name));
      if (await exists(index)) await checkTree(dir, tree, index, report, tick, opts.signal);
    }
  }
  await findExtras(dir, known, report);
  return report;
}

function totalBytes(m: Manifest): number {
  return m.items.reduce(
    (s, i) => s + i.files.reduce((a, f) => a + f.size, 0) + (i.kind === 'volume' && i.format === 'tree' ? i.bytes : 0),
    0,
  );
}

async function checkFile(
  dir: string,
  path: string,
  size: number | undefined,
  sha256: string | undefined,
  report: VerifyReport,
  tick: (n: number) => void,
  signal?: AbortSignal,
): Promise<void> {
  signal?.throwIfAborted();
  let h: { sha256: string; size: number };
  try {
    h = await hashFile(join(dir, path), signal, tick);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      return void report.problems.push({ path, problem: 'missing', detail: 'file is gone' });
    throw err;
  }
  report.files++;
  if (size !== undefined && h.size !== size)
    report.problems.push({ path, problem: 'differs', detail: `size ${h.size}, expected ${size}` });
  else if (sha256 !== undefined && h.sha256 !== sha256)
    report.problems.push({
      path,
      problem: 'differs',
      detail: `sha256 ${h.sha256.slice(0, 12)}…, expected ${sha256.slice(0, 12)}…`,
    });
}

/** Walk the stored tree and its index side by side (both in the same order). */
async function checkTree(
  dir: string,
  tree: string,
  indexPath: string,
  report: VerifyReport,
  tick: (n: number) => void,
  signal?: AbortSignal,
): Promise<void> {
  const root = join(dir, tree);
  const index = readIndex(indexPath);
  let expected = await index.next();
  const disk = (await exists(root)) ? walkTree(root) : undefined;
  let found = disk ? await disk.next() : undefined;
  const at = (p: string) => (p === '' ? tree : `${tree}/${p}`);
  while (!expected.done || (found && !found.done)) {
    signal?.throwIfAborted();
    const e: IndexEntry | undefined = expected.done ? undefined : expected.value;
    const f = found && !found.done ? found.value : undefined;
    const order = e && f ? comparePaths(e.p, f[0]) : e ? -1 : 1;
    if (order < 0) {
      report.problems.push({
        path: at(e!.p),
        problem: 'missing',
        detail: `${e!.t === 'd' ? 'directory' : 'entry'} listed in the index is not in the backup`,
      });
      expected = await index.next();
    } else if (order > 0) {
      report.problems.push({ path: at(f![0]), problem: 'extra', detail: 'not listed in the index' });
      found = await disk!.next();
    } else {
      const [p, st] = f!;
      const t = entryType(st);
      if (t !== e!.t) report.problems.push({ path: at(p), problem: 'differs', detail: `type ${t}, expected ${e!.t}` });
      else if (t === 'f') await checkFile(dir, at(p), e!.size, e!.sha256, report, tick, signal);
      else if (t === 'l') {
        const target = await readlink(join(root, p));
        if (target !== e!.link)
          report.problems.push({
            path: at(p),
            problem: 'differs',
            detail: `symlink to ${target}, expected ${e!.link}`,
          });
      }
      expected = await index.next();
      found = await disk!.next();
    }
  }
}

/** Files in the backup folder that the manifest does not name (volume trees are checked above). */
async function findExtras(dir: string, known: Set<string>, report: VerifyReport): Promise<void> {
  const parents = new Set<string>();
  for (const k of known) for (let i = k.indexOf('/'); i > 0; i = k.indexOf('/', i + 1)) parents.add(k.slice(0, i));
  const visit = async (relDir: string): Promise<void> => {
    for (const name of (await readdir(relDir === '' ? dir : join(dir, relDir))).sort()) {
      const p = relDir === '' ? name : `${relDir}/${name}`;
      if (known.has(p)) continue;
      if (parents.has(p)) await visit(p);
      else report.problems.push({ path: p, problem: 'extra', detail: 'not named in the manifest' });
    }
  };
  await visit('');
}
