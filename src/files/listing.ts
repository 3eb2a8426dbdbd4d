// A saved volume as a stream of entries, whatever its format: a tree's index as it is stored
// (volumes/<name>.index.jsonl), or an archive read through the restore gate (src/restore/archive-
// check.ts: only entries that passed the escape rules are seen) with each file's sha256 computed
// on the way. Archive entries come in archive order; tree entries in index order.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import tar from 'tar-stream';
import { readIndex } from '../backup/tree-index.js';
import { BbackupError } from '../errors.js';
import type { IndexEntry, VolumeItem } from '../store/manifest.js';
import { checkedTar, compressionOf } from '../restore/archive-check.js';

export interface ListedEntry extends IndexEntry {
  /** archive: the stored mtime has whole seconds only (GNU tar's own format keeps no fraction) */
  coarseMtime?: boolean;
  /** archive: a hard link to this earlier entry (extracting it needs that entry too) */
  hardLinkTo?: string;
  /** archive: the member name as stored ("./a/b"), what tar -x is given to select it */
  member?: string;
}

export interface ListOptions {
  signal?: AbortSignal;
  /** archive: compute each file's sha256 (the tree index has them already) */
  hash?: boolean;
}

/** The stored file of a volume item: the tree's index, or the archive. */
export function storedFile(backupDir: string, item: VolumeItem): string {
  const f = item.files[0];
  if (!f)
    throw new BbackupError('INTEGRITY', `volume ${item.name}: the manifest lists no stored file`, {
      volume: item.name,
    });
  return join(backupDir, ...f.path.split('/'));
}

/** The snapshot folder of a tree volume (volumes/<name>/ next to its index). */
export const treeFolder = (backupDir: string, item: VolumeItem): string =>
  storedFile(backupDir, item).replace(/\.index\.jsonl$/, '');

/** "./a/b/" -> "a/b"; "./" -> "" (the root). */
export const memberPath = (name: string): string =>
  name
    .replace(/^(\.\/)+/, '')
    .replace(/\/+$/, '')
    .replace(/^\.$/, '');

export async function* listVolume(
  backupDir: string,
  item: VolumeItem,
  o: ListOptions = {},
): AsyncGenerator<ListedEntry> {
  const file = storedFile(backupDir, item);
  if (item.format === 'tree') {
    yield* readIndex(file);
    return;
  }
  yield* listArchive(file, item, o);
}

async function* listArchive(file: string, item: VolumeItem, o: ListOptions): AsyncGenerator<ListedEntry> {
  const checked = checkedTar(file, {
    method: item.compression ?? compressionOf(file),
    signal: o.signal,
    what: `the archive of volume ${item.name}`,
  });
  const extract = tar.extract();
  const feed = pipeline(checked.stream, extract as unknown as Writable).then(
    () => undefined,
    (err: unknown) => err as Error,
  );
  const fileHashes = new Map<string, { size: number; sha256?: string }>();
  try {
    for await (const entry of extract) {
      const h = entry.header;
      const pax = (h.pax ?? {}) as Record<string, string>;
      // GNU tar's pax sparse 1.0: the real name and size are in pax records; the data starts with
      // the sparse map, so no content hash is taken from it (the gate checked the map)
      const sparseName = pax['GNU.sparse.name'];
      const name = sparseName ?? h.name;
      const p = memberPath(name);
      const e: ListedEntry = {
        p,
        member: name,
        t:
          h.type === 'directory'
            ? 'd'
            : h.type === 'symlink'
              ? 'l'
              : h.type === 'file' || h.type === 'link'
                ? 'f'
                : 'o',
        mode: (h.mode ?? 0) & 0o7777,
        uid: pax.uid !== undefined ? Number(pax.uid) : (h.uid ?? 0),
        gid: pax.gid !== undefined ? Number(pax.gid) : (h.gid ?? 0),
        mtime: paxNs(pax.mtime) ?? String(BigInt(h.mtime?.getTime() ?? 0) * 1_000_000n),
        ...(pax.mtime === undefined ? { coarseMtime: true } : {}),
      };
      if (h.type === 'symlink') e.link = h.linkname ?? '';
      if (h.type === 'file') {
        const hash = o.hash ? createHash('sha256') : undefined;
        let size = 0;
        for await (const chunk of entry as AsyncIterable<Buffer>) {
          size += chunk.length;
          hash?.update(chunk);
        }
        e.size = sparseName !== undefined ? Number(pax['GNU.sparse.realsize']) : size;
        if (hash && sparseName === undefined) e.sha256 = hash.digest('hex');
        fileHashes.set(p, { size, sha256: e.sha256 });
      } else {
        entry.resume();
        if (h.type === 'link') {
          const target = memberPath(h.linkname ?? '');
          const t = fileHashes.get(target);
          e.hardLinkTo = target;
          e.size = t?.size ?? 0;
          if (t?.sha256) e.sha256 = t.sha256;
        }
      }
      yield e;
    }
  } finally {
    checked.consumerExited();
  }
  const err = await feed;
  await checked.done;
  if (err) throw err;
}

/** A pax mtime ("1700000000.123456789") as nanoseconds. */
function paxNs(v: string | undefined): string | undefined {
  const m = v === undefined ? null : /^(-?\d+)(?:\.(\d{1,9}))?\d*$/.exec(v);
  if (!m) return undefined;
  return String(BigInt(m[1]!) * 1_000_000_000n + BigInt((m[2] ?? '').padEnd(9, '0')));
}
