// Packs: packs/<packId>.tar.zst[.age] holds many objects (tar-pack.ts), packs/<packId>.idx.json
// (plaintext, written after the pack) lists them: {format, pack, encrypted, created, objects:
// [[objectId, size], ...]}. An object is on the remote only when a listed pack AND its listed index
// name it: a pack without its index (a cut upload) is unknown, sent again, and swept later.
// Indexes are cached locally by pack id (a pack never changes once written).
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BbackupError } from '../../errors.js';
import { PRIVATE_DIR, PRIVATE_FILE } from '../../store/private.js';
import type { Remote } from '../types.js';
import {
  checkFormat,
  jsonBytes,
  OBJECT_ID_RE,
  PACK_ID_RE,
  PACKS_DIR,
  packIndexKey,
  packKey,
  parsePackKey,
  REPO_FORMAT,
} from './format.js';
import { eachLimit, putBytes, readJson } from './io.js';
import type { Repo } from './repo.js';
import { packStream, type PackItem } from './pack-stream.js';

export interface PackIndexDoc {
  format: typeof REPO_FORMAT;
  pack: string;
  encrypted: boolean;
  created: string;
  /** [objectId, plaintext size] */
  objects: [string, number][];
}

export interface PackInfo {
  packId: string;
  /** stored key of the pack file (with .age when encrypted) */
  key: string;
  encrypted: boolean;
  /** bytes stored */
  stored: number;
  mtime: Date;
  /** the index's objects; undefined when the pack has no (readable) index */
  objects?: [string, number][];
  /** stored bytes of the index file */
  indexStored: number;
}

export interface ObjectIndex {
  packs: Map<string, PackInfo>;
  /** objectId -> where it is (the first pack found) */
  objects: Map<string, { pack: string; size: number }>;
  /** index files without a pack (cut rotation) */
  orphanIndexes: string[];
}

const MAX_INDEX = 64 << 20;

export function parsePackIndex(doc: unknown, packId: string, what: string): PackIndexDoc {
  const d = checkFormat(doc, what);
  if (d.pack !== packId || !Array.isArray(d.objects) || typeof d.encrypted !== 'boolean')
    throw new BbackupError('INTEGRITY', `${what}: not the index of pack ${packId}`);
  for (const o of d.objects as unknown[]) {
    if (
      !Array.isArray(o) ||
      o.length !== 2 ||
      typeof o[0] !== 'string' ||
      !OBJECT_ID_RE.test(o[0]) ||
      !Number.isSafeInteger(o[1]) ||
      (o[1] as number) < 0
    ) {
      throw new BbackupError('INTEGRITY', `${what}: malformed entry ${JSON.stringify(o).slice(0, 120)}`);
    }
  }
  return d as unknown as PackIndexDoc;
}

const indexCache = (repo: Repo) => join(repo.cacheDir, 'idx');

async function cacheIndex(repo: Repo, doc: PackIndexDoc): Promise<void> {
  const dir = indexCache(repo);
  await mkdir(dir, { recursive: true, mode: PRIVATE_DIR });
  const tmp = join(dir, `.${doc.pack}.${randomBytes(3).toString('hex')}`);
  await writeFile(tmp, JSON.stringify(doc), { mode: PRIVATE_FILE, flag: 'wx' });
  await rename(tmp, join(dir, `${doc.pack}.json`));
}

/**
 * What the remote holds: every pack (listed) and, for packs with an index, their objects. Indexes
 * come from the local cache or are fetched (and cached). `only`: keep just packs encrypted or not.
 */
