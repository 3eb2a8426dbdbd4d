// Checking what is about to be restored against the manifest: stored files by size and sha256, and a
// tree snapshot against its index (every entry present with its type, size, content and link target,
// and nothing extra). A mismatch refuses the restore (unless --no-verify) before anything is touched.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, opendir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { FileEntry, IndexEntry } from '../store/manifest.js';

export interface VerifyOptions {
  signal?: AbortSignal;
  onBytes?: (n: number) => void;
}

export const MAX_LISTED = 20;

export async function sha256File(path: string, o: VerifyOptions = {}): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path, {
    highWaterMark: 1 << 20,
    signal: o.signal,
  }) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    size += chunk.length;
    o.onBytes?.(chunk.length);
  }
  return { sha256: hash.digest('hex'), size };
}

/** undefined when the file matches its manifest entry, else what is wrong with it. */
export async function checkFile(
  backupDir: string,
  entry: FileEntry | undefined,
  expectedPath: string,
  o: VerifyOptions = {},
): Promise<string | undefined> {
  if (!entry) return `${expectedPath}: the manifest lists no size and checksum for it`;
  const path = join(backupDir, ...entry.path.split('/'));
  const st = await lstat(path).catch(() => undefined);
  if (!st?.isFile()) return `${entry.path}: missing`;
  if (st.size !== entry.size) return `${entry.path}: ${st.size} bytes, the manifest says ${entry.size}`;
  const { sha256 } = await sha256File(path, o);
  if (sha256 !== entry.sha256)
    return `${entry.path}: sha256 ${sha256.slice(0, 12)}… differs from the manifest's ${entry.sha256.slice(0, 12)}…`;
  return undefined;
}

const TYPE_OK: Record<IndexEntry['t'], (s: import('node:fs').Stats) => boolean> = {
  f: (s) => s.isFile(),
  d: (s) => s.isDirectory(),
  l: (s) => s.isSymbolicLink(),
  o: (s) => !s.isFile() && !s.isDirectory() && !s.isSymbolicLink(),
};

/** Compare a tree snapshot with its index (one IndexEntry per line). Returns the problems found. */
export async function checkTree(treeDir: string, indexFile: string, o: VerifyOptions = {}): Promise<string[]> {
  const problems: string[] = [];
  const add = (p: string) => void (problems.length < MAX_LISTED ? problems.push(p) : undefined);
  let listed = 0;
  const lines = createInterface({ input: createReadStream(indexFile, { signal: o.signal }), crlfDelay: Infinity });
  for await (const line of lines) {
    if (!line.trim()) continue;
    let e: IndexEntry;
    try {
      e = JSON.parse(line) as IndexEntry;
    } catch {
      add(`index line ${listed + 1} is not JSON`);
      continue;
    }
    if (e.p !== '') listed++;
    const path = e.p === '' ? treeDir : join(treeDir, ...e.p.split('/'));
    const st = await lstat(path).catch(() => undefined);
    const shown = e.p || '(volume root)';
    if (!st) {
      add(`${shown}: missing from the snapshot`);
      continue;
    }
    if (!TYPE_OK[e.t](st)) {
      add(
        `${shown}: expected a ${e.t === 'f' ? 'file' : e.t === 'd' ? 'directory' : e.t === 'l' ? 'symlink' : 'special file'}`,
      );
      continue;
    }
    if (e.t === 'l' && e.link !== undefined && (await readlink(path)) !== e.link)
      add(`${shown}: symlink target differs from the index`);
    if (e.t !== 'f') continue;
    if (e.size !== undefined && st.size !== e.size) add(`${shown}: ${st.size} bytes, the index says ${e.size}`);
    else if (e.sha256 && (await sha256File(path, o)).sha256 !== e.sha256)
      add(`${shown}: content differs from the index (sha256)`);
  }
  const present = await countEntries(treeDir);
  if (present !== listed) add(`the snapshot holds ${present} entries, the index lists ${listed}`);
  return problems;
}

async function countEntries(dir: string): Promise<number> {
  let n = 0;
  for await (const d of await opendir(dir)) {
    n++;
    if (d.isDirectory()) n += await countEntries(join(dir, d.name));
  }
  return n;
}
