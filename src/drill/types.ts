// The drill vocabulary: what is asked, and the report every front end (text, --json, the store's
// record, notifications, metrics, the TUI's marks) reads. Plain data.
import type { JobError } from '../jobs/types.js';
import type { VolumeMode } from '../restore/types.js';

export interface DrillRequest {
  /** the backup folder to drill */
  backupDir: string;
  /** containers (names in the backup) to drill; empty = everything the backup holds */
  containers: string[];
  /** leave the sandbox for inspection */
  keep: boolean;
  /** seconds a container without a healthcheck must stay up */
  upSeconds: number;
  /** seconds to wait for a container to be healthy and its probe to finish */
  timeoutSeconds: number;
  allowPrivileged: boolean;
  /** the schedule that started it, if any */
  schedule?: string;
}

export interface DrillOptions {
  localEngine: boolean;
  volumeMode?: VolumeMode;
  workerImage?: string;
  helperLabels?: Record<string, string>;
  /** the local store (marks the backup in use while it is read) */
  store?: string;
}

export type DrillOutcome = 'passed' | 'failed' | 'cancelled';

export interface DrillContainerResult {
  /** name in the backup */
  name: string;
  /** name in the sandbox */
  sandbox: string;
  /** healthy | up | not started | restore failed | unhealthy | exited | timeout | probe failed | error */
  state: string;
  ok: boolean;
  detail: string;
  probe?: { argv: string[]; exitCode: number | null; output: string };
}

export interface DrillVolumeResult {
  name: string;
  sandbox: string;
  /** checked: every file compared with the backup's index; archive: the archive's checksum was checked before extraction */
  verified: 'checked' | 'archive' | 'not checked';
  ok: boolean;
  problems: string[];
}

export interface DrillReport {
  id: string;
  host: string;
  backup_id: string;
  backup_created: string;
  outcome: DrillOutcome;
  schedule: string | null;
  started: string;
  finished: string;
  /** seconds from the start of the restore until every started container was ready */
  rto_seconds: number | null;
  /** seconds between the backup and the drill: the age of the data a restore brings back */
  rpo_seconds: number;
  containers: DrillContainerResult[];
  volumes: DrillVolumeResult[];
  /** what failed, each naming the thing (a file, a container) */
  errors: JobError[];
  kept: boolean;
  sandbox: { prefix: string; containers: string[]; volumes: string[]; networks: string[] };
}
