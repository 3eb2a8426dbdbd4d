// Backups on a remote (not files): <host>/<id>/ folders that hold a manifest. `.partial` folders
// are transfers in progress or cut off, never backups. A host folder whose name bbackup cannot
// have made (not valid percent-encoding) is skipped and reported, never a failed listing, and never
// counted as incomplete (rotation removes those).
import { BACKUP_ID_RE, backupIdTime, fromSafeSegment } from '../store/layout.js';
import { compareIds } from '../store/catalog.js';
import { isManifestKey, type Remote, type RemoteEntry } from './types.js';

export interface RemoteBackup {
  remote: string;
  host: string;
  id: string;
  time: string;
  /** bytes stored (compressed, encrypted) */
  size: number;
  files: number;
  encrypted: boolean;
  /** <host>/<id> on the remote */
  prefix: string;
}

export interface RemoteListing {
  backups: RemoteBackup[];
  /** <host>/<id>.partial folders and folders without a manifest: not backups */
  incomplete: string[];
  /** folders skipped, with why (shown as warnings) */
  skipped: { prefix: string; reason: string }[];
}

export async function listRemoteBackups(remote: Remote, signal: AbortSignal, host?: string): Promise<RemoteListing> {
  const groups = new Map<string, RemoteEntry[]>();
  for await (const e of remote.list('', { signal })) {
    const [h, id] = e.key.split('/');
    if (!h || !id || e.key.split('/').length < 3) continue;
    const k = `${h}/${id}`;
    (groups.get(k) ?? groups.set(k, []).get(k)!).push(e);
  }
  const backups: RemoteBackup[] = [];
  const incomplete: string[] = [];
  const skipped: RemoteListing['skipped'] = [];
  for (const [prefix, entries] of groups) {
    const [h, id] = prefix.split('/') as [string, string];
    let hostName: string;
    try {
      hostName = fromSafeSegment(h);
    } catch {
      skipped.push({
        prefix,
        reason: `host folder name ${JSON.stringify(h)} is not valid percent-encoding (not made by bbackup)`,
      });
      continue;
    }
    if (host !== undefined && hostName !== host) continue;
    const isBackup =
      BACKUP_ID_RE.test(id) && entries.some((e) => isManifestKey(e.key) && e.key.split('/').length === 3);
    if (!isBackup) {
      incomplete.push(prefix);
      continue;
    }
    backups.push({
      remote: remote.name,
      host: hostName,
      id,
      time: backupIdTime(id).toISOString(),
      size: entries.reduce((a, e) => a + e.size, 0),
      files: entries.length,
      encrypted: entries.some((e) => e.key.endsWith('.age')),
      prefix,
    });
  }
  backups.sort((a, b) => (a.host === b.host ? compareIds(a.id, b.id) : a.host < b.host ? -1 : 1));
  return { backups, incomplete: incomplete.sort(), skipped: skipped.sort((a, b) => (a.prefix < b.prefix ? -1 : 1)) };
}
