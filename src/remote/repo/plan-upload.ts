// What one backup needs on the remote, as objects: every file the manifest lists, and for each tree
// its skeleton, its object map (encrypted) and every distinct content its index names. Contents
// are named from the tree index's sha256 (no file is read to plan), so a backup that changed 1% of
// its files plans in the time it takes to read its indexes.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { BbackupError } from '../../errors.js';
import { rel, safeSegment } from '../../store/layout.js';
import type { IndexEntry, Manifest } from '../../store/manifest.js';
import { jsonBytes, REPO_FORMAT } from './format.js';
import type { Naming } from './naming.js';
import type { PackItem } from './packs.js';
import { makeSkeleton } from './skeleton.js';
import type { ObjectRef, SnapshotFile, SnapshotTree } from './snapshot.js';

export interface UploadPlan {
  files: SnapshotFile[];
  trees: SnapshotTree[];
  /** tree indexes, skeletons, object maps: pull reads these first, so they get packs of their own */
  meta: Map<string, PackItem>;
  /** every other content */
  data: Map<string, PackItem>;
  /** plaintext bytes the backup restores to */
  logical: number;
}

const fileSource = (path: string) => () => createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>;
const bufferSource = (b: Buffer) =>
  async function* () {
    yield b;
  };

async function sha256File(path: string): Promise<{ sha256: string; size: number }> {
  const h = createHash('sha256');
  let size = 0;
  for await (const c of createReadStream(path, { highWaterMark: 1 << 20 })) {
    h.update(c as Buffer);
    size += (c as Buffer).length;
  }
  return { sha256: h.digest('hex'), size };
}

export function parseIndexLine(line: string, where: string): IndexEntry {
  try {
    const e = JSON.parse(line) as IndexEntry;
    if (
      typeof e.p === 'string' &&
      typeof e.t === 'string' &&
      (e.t !== 'f' || (Number.isSafeInteger(e.size) && /^[0-9a-f]{64}$/.test(e.sha256 ?? '')))
    )
      return e;
  } catch {
    /* reported below */
  }
  throw new BbackupError('INTEGRITY', `${where}: a line of the tree index is damaged; run bbackup verify`);
}

export interface Skeleton {
  file: string;
  sha256: string;
  size: number;
}

const treeVolumes = (manifest: Manifest) =>
  manifest.items.filter((i) => i.kind === 'volume' && i.format === 'tree').map((i) => i.name);

/**
 * The skeleton of every tree of the backup (in `scratch`), by volume name. Needs nothing from the
 * remote, so the upload makes them while it takes the lock and lists the remote's packs.
 */
export async function makeSkeletons(
  backupDir: string,
  manifest: Manifest,
  scratch: string,
  signal: AbortSignal,
): Promise<Map<string, Skeleton>> {
  const out = new Map<string, Skeleton>();
  let n = 0;
  for (const name of treeVolumes(manifest)) {
    signal.throwIfAborted();
    const tree = join(backupDir, ...rel.volumeTree(name).split('/'));
    const file = join(scratch, `skeleton-${n}-${safeSegment(name)}.tar`);
    await makeSkeleton(tree, join(scratch, `skeleton-${n++}`), file, signal);
    out.set(name, { file, ...(await sha256File(file)) });
  }
  return out;
}

export async function planUpload(
  backupDir: string,
  manifest: Manifest,
  naming: Naming,
  skeletons: Map<string, Skeleton>,
  signal: AbortSignal,
): Promise<UploadPlan> {
  const plan: UploadPlan = { files: [], trees: [], meta: new Map(), data: new Map(), logical: 0 };
  const add = (to: Map<string, PackItem>, item: PackItem) => {
    if (!plan.meta.has(item.obj) && !plan.data.has(item.obj)) to.set(item.obj, item);
  };
  const treeIndexes = new Set(
    manifest.items.flatMap((i) => (i.kind === 'volume' && i.format === 'tree' ? [rel.volumeIndex(i.name)] : [])),
  );
  for (const item of manifest.items) {
    for (const f of item.files) {
      const abs = join(backupDir, ...f.path.split('/'));
      const st = await stat(abs).catch(() => undefined);
      if (!st?.isFile())
        throw new BbackupError(
          'INTEGRITY',
          `${abs} is listed in the manifest but missing from the backup; run bbackup verify`,
          { path: f.path },
        );
      const obj = naming.objectId(f.sha256);
      plan.files.push({ path: f.path, obj, size: f.size, sha256: f.sha256 });
      add(treeIndexes.has(f.path) ? plan.meta : plan.data, {
        obj,
        size: f.size,
        sha256: f.sha256,
        source: abs,
        path: abs,
        open: fileSource(abs),
      });
      plan.logical += f.size;
    }
  }
  for (const item of manifest.items) {
    if (item.kind !== 'volume' || item.format !== 'tree') continue;
    signal.throwIfAborted();
    const dir = rel.volumeTree(item.name);
    const index = rel.volumeIndex(item.name);
    const tree = join(backupDir, ...dir.split('/'));
    const objmap: Record<string, string> = {};
    const where = join(backupDir, index);
    for await (const line of createInterface({
      input: createReadStream(where, { encoding: 'utf8' }),
      crlfDelay: Infinity,
    })) {
      if (line.length === 0) continue;
      const e = parseIndexLine(line, where);
      if (e.t !== 'f' || !e.size) continue;
      const obj = naming.objectId(e.sha256!);
      if (naming.encrypted) objmap[e.sha256!] = obj;
      plan.logical += e.size;
      const abs = join(tree, ...e.p.split('/'));
      add(plan.data, { obj, size: e.size, sha256: e.sha256!, source: abs, path: abs, open: fileSource(abs) });
    }
    const sk = skeletons.get(item.name);
    if (!sk) throw new Error(`no skeleton made for volume ${item.name}`);
    const skeleton: ObjectRef = { obj: naming.objectId(sk.sha256), size: sk.size, sha256: sk.sha256 };
    add(plan.meta, { ...skeleton, source: sk.file, path: sk.file, open: fileSource(sk.file) });
    let objmapRef: ObjectRef | undefined;
    if (naming.encrypted) {
      // keys sorted: the same tree gives the same bytes, one object
      const body = jsonBytes({
        format: REPO_FORMAT,
        objects: Object.fromEntries(Object.entries(objmap).sort(([a], [b]) => (a < b ? -1 : 1))),
      });
      const sha256 = createHash('sha256').update(body).digest('hex');
      objmapRef = { obj: naming.objectId(sha256), size: body.length, sha256 };
      add(plan.meta, { ...objmapRef, source: `object map of ${item.name}`, open: bufferSource(body) });
    }
    plan.trees.push({ volume: item.name, dir, index, skeleton, objmap: objmapRef });
  }
  return plan;
}
