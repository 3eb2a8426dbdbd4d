// Scope -> plan: which containers, volumes and networks a backup saves, how each volume is read,
// which earlier backup each volume hard-links to, and how big it probably is. Pure: the caller
// brings the inventory, the config and what the store holds, so --dry-run, the TUI's scope
// dialog and the job all see the same plan.
import type { Config } from '../config/schema.js';
import type { Inventory, VolumeInfo } from '../docker/inventory.js';
import { BbackupError } from '../errors.js';
import type { CatalogEntry } from '../store/catalog.js';
import type { CompressionMethod, VolumeItem } from '../store/manifest.js';
import { planDumps } from '../dump/plan-dumps.js';
import { groupKey } from '../store/retention-group.js';
import { planImages, type ImageFacts } from './image-plan.js';
import { planProjects, projectContainers, projectOf } from './project-plan.js';
import type { BackupPlan, BackupRequest, BackupScope, PlannedVolume, VolumeMode } from './types.js';

export interface PlanEnv {
  /** store folder name of the engine (hosts entry or `docker info` Name) */
  host: string;
  /** <store>/<host> */
  hostDir: string;
  /** complete backups of this host, oldest first (catalog) */
  backups: CatalogEntry[];
  /** true when the engine runs on this machine (unix socket): Mountpoints may be readable */
  localEngine: boolean;
  /** the hosts entry's volume_mode, which wins over backup.volumes.mode */
  volumeMode?: Config['backup']['volumes']['mode'];
  /** may this process read the Mountpoint? (only asked in mode auto on a local engine) */
  mountpointReadable?: (mountpoint: string) => boolean;
  /** per image id of the selected containers, what the engine says (readImageFacts); absent = not asked */
  images?: Map<string, ImageFacts>;
  /** containers' Config.Env (kept in memory only): lets dumps be detected by environment */
  containerEnv?: ReadonlyMap<string, string[]>;
}

const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

export const DEFAULT_LEVEL: Record<CompressionMethod, number> = { zstd: 3, gzip: 6, none: 0 };

export function planBackup(request: BackupRequest, inventory: Inventory, config: Config, env: PlanEnv): BackupPlan {
  const warnings: string[] = [];
  const set = request.backupSet === undefined ? undefined : config.backup.backup_sets[request.backupSet];
  if (request.backupSet !== undefined && !set) {
    const known = Object.keys(config.backup.backup_sets);
    throw new BbackupError(
      'USAGE',
      `unknown backup set "${request.backupSet}"; ${known.length ? `configured sets: ${known.join(', ')}` : 'no backup_sets are configured'}`,
    );
  }
  const scope: BackupScope = request.scope ?? set?.scope ?? config.backup.default_scope;
  const projects = request.projects ?? [];
  const everything =
    request.containers === undefined &&
    set === undefined &&
    request.volumes === undefined &&
    request.networks === undefined &&
    projects.length === 0;

  const wantedContainers = new Set([...(request.containers ?? []), ...(set?.containers ?? [])]);
  requireExisting('container', wantedContainers, inventory.containers);
  projectContainers(projects, inventory.containers).forEach((c) => wantedContainers.add(c.name));
  const ofProject = (labels: Record<string, string>) => projects.includes(projectOf(labels) ?? '');
  const selected = [...inventory.containers].sort(byName).filter((c) => everything || wantedContainers.has(c.name));

  const volumeNames = new Set<string>();
  if (scope.volumes) {
    const extra = [...(request.volumes ?? []), ...(set?.volumes ?? [])];
    requireExisting('volume', new Set(extra), inventory.volumes);
    if (everything) inventory.volumes.forEach((v) => volumeNames.add(v.name));
    inventory.volumes.filter((v) => ofProject(v.labels)).forEach((v) => volumeNames.add(v.name));
    for (const c of selected) for (const m of c.mounts) if (m.type === 'volume') volumeNames.add(m.source);
    extra.forEach((v) => volumeNames.add(v));
  }
  const networkNames = new Set<string>();
  if (scope.networks) {
    const extra = [...(request.networks ?? []), ...(set?.networks ?? [])];
    requireExisting('network', new Set(extra), inventory.networks);
    if (config.backup.networks === 'all') inventory.networks.forEach((n) => networkNames.add(n.name));
    for (const c of selected) c.networks.forEach((n) => networkNames.add(n));
    inventory.networks.filter((n) => ofProject(n.labels)).forEach((n) => networkNames.add(n.name));
    extra.forEach((n) => networkNames.add(n));
  }

  const compressionMethod = request.compression?.method ?? config.backup.compression.method;
  const level =
    request.compression?.level ??
    (compressionMethod === config.backup.compression.method
      ? config.backup.compression.level
      : DEFAULT_LEVEL[compressionMethod]);
  const full = request.full === true || !config.incremental.enabled;

  const dumpPlan = scope.volumes
    ? planDumps(selected, env.containerEnv, new Set([...(request.volumes ?? []), ...(set?.volumes ?? [])]))
    : { dumps: [], replaced: new Map<string, string>() };
  const volumes = [...inventory.volumes]
    .sort(byName)
    .filter((v) => volumeNames.has(v.name) && !dumpPlan.replaced.has(v.name))
    .map((v) => planVolume(v, config, env, full));
  for (const name of volumeNames)
    if (!inventory.volumes.some((v) => v.name === name))
      warnings.push(`volume ${name} is mounted by a selected container but does not exist`);

  const networks = [...inventory.networks]
    .sort(byName)
    .filter((n) => networkNames.has(n.name) && !n.builtin)
    .map((n) => ({ name: n.name, id: n.id, driver: n.driver }));

  const containers = scope.containers
    ? selected.map((c) => ({
        name: c.name,
        id: c.id,
        image: c.image,
        state: c.state,
        volumes: c.mounts.filter((m) => m.type === 'volume').map((m) => m.source),
        networks: c.networks,
      }))
    : [];

  const imagesMode = request.images ?? config.backup.images;
  const { images, notes } = scope.containers
    ? planImages(selected, imagesMode, env.images ?? new Map())
    : { images: [], notes: [] };

  if (containers.length + volumes.length + networks.length + dumpPlan.dumps.length === 0)
    warnings.push('nothing to back up: the selection and scope leave no container, volume or network');
  const parents = volumes
    .map((v) => v.parent)
    .filter((p): p is string => p !== undefined)
    .sort();
  return {
    host: env.host,
    hostDir: env.hostDir,
    scope,
    backupSet: request.backupSet,
    group: groupKey({
      schedule: request.schedule,
      backupSet: request.backupSet,
      projects: request.projects,
      containers: request.containers,
      volumes: request.volumes,
      networks: request.networks,
      scope,
    }),
    compression: { method: compressionMethod, level: compressionMethod === 'none' ? 0 : level },
    full,
    containers,
    networks,
    volumes,
    projects: scope.containers ? planProjects(projects, selected) : [],
    images,
    imageNotes: notes,
    dumps: dumpPlan.dumps,
    parent: parents.at(-1),
    estimatedBytes: volumes.reduce((sum, v) => sum + (v.estimatedBytes ?? 0), 0),
    warnings,
  };
}

