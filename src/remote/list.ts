// Backups on a remote (not files), in either remote format, from one listing of the remote:
// - format 2 (the repository, src/remote/repo/): snapshots/<host>/<id>/ folders that hold a
//   manifest; with `details`, each one's info.json is read too (status, group, sizes);
// - format 1 (bbackup before the repository): <host>/<id>/ folders that hold a manifest.
// `.partial` folders and folders without a manifest are transfers in progress or cut off, never
// backups. A host folder whose name bbackup cannot have made (not valid percent-encoding) is
// skipped and reported, never a failed listing. When the remote holds a repository, its own
// folders (snapshots, packs, keys, locks) are never read as format 1 host folders.
import { BACKUP_ID_RE, backupIdTime, fromSafeSegment } from '../store/layout.js';
import { compareIds } from '../store/catalog.js';
import { LOCKS_DIR, KEYS_DIR, PACKS_DIR, REPO_FILE, SNAP, SNAPSHOTS_DIR, parseSnapshotKey } from './repo/format.js';
import { eachLimit, readJson } from './repo/io.js';
import { loadRepoFile } from './repo/repo.js';
import { parseInfo, type SnapshotInfo } from './repo/snapshot.js';
import { isManifestKey, type Remote, type RemoteEntry } from './types.js';

export interface RemoteBackup {
  remote: string;
  host: string;
  id: string;
  time: string;
  /** format 1: bytes stored; format 2: bytes the backup restores to (its objects are shared) */
  size: number;
  files: number;
  encrypted: boolean;
  /** <host>/<id> (format 1) or snapshots/<host>/<id> (format 2) on the remote */
  prefix: string;
  /** 1: a folder of files (remote-index.json); 2: a snapshot of the repository */
  format: 1 | 2;
  /** format 2 with details: what info.json says (undefined when it is missing or unreadable) */
  info?: SnapshotInfo;
  /** format 2: the snapshot folder's files, name -> listing entry */
  entries?: Map<string, RemoteEntry>;
}

export interface RemoteListing {
  backups: RemoteBackup[];
  /** <host>/<id>.partial folders and folders without a manifest: not backups */
  incomplete: string[];
  /** folders skipped, with why (shown as warnings) */
  skipped: { prefix: string; reason: string }[];
  /** the remote holds a repository (bbackup-repo.json) */
  repo: boolean;
  /** format 2: snapshot folders without a manifest (cut uploads), with their newest file's time */
  cut: { prefix: string; host: string; id: string; newest: Date }[];
}

const REPO_DIRS = new Set([SNAPSHOTS_DIR, PACKS_DIR, KEYS_DIR, LOCKS_DIR]);

export interface ListOptions {
  /** read each snapshot's info.json (sizes, status, group) */
  details?: boolean;
}

export async function listRemoteBackups(
  remote: Remote,
  signal: AbortSignal,
  host?: string,
  o: ListOptions = {},
): Promise<RemoteListing> {
  const all: RemoteEntry[] = [];
  for await (const e of remote.list('', { signal })) all.push(e);
  const repo = all.some((e) => e.key === REPO_FILE);
  // A repository of a newer major format is refused as a whole (list, pull, rotate, verify all come here).
  if (repo) await loadRepoFile(remote, signal);
  const groups = new Map<string, RemoteEntry[]>();
  const snaps = new Map<string, RemoteEntry[]>();
  for (const e of all) {
    const parts = e.key.split('/');
    if (repo && REPO_DIRS.has(parts[0]!)) {
      const s = parseSnapshotKey(e.key);
      if (s)
        (snaps.get(`${s.hostSeg}/${s.id}`) ?? snaps.set(`${s.hostSeg}/${s.id}`, []).get(`${s.hostSeg}/${s.id}`)!).push(
          e,
        );
      continue;
    }
    const [h, id] = parts;
    if (!h || !id || parts.length < 3) continue;
    const k = `${h}/${id}`;
    (groups.get(k) ?? groups.set(k, []).get(k)!).push(e);
  }
  const listing: RemoteListing = { backups: [], incomplete: [], skipped: [], repo, cut: [] };
  const hostOf = (seg: string, prefix: string): string | undefined => {
    try {
      return fromSafeSegment(seg);
    } catch {
      listing.skipped.push({
        prefix,
        reason: `host folder name ${JSON.stringify(seg)} is not valid percent-encoding (not made by bbackup)`,
      });
      return undefined;
    }
  };
  for (const [prefix, entries] of groups) {
    const [h, id] = prefix.split('/') as [string, string];
    const hostName = hostOf(h, prefix);
    if (hostName === undefined || (host !== undefined && hostName !== host)) continue;
    const isBackup =
      BACKUP_ID_RE.test(id) && entries.some((e) => isManifestKey(e.key) && e.key.split('/').length === 3);
    if (!isBackup) {
      listing.incomplete.push(prefix);
      continue;
    }
    listing.backups.push({
      remote: remote.name,
      host: hostName,
      id,
      time: backupIdTime(id).toISOString(),
      size: entries.reduce((a, e) => a + e.size, 0),
      files: entries.length,
      encrypted: entries.some((e) => e.key.endsWith('.age')),
      prefix,
      format: 1,
    });
  }
  for (const [key, entries] of snaps) {
    const [h, id] = key.split('/') as [string, string];
    const prefix = `${SNAPSHOTS_DIR}/${key}`;
    const hostName = hostOf(h, prefix);
    if (hostName === undefined || (host !== undefined && hostName !== host)) continue;
    const files = new Map(entries.map((e) => [e.key.slice(prefix.length + 1), e]));
    if (!files.has(SNAP.manifest) && !files.has(`${SNAP.manifest}.age`)) {
      listing.cut.push({
        prefix,
        host: hostName,
        id,
        newest: new Date(Math.max(...entries.map((e) => e.mtime.getTime()))),
      });
      continue;
    }
    listing.backups.push({
      remote: remote.name,
      host: hostName,
      id,
      time: backupIdTime(id).toISOString(),
      size: 0,
      files: entries.length,
      encrypted: files.has(`${SNAP.manifest}.age`),
      prefix,
      format: 2,
      entries: files,
    });
  }
  if (o.details) {
    await eachLimit(
      listing.backups.filter((b) => b.format === 2),
      4,
      async (b) => {
        if (!b.entries!.has(SNAP.info)) return;
        b.info = parseInfo(
          await readJson(remote, `${b.prefix}/${SNAP.info}`, 64 * 1024, signal).catch((err: unknown) =>
            signal.aborted ? Promise.reject(err) : undefined,
          ),
          b.id,
        );
        if (b.info) b.size = b.info.size;
      },
    );
  }
  listing.backups.sort((a, b) =>
    a.host === b.host ? compareIds(a.id, b.id) || a.format - b.format : a.host < b.host ? -1 : 1,
  );
  listing.incomplete.sort();
  listing.skipped.sort((a, b) => (a.prefix < b.prefix ? -1 : 1));
  return listing;
}
