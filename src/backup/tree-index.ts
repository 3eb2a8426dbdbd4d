// The index of a tree snapshot: one IndexEntry per line (volumes/<name>.index.jsonl), in walk
// order (depth first, names sorted by UTF-16 code units; see comparePaths). Regular files carry
// sha256. bbcopy writes it while it copies (native/tree.c, the same order); this module reads
// it back, and walks a stored tree in the same order so verify can merge the two side by side
// (memory does not grow with the tree).
import { createReadStream, lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { BigIntStats } from 'node:fs';
import type { IndexEntry } from '../store/manifest.js';

/** Order of index lines: component by component, each compared by UTF-16 code units. */
export function comparePaths(a: string, b: string): number {
  const pa = a === '' ? [] : a.split('/');
  const pb = b === '' ? [] : b.split('/');
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    if (pa[i] !== pb[i]) return pa[i]! < pb[i]! ? -1 : 1;
  }
  return pa.length - pb.length;
}

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Every entry under root as [relative path, Stats], depth first, sorted; the root is "".
 * Blocking lstat/readdir are several times faster than their async forms for many small
 * entries; the walk yields to the event loop every few hundred entries so timers still run.
 */
export async function* walkTree(root: string): AsyncGenerator<[string, BigIntStats]> {
  const stack: string[] = [''];
  let sinceYield = 0;
  while (stack.length > 0) {
    const rel = stack.pop()!;
    const abs = rel === '' ? root : join(root, rel);
    const st = lstatSync(abs, { bigint: true });
    yield [rel, st];
    if (st.isDirectory()) {
      const names = readdirSync(abs).sort(byName);
      // push in reverse so the smallest name is walked first
      for (let i = names.length - 1; i >= 0; i--) stack.push(rel === '' ? names[i]! : `${rel}/${names[i]}`);
    }
    if (++sinceYield >= 256) {
      sinceYield = 0;
      await new Promise((r) => setImmediate(r));
    }
  }
}

/** Streams an index file's entries in order. */
export async function* readIndex(path: string): AsyncGenerator<IndexEntry> {
  const lines = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  for await (const line of lines) if (line.length > 0) yield JSON.parse(line) as IndexEntry;
}

export function entryType(st: BigIntStats): IndexEntry['t'] {
  return st.isFile() ? 'f' : st.isDirectory() ? 'd' : st.isSymbolicLink() ? 'l' : 'o';
}
