// The one job runner. Every job (backup, restore, verify, pull, rotate) is a step that startJob
// runs; the runner owns what every job shares, so each front end (CLI, TUI) drives them alike:
// the id, the AbortController (cancel, or the caller's signal), the pause gate, progress with rate
// and ETA throttled once at the job's emit (progress.ts), and the job.start/job.end pair, which
// every job emits exactly once whatever happens.
import { randomBytes } from 'node:crypto';
import { BbackupError, describeError, toErrorInfo, type ErrorInfo } from '../errors.js';
import { noEmit, type Emit, type JobKind, type Outcome } from '../events.js';
import { PauseGate } from '../pause-gate.js';
import { throttleProgress, withRates } from './progress.js';
import type { JobHandle, JobResult } from './types.js';

/** The reason an item's signal carries when the user skipped it (as opposed to cancelling the job). */
export class SkipSignal extends Error {
  override name = 'SkipSignal';
  constructor(readonly item: string) {
    super(`${item} skipped by user`);
  }
}

/** How pause, resume and skip reach a step's running work (e.g. suspend a local rsync, abort one item). */
export interface JobControl {
  /** after the gate closed */
  pause?(): void | Promise<void>;
  /** before the gate opens */
  resume?(): void | Promise<void>;
  /** skip the running item (or the named one) */
  skip?(item?: string): void;
}

export interface JobContext {
  readonly jobId: string;
  /** aborted by cancel() or the caller's signal */
  readonly signal: AbortSignal;
  /** closed while the job is paused; a pausable step waits on it between items and chunks */
  readonly gate: PauseGate;
  /** this job's events: item.progress gets its rate and ETA and is throttled here */
  readonly emit: Emit;
  /** job.start, once the step knows its title and number of items (the runner sends a plain one otherwise) */
  start(title: string, items: number): void;
  /** how pause/resume/skip act on this step's work */
  control(c: JobControl): void;
  /** stop the job for a reason of the step's own (e.g. its store lock was taken over) */
  abort(reason: unknown): void;
}

/** What a step ends with: the job's result and what job.end says. */
export interface StepEnd<R> extends JobResult<R> {
  summary?: string;
  backupId?: string;
}

export interface JobStep<R> {
  kind: JobKind;
  /** job.start's title when the step ends before it announced itself */
  title: string;
  /** the item a thrown error is reported under (default: the kind) */
  item?: string;
  /** pause holds the step at the gate; false: pause only says the job cannot pause (default true) */
  pausable?: boolean;
  /** a thrown error rejects `done` (after job.end) instead of resolving 'failed': the caller reports it (restore's refusals, pull) */
  rejects?: boolean;
  run(ctx: JobContext): Promise<StepEnd<R>>;
}

export interface JobOptions {
  emit?: Emit;
  /** aborting it cancels the job (the CLI's SIGINT/SIGTERM) */
  signal?: AbortSignal;
}

/** Start a step as a job. `done` resolves with the result whatever the outcome (see JobStep.rejects). */
export function startJob<R>(step: JobStep<R>, o: JobOptions = {}): JobHandle<R> {
  const jobId = `${step.kind}-${randomBytes(4).toString('hex')}`;
  const abort = new AbortController();
  const gate = new PauseGate();
  const throttled = throttleProgress(o.emit ?? noEmit);
  const emit = withRates(throttled.emit);
  let started = false;
  let control: JobControl = {};
  const ctx: JobContext = {
    jobId,
    signal: abort.signal,
    gate,
    emit,
    start(title, items) {
      if (started) return;
      started = true;
      emit({ type: 'job.start', jobId, kind: step.kind, title, items });
    },
    control: (c) => void (control = c),
    abort: (reason) => abort.abort(reason),
  };
  const end = (outcome: Outcome, summary?: string, backupId?: string) => {
    ctx.start(step.title, 0);
    emit({
      type: 'job.end',
      jobId,
      outcome,
      ...(summary !== undefined ? { summary } : {}),
      ...(backupId !== undefined ? { backupId } : {}),
    });
  };
  const cancel = () => {
    if (abort.signal.aborted) return;
    // A paused job must run again to notice: suspended work is resumed so it can be stopped.
    void Promise.resolve(control.resume?.()).catch(() => undefined);
    gate.open();
    abort.abort(new BbackupError('CANCELLED', `${step.kind} cancelled`));
  };
  const onCallerAbort = () => cancel();
  if (o.signal?.aborted) cancel();
  else o.signal?.addEventListener('abort', onCallerAbort, { once: true });

  const run = async (): Promise<JobResult<R>> => {
    try {
      const r = await step.run(ctx);
      end(r.outcome, r.summary, r.backupId);
      const { summary: _s, backupId: _b, ...result } = r;
      return result;
    } catch (err) {
      const cancelled = abort.signal.aborted;
      end(cancelled ? 'cancelled' : 'failed', describeError(err));
      if (step.rejects && !cancelled) throw err;
      const info: ErrorInfo = toErrorInfo(err);
      if (cancelled && info.code === 'INTERNAL') info.code = 'CANCELLED';
      return { outcome: cancelled ? 'cancelled' : 'failed', errors: [{ item: step.item ?? step.kind, ...info }] };
    }
  };
  const done = run().finally(() => {
    o.signal?.removeEventListener('abort', onCallerAbort);
    throttled.flush();
    throttled.close();
  });
  return {
    id: jobId,
    done,
    get paused() {
      return gate.paused;
    },
    pause() {
      if (gate.paused || abort.signal.aborted) return;
      if (step.pausable === false) {
        emit({
          type: 'log',
          jobId,
          level: 'info',
          source: step.kind,
          msg: `${step.kind} cannot pause; it keeps running (X cancels)`,
        });
        return;
      }
      gate.close();
      void Promise.resolve(control.pause?.()).catch(() => undefined);
      emit({ type: 'job.paused', jobId });
    },
    resume() {
      if (!gate.paused) return;
      void Promise.resolve(control.resume?.())
        .catch(() => undefined)
        .then(() => gate.open());
      emit({ type: 'job.resumed', jobId });
    },
    skip(item?: string) {
      if (control.skip) control.skip(item);
      else cancel(); // a job of one item: skipping it ends the job
    },
    cancel,
  };
}
