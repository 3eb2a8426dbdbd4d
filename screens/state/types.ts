// The TUI's state: everything a view draws comes from here. It is fed by engine events, Docker
// events and file watchers (see feeds.ts) and read by pure presenters.
import type { Config } from '../../src/config/schema.js';
import type { Inventory } from '../../src/docker/inventory.js';
import type { FreshnessRow } from '../../src/schedule/freshness.js';
import type { LastDrill } from '../../src/drill/record.js';
import type { ItemKind, JobKind, LogLevel, Outcome } from '../../src/events.js';

export type ItemState = 'queued' | 'running' | 'done' | 'failed' | 'skipped';

export interface ItemView {
  name: string;
  kind: ItemKind;
  state: ItemState;
  bytes: number;
  total?: number;
  rate?: number;
  eta?: number;
  /** uploads: bytes stored on the remote so far, and bytes the remote already had (not sent again) */
  sent?: number;
  skipped?: number;
  detail?: string;
}

export interface JobView {
  id: string;
  kind: JobKind;
  title: string;
  /** number of items the job announced */
  itemCount: number;
  items: ItemView[];
  paused: boolean;
  started: number;
  ended?: number;
  outcome?: Outcome;
  summary?: string;
  backupId?: string;
}

export interface Notice {
  time: number;
  level: LogLevel;
  msg: string;
}

export interface BackupRow {
  id: string;
  host: string;
  created: string;
  status: string;
  /** bytes on disk or logical bytes, whichever the catalog reports */
  size?: number;
  items: number;
  containers: number;
  volumes: number;
  networks: number;
  encrypted?: boolean;
}

export interface RemoteRow {
  remote: string;
  id: string;
  host?: string;
  created?: string;
  size?: number;
  encrypted?: boolean;
  status?: string;
}

/** A remote's figures (src/remote/repo/stats.ts), as the engine computed them. */
export interface RemoteStatsData {
  backups: number;
  /** bytes stored on the remote */
  stored: number;
  /** bytes its backups restore to */
  logical: number;
  dedupRatio?: number;
  /** what the newest local backup would send (plaintext bytes the remote lacks, of its total) */
  wouldAdd?: { bytes: number; of: number; backup: string; sent: boolean };
}

export type RemoteStatsEntry = { loading: true } | { error: string } | { stats: RemoteStatsData };

export interface Selection {
  containers: Set<string>;
  volumes: Set<string>;
  networks: Set<string>;
}

export interface TuiState {
  host: { name: string; docker: string; store: string; freePercent?: number };
  config: Config;
  configPath?: string;
  inventory: Inventory;
  inventoryAt?: number;
  selection: Selection;
  /** Compose projects folded in the containers pane (their members hidden) */
  collapsedProjects: Set<string>;
  jobs: JobView[];
  /** warnings and errors: the error pane */
  notices: Notice[];
  /** every event line of this run and the log lines: the log viewer */
  log: Notice[];
  /** bytes/s, one sample per second while jobs run; newest last */
  rates: number[];
  backups: BackupRow[];
  backupsError?: string;
  remotes: RemoteRow[];
  remotesError?: string;
  remotesLoading?: boolean;
  /** per container name: the age of its newest backup against its schedules (containers pane) */
  freshness?: Record<string, FreshnessRow>;
  /** per remote name: its figures for the remotes screen */
  remoteStats: Record<string, RemoteStatsEntry>;
  /** container name (as backed up) -> its last restore drill */
  drills: Map<string, LastDrill>;
}

export const MAX_NOTICES = 200;
export const MAX_LOG = 5000;
export const MAX_RATES = 180;

export function emptyInventory(): Inventory {
  return { containers: [], volumes: [], networks: [] };
}

export function initialState(config: Config, host: TuiState['host'], configPath?: string): TuiState {
  return {
    host,
    config,
    configPath,
    inventory: emptyInventory(),
    selection: { containers: new Set(), volumes: new Set(), networks: new Set() },
    collapsedProjects: new Set(),
    jobs: [],
    notices: [],
    log: [],
    rates: [],
    backups: [],
    remotes: [],
    remoteStats: {},
    drills: new Map(),
  };
}
