// What the TUI needs from the engine, as one interface. engine/real.ts implements it over the
// public API of src/ (jobs, store, restore, remote, docker events); the TUI never reaches past it.
import type { Inventory } from '../../src/docker/inventory.js';
import type { LastDrill } from '../../src/drill/record.js';
import type { Emit } from '../../src/events.js';
import type { JobHandle } from '../../src/jobs/types.js';
import type { IndexEntry, Manifest } from '../../src/store/manifest.js';
import type { BackupRow, RemoteRow, RemoteStatsData } from '../state/types.js';

export interface BackupRequest {
  containers: string[];
  volumes: string[];
  networks: string[];
  scope: { containers: boolean; volumes: boolean; networks: boolean };
  full: boolean;
  /** undefined = every enabled remote; [] = none */
  remotes?: string[];
}

export interface RestoreRequest {
  /** local backup id, or a remote backup (pulled first) */
  id: string;
  remote?: string;
  containers: string[];
  volumes: string[];
  networks: string[];
  /** per kind: old name -> new name */
  renames: { container: Record<string, string>; volume: Record<string, string>; network: Record<string, string> };
  force: boolean;
  start: boolean;
  /** load database dumps (default true) */
  dump?: boolean;
  /** the privilege lines the operator confirmed (RestorePreview.privileges); the restore is refused if it needs others */
  allowPrivileged?: string[];
}

/** What a restore will do, in words the confirmation shows. */
export interface RestorePreview {
  create: string[];
  replace: string[];
  /** dependencies that exist already and are used as they are */
  reuse: string[];
  conflicts: string[];
  problems: string[];
  /** what the restore grants on the host, "container web: capability NET_ADMIN"; needs its own confirmation */
  privileges: string[];
}

export interface TuiEngine {
  readonly hostName: string;
  readonly serverVersion: string;
  /** this host's folder in the store */
  readonly hostDir: string;
  readonly storeRoot: string;
  readInventory(opts: { sizes: boolean }): Promise<Inventory>;
  /** Docker events: calls onChange for container/volume/network changes; returns a stop function */
  watchDocker(onChange: () => void, onError: (err: Error) => void): () => void;
  startBackup(req: BackupRequest, emit: Emit): Promise<JobHandle>;
  listBackups(): Promise<BackupRow[]>;
  /** container name -> its last restore drill, from the store's drill records */
  lastDrills(): Promise<Map<string, LastDrill>>;
  readManifest(id: string): Promise<Manifest>;
  /** the tree index of a volume of a backup (its files, in order); throws for an archive-format volume */
  volumeIndex(m: Manifest, volume: string): AsyncIterable<IndexEntry>;
  startVerify(id: string, emit: Emit): Promise<JobHandle>;
  previewRestore(req: RestoreRequest): Promise<RestorePreview>;
  startRestore(req: RestoreRequest, emit: Emit): Promise<JobHandle>;
  remoteNames(): string[];
  listRemoteBackups(remote: string, signal: AbortSignal): Promise<RemoteRow[]>;
  /** backups, stored bytes, dedup ratio and what the newest local backup would add */
  remoteStats(remote: string, signal: AbortSignal): Promise<RemoteStatsData>;
  startPull(remote: string, id: string, emit: Emit): Promise<JobHandle>;
  close(): Promise<void>;
}
