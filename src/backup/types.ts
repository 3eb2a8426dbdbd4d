// The public shape of a backup: what the CLI, the TUI's scope dialog and the scheduler ask for
// (BackupRequest), what will happen (BackupPlan, pure data, printed by --dry-run), and what a
// finished job hands back (BackupValue). Plain serialisable records only.
import type { CompressionMethod, Manifest } from '../store/manifest.js';
import type { PostBackupResult } from '../jobs/post-backup.js';
import type { ImagesMode, PlannedImage } from './image-plan.js';
import type { PlannedDump } from '../dump/types.js';

export type VolumeMode = 'host' | 'worker' | 'stream';
export type VolumeFormat = 'tree' | 'archive';

export interface BackupScope {
  /** container definitions (docker inspect) and their last log lines */
  containers: boolean;
  /** named volumes of the selected containers (plus explicitly named ones) */
  volumes: boolean;
  /** networks the selected containers use (or all, config backup.networks) */
  networks: boolean;
}

export interface BackupRequest {
  /** container names; undefined (and no backupSet) = every container on the engine */
  containers?: string[];
  /** Compose projects: containers labelled com.docker.compose.project=NAME, the project's volumes
   * and networks (by the same label) and its compose files */
  projects?: string[];
  /** a backup set from config backup.backup_sets; its containers/volumes/networks are added */
  backupSet?: string;
  /** the schedule that made this run (its retention group) */
  schedule?: string;
  /** extra volumes by name (the TUI selects volumes on their own); with no containers selected
   * and volumes given, only these volumes are saved */
  volumes?: string[];
  /** extra networks by name */
  networks?: string[];
  /** what kinds of things to save; undefined = config backup.default_scope (or the set's scope) */
  scope?: BackupScope;
  /** copy every volume afresh instead of hard-linking to the previous snapshot */
  full?: boolean;
  /** default: config backup.compression */
  compression?: { method: CompressionMethod; level?: number };
  /** remote names for the post-backup upload; undefined = every enabled remote, [] = none */
  remotes?: string[];
  /** plan only: nothing is written, no lock is taken */
  dryRun?: boolean;
  /** which images to save; undefined = config backup.images */
  images?: ImagesMode;
  /** wait for another run's lock instead of failing with LOCKED */
  wait?: boolean;
}

export interface PlannedContainer {
  name: string;
  id: string;
  image: string;
  state: string;
  /** named volumes it mounts (in the plan or not) */
  volumes: string[];
  networks: string[];
}

export interface PlannedProject {
  name: string;
  /** com.docker.compose.project.working_dir */
  workingDir?: string;
  /** absolute paths: the config_files label's entries, plus .env in the working dir and env files named by labels */
  files: string[];
}

export interface PlannedNetwork {
  name: string;
  id: string;
  driver: string;
}

export interface PlannedVolume {
  name: string;
  driver: string;
  mountpoint: string;
  /** containers that mount it (all of them, selected or not: hooks may need to stop them) */
  usedBy: string[];
  format: VolumeFormat;
  /** how it will be read; 'auto' is resolved here (host when the Mountpoint is readable) */
  mode: VolumeMode;
  /** tree only: id of the backup whose snapshot unchanged files hard-link to */
  parent?: string;
  /** bytes from the engine's disk usage, or the parent's size; undefined when unknown */
  estimatedBytes?: number;
}

export interface BackupPlan {
  host: string;
  /** <store>/<host> */
  hostDir: string;
  scope: BackupScope;
  backupSet?: string;
  /** retention group the backup will belong to (store/retention-group.ts) */
  group: string;
  compression: { method: CompressionMethod; level: number };
  full: boolean;
  containers: PlannedContainer[];
  networks: PlannedNetwork[];
  volumes: PlannedVolume[];
  /** Compose projects whose compose files are copied (projects/<name>/) */
  projects: PlannedProject[];
  /** images saved with the containers (config backup.images) */
  images: PlannedImage[];
  /** why an image of a selected container is not saved (e.g. a registry holds it) */
  imageNotes: string[];
  /** database dumps of the selected containers (src/dump/), with the volume scope */
  dumps: PlannedDump[];
  /** the newest parent any volume uses (recorded in the manifest) */
  parent?: string;
  /** sum of the known volume estimates */
  estimatedBytes: number;
  /** names asked for that do not exist, or nothing to do: shown, never silently dropped */
  warnings: string[];
}

/**
 * Called around one volume's copy, e.g. by operations to stop the containers using it or run
 * exec hooks. The returned function is ALWAYS called in a finally block, with its own timeout,
 * never with the job's (possibly aborted) signal.
 */
export interface BackupHooks {
  /** the volumes the run will copy, told once before the first copy */
  planned?(volumes: readonly PlannedVolume[]): void;
  beforeVolume?(volume: PlannedVolume, containers: string[], signal: AbortSignal): Promise<() => Promise<void>>;
}

export type BackupValue =
  | {
      dryRun: false;
      id: string;
      /** the final folder <store>/<host>/<id> */
      dir: string;
      manifest: Manifest;
      plan: BackupPlan;
      /** uploads and rotation after the backup; failures there make the outcome partial */
      post?: PostBackupResult;
    }
  | { dryRun: true; plan: BackupPlan };
