// A volume tree unpacked on pull, compared with its tree index (itself already checked against the
// manifest): every entry present with its type, mode, owner, size and sha256 (symlinks: their
// target), nothing extra. Index and walk share one order (comparePaths), so they are merged side by
// side: memory stays flat on trees of millions of entries. The index is untrusted input too: a
// malformed or unsorted line is a problem, never a crash.
import { readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { hashFile } from '../backup/hash.js';
import { comparePaths, entryType, walkTree } from '../backup/tree-index.js';
import type { IndexEntry } from '../store/manifest.js';

const MAX_LISTED = 20;
const SHA256 = /^[0-9a-f]{64}$/;
const isId = (v: unknown): boolean => Number.isSafeInteger(v) && (v as number) >= 0;

function parseLine(line: string): IndexEntry | undefined {
  let e: Partial<IndexEntry>;
  try {
    e = JSON.parse(line) as Partial<IndexEntry>;
  } catch {
    return undefined;
  }
  if (typeof e !== 'object' || e === null || typeof e.p !== 'string' || !['f', 'd', 'l', 'o'].includes(e.t as string))
    return undefined;
  if (!isId(e.mode) || !isId(e.uid) || !isId(e.gid)) return undefined;
  if (e.t === 'f' && (!isId(e.size) || typeof e.sha256 !== 'string' || !SHA256.test(e.sha256))) return undefined;
  if (e.t === 'l' && typeof e.link !== 'string') return undefined;
  return e as IndexEntry;
}

async function* indexEntries(path: string, signal?: AbortSignal): AsyncGenerator<IndexEntry | string> {
  let previous: string | undefined;
  let n = 0;
  for await (const line of createInterface({
    input: createReadStream(path, { encoding: 'utf8', signal }),
    crlfDelay: Infinity,
  })) {
    n++;
    if (line.length === 0) continue;
    const e = parseLine(line);
    if (!e) return yield `index line ${n} is malformed`;
    if (previous !== undefined && comparePaths(previous, e.p) >= 0)
      return yield `index line ${n} is out of order or repeated`;
    previous = e.p;
    yield e;
  }
}

/** Problems found (at most 20 listed, then a count); [] when the tree matches its index. */
export async function checkUnpackedTree(root: string, indexPath: string, signal?: AbortSignal): Promise<string[]> {
  const problems: string[] = [];
  let more = 0;
  const add = (p: string) => void (problems.length < MAX_LISTED ? problems.push(p) : more++);
  const index = indexEntries(indexPath, signal);
  const disk = walkTree(root);
  let expected = await index.next();
  let found = await disk.next();
  const shown = (p: string) => (p === '' ? '(volume root)' : p);
  while (!expected.done || !found.done) {
    signal?.throwIfAborted();
    if (typeof expected.value === 'string') {
      add(expected.value);
      break;
    }
    const e = expected.done ? undefined : expected.value;
    const f = found.done ? undefined : found.value;
    const order = e && f ? comparePaths(e.p, f[0]) : e ? -1 : 1;
    if (order < 0) {
      // a socket is listed by the index but never carried by tar: not a loss
      if (e!.t !== 'o') add(`${shown(e!.p)}: listed in the index, missing from the tree`);
      expected = await index.next();
      continue;
    }
    if (order > 0) {
      add(`${shown(f![0])}: in the tree, not listed in the index`);
      found = await disk.next();
      continue;
    }
    const [p, st] = f!;
    const t = entryType(st);
    if (t !== e!.t) add(`${shown(p)}: a ${t} where the index has a ${e!.t}`);
    else if (Number(st.mode & 0o7777n) !== e!.mode || Number(st.uid) !== e!.uid || Number(st.gid) !== e!.gid) {
      add(
        `${shown(p)}: mode ${Number(st.mode & 0o7777n).toString(8)} owner ${st.uid}:${st.gid}, the index says mode ${e!.mode.toString(8)} owner ${e!.uid}:${e!.gid}`,
      );
    } else if (t === 'f') {
      const h = await hashFile(join(root, p), signal);
      if (h.size !== e!.size || h.sha256 !== e!.sha256)
        add(
          `${shown(p)}: ${h.size} bytes sha256 ${h.sha256.slice(0, 12)}…, the index says ${e!.size} bytes sha256 ${e!.sha256!.slice(0, 12)}…`,
        );
    } else if (t === 'l') {
      const target = await readlink(join(root, p));
      if (target !== e!.link) add(`${shown(p)}: symlink to ${target}, the index says ${e!.link}`);
    }
    expected = await index.next();
    found = await disk.next();
  }
  await index.return(undefined);
  await disk.return(undefined);
  if (more > 0) problems.push(`… and ${more} more`);
  return problems;
}
