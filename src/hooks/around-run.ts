// What happens around every backup run, whoever starts it (CLI, daemon, systemd): global pre-hooks,
// the run itself, global post-hooks with the run's details, then the notifications. A run that
// cannot even start (store, Docker engine or a remote cannot be opened) is reported as
// `backup.unavailable` so that the silence of a dead setup is never mistaken for success.
import type { Config } from '../config/schema.js';
import { BbackupError, describeError, isAbortError } from '../errors.js';
import type { Emit } from '../events.js';
import type { Logger } from '../log/logger.js';
import { notifyRun, type Delivery, type NotifyOptions } from '../notify/notify.js';
import { buildReport, type RunReport, type RunStatus } from '../notify/report.js';
import { hookEnv, runHostHooks, type HookContext } from './host-hooks.js';

/** What a finished run tells the wrapper. */
export interface RunOutcome {
  status: RunStatus;
  backupId?: string;
  backupDir?: string;
  items?: Partial<RunReport['items']>;
  sizes?: Partial<RunReport['sizes']>;
  errors?: RunReport['errors'];
}

export interface AroundRunOptions extends HookContext {
  config: Config;
  logger?: Logger;
  emit?: Emit;
  signal?: AbortSignal;
  notify?: Omit<NotifyOptions, 'logger' | 'signal'>;
}

export interface AroundRunResult {
  report: RunReport;
  outcome?: RunOutcome;
  /** the error that stopped the run, when it did not finish */
  error?: unknown;
  deliveries: Delivery[];
}

const errorCode = (err: unknown): string =>
  err instanceof BbackupError ? err.code : isAbortError(err) ? 'CANCELLED' : 'INTERNAL';

/** A run whose pre-hooks have run: finish() runs the post-hooks and sends the notifications. */
export interface StartedRun {
  /** set when a pre-hook failed: the run must not go on */
  preError?: unknown;
  finish(outcome?: RunOutcome, error?: unknown): Promise<AroundRunResult>;
}

/** Global pre-hooks now; everything that follows a run in finish(). */
export async function beginRun(opts: AroundRunOptions): Promise<StartedRun> {
  const started = new Date();
  const hooks = opts.config.hooks;
  const log = opts.logger?.child('hooks');
  let preError: unknown;
  try {
    await runHostHooks('pre', hooks.pre, {
      timeoutSec: hooks.timeout,
      env: hookEnv('pre', opts),
      signal: opts.signal,
      emit: opts.emit,
    });
  } catch (err) {
    preError = err;
  }
  const finish = async (outcome?: RunOutcome, error?: unknown): Promise<AroundRunResult> => {
    const failedAt = error === undefined ? undefined : error === preError ? 'hooks.pre' : 'run';
    const cancelled = error !== undefined && (isAbortError(error) || errorCode(error) === 'CANCELLED');
    const event: RunReport['event'] = failedAt === 'run' && !cancelled ? 'backup.unavailable' : 'backup.finished';
    const errors = [...(outcome?.errors ?? [])];
    if (error !== undefined) errors.push({ item: failedAt!, code: errorCode(error), message: describeError(error) });
    let report = buildReport({
      event,
      host: opts.host,
      schedule: opts.schedule,
      started,
      backupId: outcome?.backupId,
      status: outcome?.status ?? (cancelled ? 'cancelled' : 'failed'),
      items: outcome?.items,
      sizes: outcome?.sizes,
      errors,
    });
    try {
      // Post-hooks run whatever the outcome, with their own deadline: the job's signal may be aborted.
      await runHostHooks('post', hooks.post, {
        timeoutSec: hooks.timeout,
        env: hookEnv('post', opts, report, outcome?.backupDir),
        emit: opts.emit,
      });
    } catch (err) {
      log?.error(describeError(err));
      report = {
        ...report,
        errors: [...report.errors, { item: 'hooks.post', code: errorCode(err), message: describeError(err) }],
      };
    }
    const deliveries = await notifyRun(opts.config, report, { ...opts.notify, logger: opts.logger });
    return { report, outcome, error, deliveries };
  };
  return { preError, finish };
}

export async function aroundRun(opts: AroundRunOptions, body: () => Promise<RunOutcome>): Promise<AroundRunResult> {
  const run = await beginRun(opts);
  if (run.preError !== undefined) return run.finish(undefined, run.preError);
  let outcome: RunOutcome;
  try {
    outcome = await body();
  } catch (err) {
    return run.finish(undefined, err);
  }
  return run.finish(outcome);
}
