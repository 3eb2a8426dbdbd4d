// The index of a tree snapshot: one IndexEntry per line (volumes/<name>.index.jsonl), in walk
// order (depth first, names sorted by byte value; see comparePaths). Regular files carry sha256.
// A file that is the same inode as the parent snapshot's file at the same path (rsync hard-linked
// it) inherits the parent's hash, so hashing work is proportional to what changed. Both the walk
// and the parent index are streamed side by side (merge join): memory does not grow with the tree.
import { createReadStream, createWriteStream, lstatSync, readdirSync, readlinkSync, unlinkSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { BigIntStats } from 'node:fs';
import type { IndexEntry } from '../store/manifest.js';
import { PRIVATE_FILE } from '../store/private.js';
import { noSkippedDevices, noteDevice, type SkippedDevices } from './devices.js';
import { HashPool } from './hash-pool.js';

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

export async function describeEntry(root: string, rel: string, st: BigIntStats): Promise<IndexEntry> {
  const t = entryType(st);
  const e: IndexEntry = { p: rel, t, mode: Number(st.mode & 0o7777n), uid: Number(st.uid), gid: Number(st.gid), mtime: String(st.mtimeNs) };
  if (t === 'f') e.size = Number(st.size);
  if (t === 'l') e.link = readlinkSync(join(root, rel));
  return e;
}

export interface IndexResult {
  /** logical bytes of regular files */
  bytes: number;
  fileCount: number;
  /** files that had to be hashed (not inherited) */
  hashed: number;
  hashedBytes: number;
  /** device nodes found in the snapshot: removed from it, never indexed (readers leave them out; this is the last line) */
  skippedDevices: SkippedDevices;
}

export interface IndexOptions {
  /** the parent snapshot folder and its index, for hash inheritance */
  parent?: { root: string; index: string };
  signal?: AbortSignal;
  /** between files: pause waits here */
  beforeFile?: () => Promise<void>;
  onHashedBytes?: (n: number) => void;
}

const MAX_IN_FLIGHT = 256;

/** Walk `root`, write `indexPath`, hashing (on all cores) only files that are not hard links to the parent's. */
export async function writeTreeIndex(root: string, indexPath: string, opts: IndexOptions = {}): Promise<IndexResult> {
  const out = createWriteStream(indexPath, { mode: PRIVATE_FILE });
  const closed = new Promise<void>((resolve, reject) => {
    out.on('finish', resolve);
    out.on('error', reject);
  });
  // Lines wait here in walk order until their hash is known.
  const queue: { entry: IndexEntry; hash?: Promise<{ sha256: string; size: number }> }[] = [];
  const drain = async (all: boolean) => {
    while (queue.length > 0 && (all || queue.length > MAX_IN_FLIGHT || queue[0]!.hash === undefined)) {
      const head = queue.shift()!;
      if (head.hash) {
        const h = await head.hash;
        head.entry.sha256 = h.sha256;
        result.hashed++;
        result.hashedBytes += h.size;
        opts.onHashedBytes?.(h.size);
      }
      if (!out.write(`${JSON.stringify(head.entry)}\n`)) await once(out, 'drain');
    }
  };
  const pool = new HashPool();
  const parentIter = opts.parent ? readIndex(opts.parent.index) : undefined;
  let parentNext = parentIter ? await parentIter.next() : undefined;
  const result: IndexResult = { bytes: 0, fileCount: 0, hashed: 0, hashedBytes: 0, skippedDevices: noSkippedDevices() };
  try {
    for await (const [rel, st] of walkTree(root)) {
      opts.signal?.throwIfAborted();
      if (st.isBlockDevice() || st.isCharacterDevice()) {
        unlinkSync(join(root, rel));
        noteDevice(result.skippedDevices, rel);
        continue;
      }
      const entry = await describeEntry(root, rel, st);
      let hash: Promise<{ sha256: string; size: number }> | undefined;
      if (entry.t === 'f') {
        if (opts.beforeFile) await opts.beforeFile();
        // advance the parent index up to this path (merge join on the shared order)
        while (parentIter && parentNext && !parentNext.done && comparePaths(parentNext.value.p, rel) < 0) parentNext = await parentIter.next();
        const candidate = parentNext && !parentNext.done && parentNext.value.p === rel ? parentNext.value : undefined;
        let inherited: string | undefined;
        if (candidate?.sha256 && opts.parent) {
          const pst = lstatSync(join(opts.parent.root, rel), { bigint: true, throwIfNoEntry: false });
          if (pst && pst.ino === st.ino && pst.dev === st.dev) inherited = candidate.sha256;
        }
        if (inherited) entry.sha256 = inherited;
        else {
          hash = pool.hash(join(root, rel));
          hash.catch(() => undefined); // awaited in order by drain(); avoid an unhandled rejection meanwhile
        }
        result.bytes += Number(st.size);
        result.fileCount++;
      }
      queue.push({ entry, hash });
      await drain(false);
    }
    await drain(true);
  } finally {
    await pool.close();
    await parentIter?.return(undefined);
    out.end();
    await closed;
  }
  return result;
}
