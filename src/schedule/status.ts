// What `bbackup status` and the TUI's containers pane show: freshness rows for the engine's
// containers (and those schedules name) from the config and the host's backups in the store.
import type Docker from 'dockerode';
import type { Config } from '../config/schema.js';
import { listContainers } from '../docker/inventory.js';
import { listBackups } from '../store/catalog.js';
import { hostDir } from '../store/layout.js';
import type { Manifest } from '../store/manifest.js';
import { freshnessRows, type FreshnessRow } from './freshness.js';

export async function readFreshness(
  config: Config,
  o: { docker: Docker; store: string; hostName: string; configHost?: string; now?: Date },
): Promise<FreshnessRow[]> {
  const [containers, backups] = await Promise.all([
    listContainers(o.docker),
    listBackups(hostDir(o.store, o.hostName)),
  ]);
  const manifests = backups.map((b) => b.manifest).filter((m): m is Manifest => m !== undefined);
  return freshnessRows(
    config,
    o.configHost,
    containers.map((c) => c.name),
    manifests,
    o.now ?? new Date(),
  );
}