export async function loadObjectIndex(
  repo: Repo,
  o: { signal: AbortSignal; only?: 'encrypted' | 'plaintext'; transfers?: number },
): Promise<ObjectIndex> {
  const packs = new Map<string, PackInfo>();
  const indexes = new Map<string, { stored: number }>();
  for await (const e of repo.remote.list(PACKS_DIR, { signal: o.signal, maxDepth: 1 })) {
    const k = parsePackKey(e.key);
    if (!k) continue;
    if (k.kind === 'index') indexes.set(k.packId, { stored: e.size });
    else
      packs.set(k.packId, {
        packId: k.packId,
        key: e.key,
        encrypted: k.encrypted,
        stored: e.size,
        mtime: e.mtime,
        indexStored: 0,
      });
  }
  const cached = new Set(
    (await readdir(indexCache(repo)).catch(() => [] as string[])).map((n) => n.replace(/\.json$/, '')),
  );
  const wanted = [...packs.values()].filter(
    (p) => indexes.has(p.packId) && (!o.only || p.encrypted === (o.only === 'encrypted')),
  );
  await eachLimit(wanted, o.transfers ?? 4, async (p) => {
    p.indexStored = indexes.get(p.packId)!.stored;
    const what = `remote ${repo.remote.name}: ${packIndexKey(p.packId)}`;
    if (cached.has(p.packId)) {
      try {
        p.objects = parsePackIndex(
          JSON.parse(await readFile(join(indexCache(repo), `${p.packId}.json`), 'utf8')),
          p.packId,
          what,
        ).objects;
        return;
      } catch {
        /* damaged cache entry: fetch again */
      }
    }
    try {
      const doc = parsePackIndex(
        await readJson(repo.remote, packIndexKey(p.packId), MAX_INDEX, o.signal),
        p.packId,
        what,
      );
      if (doc.encrypted !== p.encrypted)
        throw new BbackupError(
          'INTEGRITY',
          `${what}: says the pack is ${doc.encrypted ? '' : 'not '}encrypted; it is stored as ${p.key}`,
        );
      p.objects = doc.objects;
      await cacheIndex(repo, doc);
    } catch (err) {
      if (o.signal.aborted || !(err instanceof BbackupError) || (err.code !== 'INTEGRITY' && err.code !== 'NOT_FOUND'))
        throw err;
      // a damaged or vanished index: the pack counts as unknown (its objects are sent again)
    }
  });
  // cache entries of packs that are gone
  for (const id of cached)
    if (PACK_ID_RE.test(id) && !packs.has(id)) await rm(join(indexCache(repo), `${id}.json`), { force: true });
  const objects = new Map<string, { pack: string; size: number }>();
  for (const p of wanted)
    for (const [id, size] of p.objects ?? []) if (!objects.has(id)) objects.set(id, { pack: p.packId, size });
  const orphanIndexes = [...indexes.keys()].filter((id) => !packs.has(id)).map(packIndexKey);
  return { packs, objects, orphanIndexes };
}

export type { PackItem } from './pack-stream.js';

export interface PackWriteOptions {
  level: number;
  encrypted: boolean;
  signal: AbortSignal;
  /** stored bytes sent so far for this pack (from the remote's own counting) */
  onSent?: (bytes: number) => void;
  /** hashes a content while it is packed; mismatch throws INTEGRITY */
  hash: (item: PackItem) => { update(b: Buffer): void; check(): void };
}

export interface WrittenPack {
  packId: string;
  /** stored bytes of the pack and its index */
  stored: number;
  objects: [string, number][];
}

/** Write one pack (tar | zstd or raw-framed: pack-stream.ts; encrypted by the remote when encryption is on) and then its index. */
export async function writePack(remote: Remote, items: readonly PackItem[], o: PackWriteOptions): Promise<WrittenPack> {
  const packId = randomBytes(16).toString('hex');
  const open = () => packStream(packId, items, o);
  const put = await remote.put(packKey(packId), open, {
    signal: o.signal,
    label: `pack ${packId.slice(0, 8)}`,
    onProgress: o.onSent,
  });
  const objects = items.map((i): [string, number] => [i.obj, i.size]);
  const doc: PackIndexDoc = {
    format: REPO_FORMAT,
    pack: packId,
    encrypted: o.encrypted,
    created: new Date().toISOString(),
    objects,
  };
  const idx = await putBytes(remote, packIndexKey(packId), jsonBytes(doc), o.signal, true);
  return { packId, stored: put.size + idx.size, objects };
}

/** Objects grouped into packs of about `target` plaintext bytes, in order. */
export function planPacks<T extends { size: number }>(items: readonly T[], target: number): T[][] {
  const out: T[][] = [];
  let cur: T[] = [];
  let bytes = 0;
  for (const it of items) {
    cur.push(it);
    bytes += it.size + 512;
    if (bytes >= target) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
  }
  if (cur.length > 0) out.push(cur);
  return out;
}
