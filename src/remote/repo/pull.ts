// Rebuild a snapshot (remote format 2) as the local backup folder the engine wrote, in `work`.
// The remote is untrusted: the manifest is read first and checked (checkManifest), snapshot.json
// must agree with it file by file, every object must arrive with the sha256 and size the manifest
// (or the tree index it vouches for) gives, skeletons go through the archive gate, and each tree is
// compared with its index at the end. On an encrypted remote, a plaintext snapshot file or pack is
// refused. Order: manifest; tree indexes, skeletons and object maps; skeletons extracted; every
// other object (files of the backup, tree contents written into the skeleton's files); attributes
// put back; trees checked.
import { createReadStream } from 'node:fs';
import { lstat, mkdir, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { BbackupError } from '../../errors.js';
import type { Emit } from '../../events.js';
import { AGE_SUFFIX } from '../../crypto/age.js';
import { MANIFEST, rel } from '../../store/layout.js';
import { checkManifest } from '../../store/manifest-check.js';
import type { IndexEntry, Manifest } from '../../store/manifest.js';
import { PRIVATE_DIR, PRIVATE_FILE } from '../../store/private.js';
import { checkUnpackedTree } from '../tree-check.js';
import type { Remote } from '../types.js';
import { collect } from '../types.js';
import { SNAP } from './format.js';
import { fetchObjects, TargetOpener, type Need, type Target } from './fetch.js';
import { readBytes, readJson } from './io.js';
import { loadObjectIndex } from './packs.js';
import { openRepo } from './repo.js';
import { extractSkeleton, restoreAttributes } from './skeleton.js';
import { parseObjmap, parseSnapshot, type SnapshotDoc, type SnapshotTree } from './snapshot.js';

export interface SnapshotPullOptions {
  signal: AbortSignal;
  emit: Emit;
  /** encryption is configured: everything must be encrypted */
  encryptionConfigured: boolean;
  store: string;
  transfers: number;
  onBytes?: (n: number) => void;
  /**
   * Only what restoring these paths of one volume needs (restore --path from a remote): its tree
   * index, skeleton and the contents of the chosen files, or its archive. Other files of the tree
   * stay empty placeholders, so the folder is no backup: the caller reads the chosen entries (each
   * checked against the index) and removes it; the whole-tree check is skipped.
   */
  only?: { volume: string; paths: readonly string[] };
}

const MAX_JSON = 256 << 20;

const refuse = (where: string, why: string, context: Record<string, unknown> = {}) =>
  new BbackupError('INTEGRITY', `${where}: refused: ${why}; nothing was pulled`, context);

/** Read and check the manifest and snapshot.json of a snapshot folder. */
export async function readSnapshot(
  remote: Remote,
  s: { prefix: string; id: string; host: string },
  encryptionConfigured: boolean,
  signal: AbortSignal,
): Promise<{ manifest: Manifest; manifestBytes: Buffer; snapshot: SnapshotDoc; encrypted: boolean }> {
  const where = `remote ${remote.name}: backup ${s.id} of ${s.host}`;
  const listed = new Set(
    (await collect(remote.list(s.prefix, { signal, maxDepth: 1 }))).map((e) => e.key.slice(s.prefix.length + 1)),
  );
  const encrypted = encryptionConfigured || listed.has(SNAP.manifest + AGE_SUFFIX);
  const name = (f: string) => (encrypted ? f + AGE_SUFFIX : f);
  for (const f of [SNAP.manifest, SNAP.snapshot]) {
    if (!listed.has(name(f))) {
      if (encrypted && listed.has(f))
        throw refuse(
          where,
          `${f} is stored unencrypted but this backup is encrypted (encryption is configured, or its manifest is): someone without the key may have put it there. A backup uploaded before encryption was switched on pulls with encryption.enabled: false`,
        );
      throw refuse(where, `${name(f)} is missing`);
    }
  }
  const manifestBytes = await readBytes(remote, `${s.prefix}/${name(SNAP.manifest)}`, 64 << 20, signal);
  let doc: unknown;
  try {
    doc = JSON.parse(manifestBytes.toString('utf8'));
  } catch (err) {
    throw refuse(where, `${MANIFEST} is not JSON (${(err as Error).message})`);
  }
  const manifest = checkManifest(doc, where, { id: s.id, host: s.host });
  const snapshot = parseSnapshot(
    await readJson(remote, `${s.prefix}/${name(SNAP.snapshot)}`, MAX_JSON, signal),
    `${where}: ${SNAP.snapshot}`,
    { id: s.id, host: s.host },
  );
  if (snapshot.encrypted !== encrypted)
    throw refuse(
      where,
      `${SNAP.snapshot} says the backup is ${snapshot.encrypted ? '' : 'not '}encrypted, but it is stored ${encrypted ? 'encrypted' : 'in plaintext'}`,
    );
  checkAgainstManifest(snapshot, manifest, where);
  return { manifest, manifestBytes, snapshot, encrypted };
}

/** snapshot.json must name exactly the manifest's files, with the manifest's sizes and hashes. */
function checkAgainstManifest(snap: SnapshotDoc, manifest: Manifest, where: string): void {
  const files = new Map(snap.files.map((f) => [f.path, f]));
  for (const item of manifest.items) {
    for (const f of item.files) {
      const s = files.get(f.path);
      if (!s) throw refuse(where, `${f.path} is in the manifest but not in ${SNAP.snapshot}`, { path: f.path });
      if (s.size !== f.size || s.sha256 !== f.sha256)
        throw refuse(where, `${SNAP.snapshot} records ${f.path} differently from the manifest`, { path: f.path });
      if (!snap.encrypted && s.obj !== s.sha256)
        throw refuse(where, `${f.path}: object name is not its sha256 in an unencrypted backup`, { path: f.path });
    }
    if (item.kind === 'volume' && item.format === 'tree') {
      const t = snap.trees.find((x) => x.volume === item.name);
      if (
        !t ||
        t.dir !== rel.volumeTree(item.name) ||
        t.index !== rel.volumeIndex(item.name) ||
        !item.files.some((f) => f.path === t.index)
      ) {
        throw refuse(where, `${SNAP.snapshot} does not describe the tree of volume ${item.name} as the layout does`);
      }
      if (snap.encrypted !== (t.objmap !== undefined))
        throw refuse(
          where,
          `volume ${item.name}: ${snap.encrypted ? 'no object map' : 'an object map in an unencrypted backup'}`,
        );
      if (!snap.encrypted && t.skeleton.obj !== t.skeleton.sha256)
        throw refuse(where, `volume ${item.name}: skeleton object name is not its sha256`);
    }
  }
}

const validPath = (p: string) => p !== '' && p.split('/').every((s) => s !== '' && s !== '.' && s !== '..');

function need(
  needed: Map<string, Need>,
  obj: string,
  n: Omit<Need, 'targets'>,
  target: Target | undefined,
  where: string,
): void {
  const have = needed.get(obj);
  if (have && (have.sha256 !== n.sha256 || have.size !== n.size))
    throw refuse(where, `object ${obj.slice(0, 16)}… is named for two different contents (${have.label}, ${n.label})`);
  const entry = have ?? needed.set(obj, { ...n, targets: [] }).get(obj)!;
  if (target) entry.targets.push(target);
}

export async function downloadSnapshot(
  remote: Remote,
  s: { prefix: string; id: string; host: string },
  work: string,
  o: SnapshotPullOptions,
): Promise<void> {
  const where = `remote ${remote.name}: backup ${s.id} of ${s.host}`;
  const { manifest, manifestBytes, snapshot, encrypted } = await readSnapshot(
    remote,
    s,
    o.encryptionConfigured,
    o.signal,
  );
  const repo = await openRepo(remote, o.store, { create: false, signal: o.signal });
  if (!repo) throw refuse(where, 'the remote has no bbackup-repo.json');
  await writeFile(join(work, MANIFEST), manifestBytes, { flag: 'wx', mode: PRIVATE_FILE });
  const index = await loadObjectIndex(repo, {
    signal: o.signal,
    only: encrypted ? 'encrypted' : 'plaintext',
    transfers: o.transfers,
  });
  const root = await realpath(work);
  const meta = join(root, '.meta');
  await mkdir(meta, { mode: PRIVATE_DIR });
  const opener = new TargetOpener([root]);
  const fetchOpts = { signal: o.signal, transfers: o.transfers, where, opener, onBytes: o.onBytes };
  const only = o.only;
  const trees = snapshot.trees.filter(
    (t) =>
      (!only || t.volume === only.volume) &&
      manifest.items.some((i) => i.kind === 'volume' && i.format === 'tree' && i.name === t.volume),
  );
  /** a file of the backup this pull brings (with only: the one volume's) */
  const wanted = (path: string) =>
    manifest.items.some(
      (i) => i.files.some((x) => x.path === path) && (!only || (i.kind === 'volume' && i.name === only.volume)),
    );
  const chosen = only
    ? (p: string) => only.paths.some((x) => p === x || p.startsWith(`${x}/`) || x === '.' || x === '')
    : () => true;
  const treeIndexes = new Set(trees.map((t) => t.index));

  // 1. what the trees need first: their indexes (files of the backup), skeletons, object maps
  const first = new Map<string, Need>();
  const metaPath = (obj: string) => join(meta, obj);
  for (const f of snapshot.files)
    if (treeIndexes.has(f.path))
      need(
        first,
        f.obj,
        { sha256: f.sha256, size: f.size, label: f.path },
        { path: join(root, ...f.path.split('/')), mode: 'create' },
        where,
      );
  for (const t of trees) {
    need(
      first,
      t.skeleton.obj,
      { ...t.skeleton, label: `skeleton of volume ${t.volume}` },
      { path: metaPath(t.skeleton.obj), mode: 'create' },
      where,
    );
    if (t.objmap)
      need(
        first,
        t.objmap.obj,
        { ...t.objmap, label: `object map of volume ${t.volume}` },
        { path: metaPath(t.objmap.obj), mode: 'create' },
        where,
      );
  }
  await fetchObjects(remote, index, first, fetchOpts);

  // 2. skeletons extracted; every other file of the backup and every content of the trees
  const rest = new Map<string, Need>();
  for (const f of snapshot.files) {
    if (treeIndexes.has(f.path) || !wanted(f.path)) continue;
    need(
      rest,
      f.obj,
      { sha256: f.sha256, size: f.size, label: f.path },
      { path: join(root, ...f.path.split('/')), mode: 'create' },
      where,
    );
  }
  for (const t of trees) {
    const dir = join(root, ...t.dir.split('/'));
    await mkdir(join(dir, '..'), { recursive: true, mode: PRIVATE_DIR });
    await mkdir(dir, { mode: PRIVATE_DIR });
    await extractSkeleton(metaPath(t.skeleton.obj), dir, o.signal, `the skeleton of volume ${t.volume} (${where})`);
    await planTree(
      t,
      dir,
      root,
      rest,
      where,
      t.objmap
        ? parseObjmap(JSON.parse(await readFile(metaPath(t.objmap.obj), 'utf8')), `${where}: object map of ${t.volume}`)
        : undefined,
      chosen,
    );
  }
  await fetchObjects(remote, index, rest, fetchOpts);

  // 3. attributes back (writing moved mtimes), then every tree against its index
  for (const t of trees) {
    const dir = join(root, ...t.dir.split('/'));
    await restoreAttributes(
      metaPath(t.skeleton.obj),
      dir,
      join(meta, 'attributes'),
      o.signal,
      `the skeleton of volume ${t.volume} (${where})`,
    );
    if (only) continue; // placeholders of files not chosen: the reader checks each chosen one
    const problems = await checkUnpackedTree(dir, join(root, ...t.index.split('/')), o.signal);
    if (problems.length > 0)
      throw refuse(where, `volume ${t.volume} does not match its tree index:\n  ${problems.join('\n  ')}`, {
        problems,
      });
  }
  await rm(meta, { recursive: true, force: true });
}

/** Every regular file of a tree with content: which object fills it (one write per inode). */
async function planTree(
  t: SnapshotTree,
  dir: string,
  root: string,
  needed: Map<string, Need>,
  where: string,
  objmap: Map<string, string> | undefined,
  chosen: (path: string) => boolean,
): Promise<void> {
  const inodes = new Set<string>();
  const indexPath = join(root, ...t.index.split('/'));
  let n = 0;
  for await (const line of createInterface({
    input: createReadStream(indexPath, { encoding: 'utf8' }),
    crlfDelay: Infinity,
  })) {
    n++;
    if (line.length === 0) continue;
    let e: IndexEntry;
    try {
      e = JSON.parse(line) as IndexEntry;
    } catch {
      throw refuse(where, `volume ${t.volume}: index line ${n} is malformed`);
    }
    if (e.t !== 'f' || !e.size) continue;
    if (
      typeof e.p !== 'string' ||
      !validPath(e.p) ||
      !Number.isSafeInteger(e.size) ||
      typeof e.sha256 !== 'string' ||
      !/^[0-9a-f]{64}$/.test(e.sha256)
    )
      throw refuse(where, `volume ${t.volume}: index line ${n} is malformed`);
    // not chosen: left an empty placeholder (a hard link's inode is filled by its first chosen name)
    if (!chosen(e.p)) continue;
    const obj = objmap ? objmap.get(e.sha256) : e.sha256;
    if (!obj) throw refuse(where, `volume ${t.volume}: ${e.p} has no object in the object map`);
    const path = join(dir, ...e.p.split('/'));
    const st = await lstat(path).catch(() => undefined);
    if (!st?.isFile()) throw refuse(where, `volume ${t.volume}: ${e.p} is a file in the index but not in the skeleton`);
    const ino = `${st.dev}:${st.ino}`;
    const first = !inodes.has(ino);
    inodes.add(ino);
    need(
      needed,
      obj,
      { sha256: e.sha256, size: e.size, label: `${e.p} of volume ${t.volume}` },
      first ? { path, mode: 'fill' } : undefined,
      where,
    );
  }
}
