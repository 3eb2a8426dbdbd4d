// What pull accepts from a remote (anyone who can write there may have written it): remote-index.json
// may only name files the layout produces, stored under their own name (+ .age), and the manifest
// says what each file must hold. The index's own sizes and hashes are never trusted on their own.
import { BbackupError } from '../errors.js';
import { AGE_SUFFIX } from '../crypto/age.js';
import { isSafeSegment, MANIFEST, rel } from '../store/layout.js';
import type { FileEntry, Manifest } from '../store/manifest.js';
import { REMOTE_INDEX, REMOTE_INDEX_FORMAT, type RemoteFile, type RemoteIndex } from './packing.js';

/** Plaintext sidecar the retention step writes next to a remote backup: accepted, never downloaded. */
export const RETENTION_SIDECAR = 'retention.json';
const NOT_DOWNLOADED = new Set([REMOTE_INDEX, RETENTION_SIDECAR]);
const SHA256 = /^[0-9a-f]{64}$/;

const refuse = (where: string, msg: string, path?: string): BbackupError =>
  new BbackupError(
    'INTEGRITY',
    `${where}: refused: ${msg}; nothing was pulled`,
    path === undefined ? { where } : { where, path },
  );

/** Is `path` one the layout of a backup folder produces (DESIGN §3)? */
export function isLayoutPath(path: string): boolean {
  if (path === MANIFEST || NOT_DOWNLOADED.has(path) || /^metadata\.tar(\.zst|\.gz)?$/.test(path)) return true;
  const p = path.split('/');
  if (p.length === 3 && p[0] === 'containers')
    return isSafeSegment(p[1]!) && (p[2] === 'inspect.json' || p[2] === 'logs.txt');
  if (p.length === 3 && p[0] === 'projects') return isSafeSegment(p[1]!) && isSafeSegment(p[2]!);
  if (p.length !== 2) return false;
  if (p[0] === 'images') return /^[0-9a-f]{64}\.tar(\.zst|\.gz)?$/.test(p[1]!);
  if (p[0] === 'networks') return p[1]!.endsWith('.json') && isSafeSegment(p[1]!.slice(0, -'.json'.length));
  if (p[0] === 'dumps')
    return ['postgres', 'mysql', 'mariadb', 'mongodb', 'redis', 'sqlite'].some(
      (e) => p[1]!.endsWith(`.${e}.zst`) && isSafeSegment(p[1]!.slice(0, -`.${e}.zst`.length)),
    );
  if (p[0] !== 'volumes') return false;
  return ['.tar', '.tar.zst', '.tar.gz', '.index.jsonl'].some(
    (suffix) => p[1]!.endsWith(suffix) && isSafeSegment(p[1]!.slice(0, -suffix.length)),
  );
}

/** The index as JSON of the expected shape, or INTEGRITY. */
export function parseIndex(text: string, where: string): RemoteIndex {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw refuse(where, `${REMOTE_INDEX} is not JSON (${(err as Error).message})`);
  }
  const d = doc as Partial<RemoteIndex>;
  if (typeof doc !== 'object' || doc === null || d.format !== REMOTE_INDEX_FORMAT || !Array.isArray(d.files))
    throw refuse(where, `${REMOTE_INDEX} has an unknown format`);
  for (const f of d.files as unknown[]) {
    const e = f as Partial<RemoteFile>;
    const ok =
      typeof f === 'object' &&
      f !== null &&
      typeof e.path === 'string' &&
      typeof e.stored === 'string' &&
      Number.isSafeInteger(e.size) &&
      e.size! >= 0 &&
      (e.sha256 === undefined || (typeof e.sha256 === 'string' && SHA256.test(e.sha256))) &&
      (e.unpackTo === undefined || typeof e.unpackTo === 'string');
    if (!ok) throw refuse(where, `${REMOTE_INDEX} holds a malformed entry ${JSON.stringify(f).slice(0, 200)}`);
  }
  return doc as RemoteIndex;
}

export interface IndexRules {
  /** every file must be stored encrypted (.age) */
  encrypted: boolean;
  /** keys present in the remote folder, relative to it */
  listed: ReadonlySet<string>;
}

