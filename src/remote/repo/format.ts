// Remote format 2 (docs/FORMAT.md, "Remote repository"): a content-addressed repository in the
// remote's root. This module names every key and checks the version field every file carries:
// `format` is the major version; readers ignore fields they do not know (additions do not bump
// it) and refuse a newer major with a message that says to upgrade.
import { BbackupError } from '../../errors.js';
import { BACKUP_ID_RE, safeSegment } from '../../store/layout.js';

export const REPO_FORMAT = 2;
export const REPO_FILE = 'bbackup-repo.json';
export const KEYS_DIR = 'keys';
export const PACKS_DIR = 'packs';
export const SNAPSHOTS_DIR = 'snapshots';
export const LOCKS_DIR = 'locks';

/** Files of one snapshot folder (snapshots/<host>/<id>/). */
export const SNAP = {
  /** the local manifest verbatim (+ .age); written last: a snapshot without it is not a backup */
  manifest: 'manifest.json',
  /** what pull needs: every file's object, each tree's index, skeleton and object map (+ .age) */
  snapshot: 'snapshot.json',
  /** plaintext: status, retention group (hashed when encrypted), sizes */
  info: 'info.json',
  /** plaintext, gzip: every object the snapshot needs, for rotation without the identity */
  refs: 'refs.json.gz',
} as const;

export const OBJECT_ID_RE = /^[0-9a-f]{64}$/;
export const PACK_ID_RE = /^[0-9a-f]{32}$/;
export const KEY_ID_RE = /^[0-9a-f]{16}$/;

export const packKey = (packId: string): string => `${PACKS_DIR}/${packId}.tar.zst`;
export const packIndexKey = (packId: string): string => `${PACKS_DIR}/${packId}.idx.json`;
export const keyFileKey = (keyId: string): string => `${KEYS_DIR}/${keyId}.json`;
export const lockKey = (lockId: string): string => `${LOCKS_DIR}/${lockId}.json`;
export const snapshotHostPrefix = (host: string): string => `${SNAPSHOTS_DIR}/${safeSegment(host)}`;
export const snapshotPrefix = (host: string, id: string): string => `${snapshotHostPrefix(host)}/${id}`;

/** A key under packs/: the pack file (stored name, maybe .age) or its index. */
export function parsePackKey(key: string): { packId: string; kind: 'pack' | 'index'; encrypted: boolean } | undefined {
  const m = /^packs\/([0-9a-f]{32})\.(tar\.zst(\.age)?|idx\.json)$/.exec(key);
  if (!m) return undefined;
  return { packId: m[1]!, kind: m[2] === 'idx.json' ? 'index' : 'pack', encrypted: m[3] !== undefined };
}

/** A key under snapshots/: host segment, id and the file name inside the snapshot folder. */
export function parseSnapshotKey(key: string): { hostSeg: string; id: string; file: string } | undefined {
  const p = key.split('/');
  if (p.length !== 4 || p[0] !== SNAPSHOTS_DIR || !BACKUP_ID_RE.test(p[2]!)) return undefined;
  return { hostSeg: p[1]!, id: p[2]!, file: p[3]! };
}

/**
 * The version check every reader runs on a parsed file: a missing or malformed format is damage
 * (INTEGRITY), a newer major is refused with what to do.
 */
export function checkFormat(doc: unknown, what: string): Record<string, unknown> {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    throw new BbackupError('INTEGRITY', `${what} is not a JSON object`);
  const d = doc as Record<string, unknown>;
  if (typeof d.format !== 'number' || !Number.isInteger(d.format) || d.format < REPO_FORMAT) {
    throw new BbackupError('INTEGRITY', `${what} has no valid format field (${JSON.stringify(d.format)})`);
  }
  if (d.format > REPO_FORMAT) throw newerFormat(what, d.format);
  return d;
}

export const newerFormat = (what: string, format: number): BbackupError =>
  new BbackupError(
    'USAGE',
    `${what} was written by a newer bbackup (remote format ${format}); this bbackup reads remote formats 1 and ${REPO_FORMAT}: upgrade bbackup to use this remote`,
    { format },
  );

/** bytes of a JSON document as bbackup writes it: one line, newline-terminated */
export const jsonBytes = (doc: unknown): Buffer => Buffer.from(`${JSON.stringify(doc)}\n`);

/** refs.json.gz read at most (compressed; its text may be 8x that, up to io.ts's cap): ~4 M objects */
export const MAX_REFS = 128 << 20;
