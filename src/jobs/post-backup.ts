// After a successful backup: upload to remotes, then apply retention locally and on each remote.
// Owned by the remotes/retention work (issue 5); the backup job calls runPostBackup() once the
// backup folder is complete and renamed.
import type { Config } from '../config/schema.js';
import type { Emit } from '../events.js';
import type { Manifest } from '../store/manifest.js';

export interface PostBackupRequest {
  config: Config;
  /** the store folder of this host */
  hostDir: string;
  backupDir: string;
  manifest: Manifest;
  /** remote names chosen with -r; undefined = every enabled remote */
  remotes?: string[];
  emit: Emit;
  signal: AbortSignal;
}

export interface PostBackupResult {
  /** per remote: ok or the error that names it */
  uploads: { remote: string; ok: boolean; error?: string }[];
  rotated: string[];
}

export async function runPostBackup(_req: PostBackupRequest): Promise<PostBackupResult> {
  // Replaced by the remotes work: until then nothing leaves the host.
  return { uploads: [], rotated: [] };
}