/** Every path, stored name and unpack folder is one the layout produces; nothing twice. */
export function checkIndex(index: RemoteIndex, where: string, rules: IndexRules): void {
  const paths = new Set<string>();
  const trees = new Set<string>();
  for (const f of index.files) {
    const name = JSON.stringify(f.path);
    if (!isLayoutPath(f.path))
      throw refuse(where, `${REMOTE_INDEX} names the file ${name}, which is not a path of the backup layout`, f.path);
    if (paths.has(f.path)) throw refuse(where, `${REMOTE_INDEX} names ${name} twice`, f.path);
    paths.add(f.path);
    if (f.stored !== f.path && f.stored !== f.path + AGE_SUFFIX)
      throw refuse(where, `${REMOTE_INDEX} stores ${name} under another name (${JSON.stringify(f.stored)})`, f.path);
    if (f.unpackTo !== undefined) {
      if (
        f.path !== `${f.unpackTo}.tar.zst` ||
        !/^volumes\/[^/]+$/.test(f.unpackTo) ||
        !isSafeSegment(f.unpackTo.slice('volumes/'.length))
      ) {
        throw refuse(
          where,
          `${REMOTE_INDEX} unpacks ${name} into ${JSON.stringify(f.unpackTo)}, which is not that volume's tree folder`,
          f.path,
        );
      }
      if (trees.has(f.unpackTo))
        throw refuse(where, `${REMOTE_INDEX} unpacks into ${JSON.stringify(f.unpackTo)} twice`, f.path);
      trees.add(f.unpackTo);
    }
    if (NOT_DOWNLOADED.has(f.path)) continue;
    if (rules.encrypted && !f.stored.endsWith(AGE_SUFFIX)) {
      throw refuse(
        where,
        `${JSON.stringify(f.stored)} is stored unencrypted, but this backup is encrypted (encryption is configured, or its index is): someone without the key may have replaced it. A backup uploaded before encryption was switched on pulls with encryption.enabled: false`,
        f.path,
      );
    }
  }
}

export interface PullPlan {
  manifest: RemoteFile;
  /** files the manifest lists, each with the size and sha256 it must have */
  files: { file: RemoteFile; expect: FileEntry }[];
  /** packed volume trees, each checked against its tree index after unpacking */
  trees: { file: RemoteFile; volume: string; index: string }[];
  /** index entries the manifest does not need (not downloaded) */
  ignored: string[];
}

export function manifestEntry(index: RemoteIndex, where: string, listed: ReadonlySet<string>): RemoteFile {
  const m = index.files.find((f) => f.path === MANIFEST);
  if (!m) throw refuse(where, `${REMOTE_INDEX} does not list ${MANIFEST}`);
  if (!listed.has(m.stored)) throw refuse(where, `${m.stored} is missing`);
  return m;
}

/** What to download, decided by the manifest (already checked with checkManifest). */
export function planPull(index: RemoteIndex, manifest: Manifest, where: string, listed: ReadonlySet<string>): PullPlan {
  const byPath = new Map(index.files.map((f) => [f.path, f]));
  const used = new Set<string>([MANIFEST]);
  const plan: PullPlan = { manifest: manifestEntry(index, where, listed), files: [], trees: [], ignored: [] };
  const need = (path: string): RemoteFile => {
    const f = byPath.get(path);
    if (!f) throw refuse(where, `${path} is in the manifest but not in ${REMOTE_INDEX}`, path);
    if (!listed.has(f.stored)) throw refuse(where, `${f.stored} is missing from the remote`, path);
    used.add(path);
    return f;
  };
  for (const item of manifest.items) {
    for (const expect of item.files) {
      const file = need(expect.path);
      if (file.unpackTo !== undefined)
        throw refuse(where, `${REMOTE_INDEX} marks ${expect.path} as a packed tree`, expect.path);
      plan.files.push({ file, expect });
    }
    if (item.kind === 'volume' && item.format === 'tree') {
      const index = rel.volumeIndex(item.name);
      if (!item.files.some((f) => f.path === index))
        throw refuse(
          where,
          `volume ${item.name}: the manifest lists no tree index (${index}) to check its tree against`,
        );
      plan.trees.push({ file: need(`${rel.volumeTree(item.name)}.tar.zst`), volume: item.name, index });
    }
  }
  for (const f of index.files) if (!used.has(f.path) && !NOT_DOWNLOADED.has(f.path)) plan.ignored.push(f.path);
  return plan;
}
