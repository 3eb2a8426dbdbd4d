// The files of one snapshot folder (snapshots/<host>/<id>/), their types and their checks. Every
// one is read from a remote, so every field is checked before use (shape, names the layout makes).
import { BbackupError } from '../../errors.js';
import { isGroupKey } from '../../store/retention-group.js';
import { checkFormat, OBJECT_ID_RE, REPO_FORMAT } from './format.js';

export interface ObjectRef {
  obj: string;
  size: number;
  sha256: string;
}

/** A file of the local backup folder (every file the manifest lists) and its object. */
export interface SnapshotFile extends ObjectRef {
  path: string;
}

export interface SnapshotTree {
  volume: string;
  /** the tree folder in the local layout, volumes/<name> */
  dir: string;
  /** the tree index file (one of `files`): which content each regular file holds */
  index: string;
  /** the tree without file contents (skeleton.ts) */
  skeleton: ObjectRef;
  /** encrypted only: JSON {format, objects: {sha256: objectId}} for every content of the tree */
  objmap?: ObjectRef;
}

/** snapshot.json (encrypted when encryption is on): what pull and the stock tools need. */
export interface SnapshotDoc {
  format: typeof REPO_FORMAT;
  id: string;
  host: string;
  uploaded: string;
  encrypted: boolean;
  /** the naming key's id when encrypted */
  keyId?: string;
  files: SnapshotFile[];
  trees: SnapshotTree[];
}

/** info.json (plaintext): what rotation and listings read without the identity. */
export interface SnapshotInfo {
  format: typeof REPO_FORMAT;
  id: string;
  host: string;
  status: 'complete' | 'partial';
  /** retention group; its hash (h:...) when encrypted */
  group: string;
  encrypted: boolean;
  uploaded: string;
  /** plaintext bytes the backup restores to (files + tree contents) */
  size: number;
  /** distinct objects it needs */
  objects: number;
  /** plaintext bytes of objects this upload sent (the rest was already there) */
  added: number;
  /** bytes this upload stored on the remote (packs, indexes, snapshot files) */
  stored: number;
}

/** refs.json.gz (plaintext): every object the snapshot needs, sorted. */
export interface SnapshotRefs {
  format: typeof REPO_FORMAT;
  id: string;
  objects: string[];
}

const SHA256 = /^[0-9a-f]{64}$/;
const isSize = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const bad = (what: string, why: string) => new BbackupError('INTEGRITY', `${what}: refused: ${why}`);

function checkRef(v: unknown, what: string): ObjectRef {
  const r = v as Partial<ObjectRef> | null;
  if (
    typeof r !== 'object' ||
    r === null ||
    typeof r.obj !== 'string' ||
    !OBJECT_ID_RE.test(r.obj) ||
    !isSize(r.size) ||
    typeof r.sha256 !== 'string' ||
    !SHA256.test(r.sha256)
  ) {
    throw bad(what, `malformed object reference ${JSON.stringify(v).slice(0, 160)}`);
  }
  return { obj: r.obj, size: r.size, sha256: r.sha256 };
}

export function parseSnapshot(doc: unknown, what: string, expect: { id: string; host: string }): SnapshotDoc {
  const d = checkFormat(doc, what);
  if (d.id !== expect.id || d.host !== expect.host)
    throw bad(what, `it describes ${String(d.host)}/${String(d.id)}, not ${expect.host}/${expect.id}`);
  if (typeof d.encrypted !== 'boolean' || !Array.isArray(d.files) || !Array.isArray(d.trees))
    throw bad(what, 'missing files, trees or encrypted');
  const files = (d.files as unknown[]).map((f) => {
    const p = (f as { path?: unknown } | null)?.path;
    if (typeof p !== 'string') throw bad(what, 'a file without a path');
    return { path: p, ...checkRef(f, what) };
  });
  const trees = (d.trees as unknown[]).map((t) => {
    const x = t as Partial<Record<keyof SnapshotTree, unknown>> | null;
    if (
      typeof x !== 'object' ||
      x === null ||
      typeof x.volume !== 'string' ||
      typeof x.dir !== 'string' ||
      typeof x.index !== 'string'
    )
      throw bad(what, 'a malformed tree');
    return {
      volume: x.volume,
      dir: x.dir,
      index: x.index,
      skeleton: checkRef(x.skeleton, what),
      objmap: x.objmap === undefined ? undefined : checkRef(x.objmap, what),
    };
  });
  return {
    format: REPO_FORMAT,
    id: expect.id,
    host: expect.host,
    uploaded: String(d.uploaded ?? ''),
    encrypted: d.encrypted,
    keyId: typeof d.keyId === 'string' ? d.keyId : undefined,
    files,
    trees,
  };
}

/** info.json: trusted for nothing but its shape; undefined when it is not one (rotation then keeps the backup). */
export function parseInfo(doc: unknown, id: string): SnapshotInfo | undefined {
  try {
    const d = checkFormat(doc, 'info.json');
    if (d.id !== id || (d.status !== 'complete' && d.status !== 'partial') || !isGroupKey(d.group)) return undefined;
    const num = (v: unknown) => (isSize(v) ? v : 0);
    return {
      format: REPO_FORMAT,
      id,
      host: String(d.host ?? ''),
      status: d.status,
      group: d.group,
      encrypted: d.encrypted === true,
      uploaded: String(d.uploaded ?? ''),
      size: num(d.size),
      objects: num(d.objects),
      added: num(d.added),
      stored: num(d.stored),
    };
  } catch (err) {
    if (err instanceof BbackupError && err.code === 'USAGE') throw err; // a newer format: say so
    return undefined;
  }
}

export function parseRefs(doc: unknown, id: string, what: string): SnapshotRefs {
  const d = checkFormat(doc, what);
  if (
    d.id !== id ||
    !Array.isArray(d.objects) ||
    !(d.objects as unknown[]).every((o) => typeof o === 'string' && OBJECT_ID_RE.test(o))
  )
    throw bad(what, 'not the object list of this backup');
  return { format: REPO_FORMAT, id, objects: d.objects as string[] };
}

/** An object map (encrypted trees): sha256 -> objectId. */
export function parseObjmap(doc: unknown, what: string): Map<string, string> {
  const d = checkFormat(doc, what);
  const objects = d.objects as Record<string, unknown> | undefined;
  if (typeof objects !== 'object' || objects === null) throw bad(what, 'no objects');
  const out = new Map<string, string>();
  for (const [sha, obj] of Object.entries(objects)) {
    if (!SHA256.test(sha) || typeof obj !== 'string' || !OBJECT_ID_RE.test(obj))
      throw bad(what, `malformed entry ${sha.slice(0, 16)}`);
    out.set(sha, obj);
  }
  return out;
}
