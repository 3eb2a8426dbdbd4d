// What the TUI needs from the engine, as one interface. engine/real.ts implements it over the
// public API of src/ (jobs, store, restore, remote, docker events); the TUI never reaches past it.
import type { Inventory } from '../../src/docker/inventory.js';
import type { LastDrill } from '../../src/drill/record.js';
import type { Emit } from '../../src/events.js';
import type { JobHandle } from '../../src/jobs/types.js';
import type { DiffEntry } from '../../src/files/diff.js';
import type { ListedEntry } from '../../src/files/listing.js';
import type { FileHead } from '../../src/files/read-file.js';
import type { PathRestoreResult } from '../../src/files/restore-paths.js';
import type { FreshnessRow } from '../../src/schedule/freshness.js';
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

export interface FileRestoreRequest {
  id: string;
  volume: string;
  paths: string[];
  to?: string;
  inPlace?: boolean;
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
  /** every entry of a saved volume, both formats (src/files/listing.ts) */
  volumeEntries(m: Manifest, volume: string): AsyncIterable<ListedEntry>;
  /** the saved volume against the live one (src/files/diff.ts) */
  diffVolume(m: Manifest, volume: string): Promise<DiffEntry[]>;
  /** the first `max` bytes of one saved file */
  readVolumeFile(m: Manifest, volume: string, path: string, max: number): Promise<FileHead>;
  /** file-level restore: into the live volume (inPlace) or under a host folder (to) */
  restorePaths(req: FileRestoreRequest): Promise<PathRestoreResult>;
  startVerify(id: string, emit: Emit): Promise<JobHandle>;
  /** per container, the age of its newest complete backup judged against its schedules */
  freshness(containers: string[]): Promise<FreshnessRow[]>;
  previewRestore(req: RestoreRequest): Promise<RestorePreview>;
  startRestore(req: RestoreRequest, emit: Emit): Promise<JobHandle>;
  remoteNames(): string[];
  listRemoteBackups(remote: string, signal: AbortSignal): Promise<RemoteRow[]>;
  /** backups, stored bytes, dedup ratio and what the newest local backup would add */
  remoteStats(remote: string, signal: AbortSignal): Promise<RemoteStatsData>;
  startPull(remote: string, id: string, emit: Emit): Promise<JobHandle>;
  close(): Promise<void>;
}
