// The job API both front ends (CLI, TUI) drive. A job (src/jobs/job.ts) runs items, emits
// EngineEvents, and can be paused, resumed, have its running item skipped, or be cancelled.
import type { ErrorInfo } from '../errors.js';
import type { Outcome } from '../events.js';

export interface JobHandle<R = unknown> {
  readonly id: string;
  /** resolves when the job ended, whatever the outcome; rejects only for a step that refuses that way (JobStep.rejects) */
  readonly done: Promise<JobResult<R>>;
  pause(): void;
  resume(): void;
  readonly paused: boolean;
  /** skip the running item (or the named one); it is reported as skipped and the job goes on */
  skip(item?: string): void;
  /** cancel everything; the outcome becomes 'cancelled' */
  cancel(): void;
}

/** What went wrong with one item of a job. */
export interface JobError extends ErrorInfo {
  item: string;
}

export interface JobResult<R = unknown> {
  outcome: Outcome;
  /** e.g. the backup id and manifest for a backup */
  value?: R;
  errors: JobError[];
}
