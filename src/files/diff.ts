// A saved volume against the live one (README "Comparing a backup with the live volume"): paths
// added since the backup, removed since, and changed (type, size, mtime, owner, mode, link target;
// with deep, the content of files whose size and mtime match, by sha256). Folder mtimes are left
// out: they change whenever an entry inside does, which the list shows already. Both sides are
// walked in the index's order and merged, so memory stays flat for tree backups (an archive's
// listing is sorted in memory first).
import type { BigIntStats } from 'node:fs';
import { readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { comparePaths, entryType, walkTree } from '../backup/tree-index.js';
import type { VolumeItem } from '../store/manifest.js';
import { sha256File } from './extract.js';
import { listVolume, type ListedEntry } from './listing.js';

export type DiffField = 'type' | 'size' | 'mtime' | 'owner' | 'mode' | 'link' | 'content';

export interface EntrySummary {
  t: ListedEntry['t'];
  size?: number;
  mode: number;
  uid: number;
  gid: number;
  /** ns since the epoch, decimal */
  mtime: string;
}

export interface DiffEntry {
  path: string;
  change: 'added' | 'removed' | 'changed';
  /** what differs (changed only) */
  fields?: DiffField[];
  saved?: EntrySummary;
  live?: EntrySummary;
}

export interface DiffOptions {
  backupDir: string;
  item: VolumeItem;
  /** the live volume's folder */
  live: string;
  deep?: boolean;
  signal?: AbortSignal;
}

export async function* diffVolume(o: DiffOptions): AsyncGenerator<DiffEntry> {
  const saved = await sortedListing(o);
  const live = walkTree(o.live)[Symbol.asyncIterator]();
  let s = await saved.next();
  let l = await live.next();
  while (!s.done || !l.done) {
    if (o.signal?.aborted) throw o.signal.reason;
    const order = s.done ? 1 : l.done ? -1 : comparePaths(s.value.p, l.value[0]);
    if (order < 0) {
      yield { path: s.value!.p, change: 'removed', saved: summary(s.value) };
      s = await saved.next();
    } else if (order > 0) {
      const [p, st] = l.value!;
      yield { path: p, change: 'added', live: liveSummary(st) };
      l = await live.next();
    } else {
      const [p, st] = l.value!;
      const fields = await compare(s.value, st, join(o.live, p), o);
      if (fields.length > 0)
        yield { path: p, change: 'changed', fields, saved: summary(s.value), live: liveSummary(st) };
      s = await saved.next();
      l = await live.next();
    }
  }
}

async function sortedListing(o: DiffOptions): Promise<AsyncIterator<ListedEntry>> {
  const it = listVolume(o.backupDir, o.item, { signal: o.signal, hash: o.deep });
  if (o.item.format === 'tree') return it;
  const all: ListedEntry[] = [];
  for await (const e of it) all.push(e);
  all.sort((a, b) => comparePaths(a.p, b.p));
  return (async function* () {
    yield* all;
  })();
}

async function compare(e: ListedEntry, st: BigIntStats, path: string, o: DiffOptions): Promise<DiffField[]> {
  const t = entryType(st);
  if (t !== e.t) return ['type'];
  const out: DiffField[] = [];
  if (t === 'f' && e.size !== undefined && Number(st.size) !== e.size) out.push('size');
  if (t === 'f' && !sameTime(e, st.mtimeNs)) out.push('mtime');
  if (Number(st.uid) !== e.uid || Number(st.gid) !== e.gid) out.push('owner');
  if (t !== 'l' && Number(st.mode & 0o7777n) !== e.mode) out.push('mode');
  if (t === 'l' && e.link !== undefined) {
    if ((await readlink(path)) !== e.link) out.push('link');
  }
  if (o.deep && t === 'f' && e.sha256 && !out.includes('size') && !out.includes('mtime')) {
    if ((await sha256File(path, o.signal)) !== e.sha256) out.push('content');
  }
  return out;
}

function sameTime(e: ListedEntry, liveNs: bigint): boolean {
  if (e.coarseMtime) return BigInt(e.mtime) / 1_000_000_000n === liveNs / 1_000_000_000n;
  return BigInt(e.mtime) === liveNs;
}

const summary = (e: ListedEntry): EntrySummary => ({
  t: e.t,
  ...(e.size !== undefined ? { size: e.size } : {}),
  mode: e.mode,
  uid: e.uid,
  gid: e.gid,
  mtime: e.mtime,
});

const liveSummary = (st: BigIntStats): EntrySummary => ({
  t: entryType(st),
  ...(st.isFile() ? { size: Number(st.size) } : {}),
  mode: Number(st.mode & 0o7777n),
  uid: Number(st.uid),
  gid: Number(st.gid),
  mtime: String(st.mtimeNs),
});
