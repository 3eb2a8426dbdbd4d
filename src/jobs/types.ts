// The job API both front ends (CLI, TUI) drive. A job runs items, emits EngineEvents, and can be
// paused, resumed, have its running item skipped, or be cancelled.
import type { Outcome } from '../events.js';

export interface JobHandle<R = unknown> {
  readonly id: string;
  /** resolves when the job ended, whatever the outcome; rejects only on a fatal setup error */
  readonly done: Promise<JobResult<R>>;
  pause(): void;
  resume(): void;
  readonly paused: boolean;
  /** skip the running item (or the named one); it is reported as skipped and the job goes on */
  skip(item?: string): void;
  /** cancel everything; the outcome becomes 'cancelled' */
  cancel(): void;
}

export interface JobResult<R = unknown> {
  outcome: Outcome;
  /** e.g. the backup id and manifest for a backup */
  value?: R;
  errors: { item: string; code: string; message: string }[];
}
