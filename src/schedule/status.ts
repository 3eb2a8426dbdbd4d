// What `bbackup status` and the TUI's containers pane show: freshness rows for the engine's
// containers (and those schedules name) from the config and the host's backups in the store.
import type Docker from 'dockerode';
import type { Config } from '../config/schema.js';
import { listContainers } from '../docker/inventory.js';
import { listBackups } from '../store/catalog.js';
import { hostDir } from '../store/layout.js';
import type { Manifest } from '../store/manifest.js';
import { readUploadStatuses } from '../remote/upload-status.js';
import { freshnessRows, type FreshnessRow } from './freshness.js';

export interface FreshnessSource {
  store: string;
  /** the engine's name: the store's host folder */
  hostName: string;
  /** the config's host entry in use (schedules with another `host` are left out) */
  configHost?: string;
  now?: Date;
}

/** Freshness of the given containers from the host's backups in the store. */
export async function freshnessFor(config: Config, containers: string[], o: FreshnessSource): Promise<FreshnessRow[]> {
  const backups = await listBackups(hostDir(o.store, o.hostName));
  const manifests = backups.map((b) => b.manifest).filter((m): m is Manifest => m !== undefined);
  // off-site copies only where remotes are configured (otherwise nothing to judge)
  const uploads = Object.values(config.remotes).some((r) => r.enabled !== false)
    ? (await readUploadStatuses(o.store))
        .filter((u) => u.host === o.hostName && u.last_upload && u.backup)
        .map((u) => ({ remote: u.remote, backup: u.backup!, at: u.last_upload! }))
    : undefined;
  return freshnessRows(config, o.configHost, containers, manifests, o.now ?? new Date(), uploads);
}

export async function readFreshness(config: Config, o: FreshnessSource & { docker: Docker }): Promise<FreshnessRow[]> {
  const containers = await listContainers(o.docker);
  return freshnessFor(
    config,
    containers.map((c) => c.name),
    o,
  );
}
