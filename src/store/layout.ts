// The on-disk layout of a store (DESIGN §3). Names from Docker become path segments only through
// safeSegment(); everything else builds paths with these helpers.
import { join } from 'node:path';
import { BbackupError } from '../errors.js';

export const PARTIAL_SUFFIX = '.partial';
export const MANIFEST = 'manifest.json';
export const LOCK = '.lock';
/** A backup id: UTC time, sortable, with -2, -3 ... on a clash. */
export const BACKUP_ID_RE = /^\d{8}T\d{6}Z(-\d+)?$/;

/**
 * A Docker name as one path segment. Container and volume names are already [A-Za-z0-9_.-];
 * anything else (network names are freer, host names come from `docker info`) is %-encoded so
 * the mapping stays reversible and can never climb out of its folder.
 */
export function safeSegment(name: string): string {
  if (name.length === 0) throw new BbackupError('USAGE', 'empty name cannot become a path');
  // UTF-8 bytes, so decodeURIComponent is the exact inverse (a bare char code was not, past ASCII)
  const encoded = name.replace(/[^A-Za-z0-9_.-]/gu, (c) =>
    [...Buffer.from(c, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join(''),
  );
  if (encoded === '.' || encoded === '..') return encoded.replace(/\./g, '%2e');
  return encoded;
}

/** Throws URIError for a segment that is not valid percent-encoding (a folder bbackup did not make). */
export function fromSafeSegment(segment: string): string {
  return decodeURIComponent(segment);
}

/** Exactly what safeSegment produces for some name: no "..", no "/", canonical escapes. */
export function isSafeSegment(segment: string): boolean {
  try {
    return segment.length > 0 && safeSegment(fromSafeSegment(segment)) === segment;
  } catch {
    return false;
  }
}

export const hostDir = (store: string, host: string): string => join(store, safeSegment(host));
export const backupDir = (store: string, host: string, id: string): string => join(hostDir(store, host), id);

/** Paths inside one backup folder, relative (POSIX) as the manifest records them. */
export const rel = {
  manifest: MANIFEST,
  metadata: (ext: string) => `metadata.tar${ext}`,
  containerInspect: (name: string) => `containers/${safeSegment(name)}/inspect.json`,
  containerLogs: (name: string) => `containers/${safeSegment(name)}/logs.txt`,
  network: (name: string) => `networks/${safeSegment(name)}.json`,
  volumeTree: (name: string) => `volumes/${safeSegment(name)}`,
  volumeArchive: (name: string, ext: string) => `volumes/${safeSegment(name)}.tar${ext}`,
  volumeIndex: (name: string) => `volumes/${safeSegment(name)}.index.jsonl`,
  image: (id: string, ext: string) => `images/${safeSegment(id.replace(/^sha256:/, ''))}.tar${ext}`,
  project: (name: string) => `projects/${safeSegment(name)}`,
  dump: (container: string, engine: string) => `dumps/${safeSegment(container)}.${engine}.zst`,
};

/** The id for a backup started at `now`: 20261124T230501Z */
export function backupIdFor(now: Date): string {
  return now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
}

/** Time a backup id stands for. */
export function backupIdTime(id: string): Date {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z/.exec(id);
  if (!m) throw new BbackupError('USAGE', `not a backup id: ${id}`);
  return new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
}