function requireExisting(kind: string, wanted: Set<string>, existing: { name: string }[]): void {
  const missing = [...wanted].filter((n) => !existing.some((e) => e.name === n));
  if (missing.length > 0)
    throw new BbackupError(
      'NOT_FOUND',
      `no such ${kind}${missing.length > 1 ? 's' : ''} on this engine: ${missing.join(', ')}`,
      { kind, missing },
    );
}

function planVolume(v: VolumeInfo, config: Config, env: PlanEnv, full: boolean): PlannedVolume {
  const format = config.backup.volumes.format;
  const parentEntry = format === 'tree' && !full ? findParent(env.backups, v.name) : undefined;
  const previous = parentEntry ?? findParent(env.backups, v.name, 'any');
  return {
    name: v.name,
    driver: v.driver,
    mountpoint: v.mountpoint,
    usedBy: v.usedBy,
    format,
    mode: resolveMode(env.volumeMode ?? config.backup.volumes.mode, v.mountpoint, env),
    parent: parentEntry?.id,
    estimatedBytes: v.size ?? previous?.item.bytes,
  };
}

function resolveMode(mode: Config['backup']['volumes']['mode'], mountpoint: string, env: PlanEnv): VolumeMode {
  if (mode !== 'auto') return mode;
  if (!env.localEngine) return 'stream';
  return env.mountpointReadable?.(mountpoint) ? 'host' : 'worker';
}

/** Newest backup that holds this volume as a complete tree (a failed volume is not a parent); 'any' also accepts an archive. */
export function findParent(
  backups: CatalogEntry[],
  volume: string,
  format: 'tree' | 'any' = 'tree',
): { id: string; item: VolumeItem } | undefined {
  for (let i = backups.length - 1; i >= 0; i--) {
    const m = backups[i]!.manifest;
    if (!m) continue;
    const item = m.items.find(
      (it): it is VolumeItem =>
        it.kind === 'volume' && it.name === volume && (format === 'any' || it.format === 'tree'),
    );
    if (item && !m.errors.some((e) => e.kind === 'volume' && e.name === volume)) return { id: backups[i]!.id, item };
  }
  return undefined;
}
