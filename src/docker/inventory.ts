// What lives in the engine, as plain serialisable records (no live client inside), so one object
// can be printed as a table, written as JSON and rendered by the TUI.
import type Docker from 'dockerode';
import type { BackupSetConfig, Config } from '../config/schema.js';

export interface MountInfo {
  type: 'volume' | 'bind' | 'tmpfs' | 'npipe' | string;
  /** volume name for volumes, host path for binds */
  source: string;
  destination: string;
  readOnly: boolean;
}

export interface ContainerInfo {
  name: string;
  id: string;
  image: string;
  /** sha256:<hex> of the image it was created from */
  imageId?: string;
  state: string;
  status: string;
  created: string;
  mounts: MountInfo[];
  networks: string[];
  labels: Record<string, string>;
}

export interface VolumeInfo {
  name: string;
  driver: string;
  mountpoint: string;
  /** bytes, from the engine's disk-usage data; undefined when the engine did not report it */
  size?: number;
  labels: Record<string, string>;
  /** names of containers that mount it */
  usedBy: string[];
}

export interface NetworkInfo {
  name: string;
  id: string;
  driver: string;
  scope: string;
  internal: boolean;
  subnets: string[];
  labels: Record<string, string>;
  /** names of containers attached to it (from container definitions, so stopped ones count too) */
  containers: string[];
  /** bridge, host and none exist on every engine and are never backed up or restored */
  builtin: boolean;
}

export interface Inventory {
  containers: ContainerInfo[];
  volumes: VolumeInfo[];
  networks: NetworkInfo[];
}

export const BUILTIN_NETWORKS = new Set(['bridge', 'host', 'none']);

const byName = <T extends { name: string }>(a: T, b: T) => a.name.localeCompare(b.name);
const stripSlash = (n: string) => n.replace(/^\//, '');

export async function listContainers(docker: Docker): Promise<ContainerInfo[]> {
  const list = await docker.listContainers({ all: true });
  return list
    .map((c) => ({
      name: stripSlash(c.Names[0] ?? c.Id.slice(0, 12)),
      id: c.Id,
      image: c.Image,
      imageId: c.ImageID,
      state: c.State,
      status: c.Status,
      created: new Date(c.Created * 1000).toISOString(),
      mounts: (c.Mounts ?? []).map((m) => ({
        type: m.Type,
        source: m.Type === 'volume' ? (m.Name ?? m.Source) : m.Source,
        destination: m.Destination,
        readOnly: m.RW === false,
      })),
      networks: Object.keys(c.NetworkSettings?.Networks ?? {}),
      labels: c.Labels ?? {},
    }))
    .sort(byName);
}

export async function listVolumes(
  docker: Docker,
  containers?: ContainerInfo[],
  opts: { sizes?: boolean } = {},
): Promise<VolumeInfo[]> {
  const cs = containers ?? (await listContainers(docker));
  const { Volumes } = await docker.listVolumes();
  const sizes = opts.sizes === false ? new Map<string, number>() : await volumeSizes(docker);
  return (Volumes ?? [])
    .map((v) => ({
      name: v.Name,
      driver: v.Driver,
      mountpoint: v.Mountpoint,
      size: sizes.get(v.Name),
      labels: v.Labels ?? {},
      usedBy: cs.filter((c) => c.mounts.some((m) => m.type === 'volume' && m.source === v.Name)).map((c) => c.name),
    }))
    .sort(byName);
}

/** Sizes come from /system/df, which walks every volume: slow on big engines, so callers may skip it. */
async function volumeSizes(docker: Docker): Promise<Map<string, number>> {
  const df = (await docker.df()) as { Volumes?: { Name: string; UsageData?: { Size: number } | null }[] };
  const sizes = new Map<string, number>();
  for (const v of df.Volumes ?? []) {
    const size = v.UsageData?.Size;
    if (typeof size === 'number' && size >= 0) sizes.set(v.Name, size);
  }
  return sizes;
}

export async function listNetworks(docker: Docker, containers?: ContainerInfo[]): Promise<NetworkInfo[]> {
  const cs = containers ?? (await listContainers(docker));
  const list = await docker.listNetworks();
  return list
    .map((n) => ({
      name: n.Name,
      id: n.Id,
      driver: n.Driver,
      scope: n.Scope,
      internal: n.Internal ?? false,
      subnets: (n.IPAM?.Config ?? []).map((c) => c.Subnet).filter((s): s is string => Boolean(s)),
      labels: n.Labels ?? {},
      containers: cs.filter((c) => c.networks.includes(n.Name)).map((c) => c.name),
      builtin: BUILTIN_NETWORKS.has(n.Name),
    }))
    .sort(byName);
}

export async function readInventory(docker: Docker, opts: { sizes?: boolean } = {}): Promise<Inventory> {
  const containers = await listContainers(docker);
  const [volumes, networks] = await Promise.all([
    listVolumes(docker, containers, opts),
    listNetworks(docker, containers),
  ]);
  return { containers, volumes, networks };
}

export interface ResolvedMember {
  kind: 'container' | 'volume' | 'network';
  name: string;
  missing: boolean;
}

export interface ResolvedBackupSet {
  name: string;
  description?: string;
  members: ResolvedMember[];
  missing: number;
}

/** Backup sets from the config, each member checked against what exists. */
export function resolveBackupSets(config: Config, inv: Inventory): ResolvedBackupSet[] {
  return Object.entries(config.backup.backup_sets)
    .map(([name, set]) => resolveBackupSet(name, set, inv))
    .sort(byName);
}

export function resolveBackupSet(name: string, set: BackupSetConfig, inv: Inventory): ResolvedBackupSet {
  const has = (list: { name: string }[], n: string) => list.some((x) => x.name === n);
  const members: ResolvedMember[] = [
    ...set.containers.map((n) => ({ kind: 'container' as const, name: n, missing: !has(inv.containers, n) })),
    ...set.volumes.map((n) => ({ kind: 'volume' as const, name: n, missing: !has(inv.volumes, n) })),
    ...set.networks.map((n) => ({ kind: 'network' as const, name: n, missing: !has(inv.networks, n) })),
  ];
  return { name, description: set.description, members, missing: members.filter((m) => m.missing).length };
}
