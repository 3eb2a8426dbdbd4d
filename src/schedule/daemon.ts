// `bbackup daemon`: runs every enabled schedule on its cron. Schedules are independent of each
// other; one schedule never overlaps itself: a fire time that comes while its previous run is still
// going is skipped and logged (and counted in the state file), never queued, so a slow night does
// not snowball into back-to-back runs. On start, runs that fell due while no daemon was alive are
// reported. SIGINT/SIGTERM (the signal) stop the timers and cancel running backups cleanly.
import { Cron } from 'croner';
import type { Config, ScheduleConfig } from '../config/schema.js';
import { BbackupError, describeError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { RunStatus } from '../notify/report.js';
import { currentRun } from '../process-identity.js';
import { sendPing } from '../notify/ping.js';
import { missedRuns, scheduleProblems, type Missed } from './cron.js';
import { patchSchedule, readState, updateState } from './state.js';

export interface ScheduleRunResult {
  status: RunStatus;
  backupId?: string;
  host?: string;
  error?: string;
}

/** Runs one scheduled backup to its end; must not throw for an ordinary failure. */
export type ScheduleRunner = (
  name: string,
  schedule: ScheduleConfig,
  signal: AbortSignal,
) => Promise<ScheduleRunResult>;

export interface DaemonOptions {
  config: Config;
  run: ScheduleRunner;
  statePath: string;
  logger: Logger;
  signal: AbortSignal;
  /** told about runs missed while no daemon was alive (the CLI sends a notification) */
  onMissed?: (name: string, schedule: ScheduleConfig, missed: Missed) => Promise<void>;
  /** how often the daemon records that it is alive (default 30 s) */
  heartbeatMs?: number;
  random?: () => number;
}

export interface DaemonHandle {
  /** resolves once stopped: timers cleared and running backups ended */
  readonly done: Promise<void>;
  /** names of schedules whose run is in progress */
  running(): string[];
  /**
   * Take the schedules of a new config: changed, added and removed ones are re-armed, the rest
   * keep their timers; a config with problems is refused (throws) and the old schedules stay.
   * Returns the names that changed.
   */
  reload(config: Config): string[];
}

export async function startDaemon(opts: DaemonOptions): Promise<DaemonHandle> {
  const log = opts.logger.child('daemon');
  const schedules = Object.entries(opts.config.schedule).filter(([, s]) => s.enabled);
  const problems = scheduleProblems(opts.config);
  if (problems.length > 0) throw new BbackupError('CONFIG_INVALID', problems.join('\n'), { problems });
  await reportMissed(opts, schedules);
  const started = new Date().toISOString();
  const beat = () =>
    updateState(
      opts.statePath,
      (st) => (st.daemon = { pid: process.pid, started, lastSeen: new Date().toISOString(), run: currentRun() }),
    );
  await beat();
  const heartbeat = setInterval(
    () => void beat().catch((err) => log.warn(`cannot write ${opts.statePath}: ${describeError(err)}`)),
    opts.heartbeatMs ?? 30_000,
  );

  const inFlight = new Map<string, Promise<void>>();
  const fire = (name: string, schedule: ScheduleConfig) => {
    if (opts.signal.aborted) return;
    if (inFlight.has(name)) {
      log.warn(`schedule ${name}: previous run still going, this run (${new Date().toISOString()}) is skipped`);
      void patchSchedule(opts.statePath, name, (e) => {
        e.skipped = (e.skipped ?? 0) + 1;
        e.lastSkipped = new Date().toISOString();
      }).catch(() => undefined);
      return;
    }
    const run = runOnce(name, schedule).finally(() => inFlight.delete(name));
    inFlight.set(name, run);
  };

  const runOnce = async (name: string, schedule: ScheduleConfig): Promise<void> => {
    const jitter = Math.floor((opts.random ?? Math.random)() * schedule.jitter_seconds * 1000);
    if (jitter > 0) {
      log.info(`schedule ${name}: waiting ${Math.round(jitter / 100) / 10} s of jitter`);
      if (!(await sleep(jitter, opts.signal))) return;
    }
    await runRecorded(opts.statePath, name, schedule, opts.run, opts.signal, log);
  };

  // One timer per enabled schedule, keyed by name; reload() replaces only the ones that changed.
  const timers = new Map<string, { cron: Cron; json: string }>();
  const arm = (name: string, s: ScheduleConfig) => {
    const cron = new Cron(
      s.cron,
      { name: `bbackup-${name}-${Date.now()}`, catch: (err) => log.error(`schedule ${name}: ${describeError(err)}`) },
      () => fire(name, s),
    );
    timers.set(name, { cron, json: JSON.stringify(s) });
    log.info(`schedule ${name}: next run ${cron.nextRun()?.toISOString() ?? 'never'}`);
  };
  for (const [name, s] of schedules) arm(name, s);
  if (schedules.length === 0)
    log.warn('no enabled schedules in the config (schedule: section); the daemon has nothing to do');

  const reload = (config: Config): string[] => {
    const problems = scheduleProblems(config);
    if (problems.length > 0)
      throw new BbackupError('CONFIG_INVALID', `reload refused, the old schedules stay: ${problems.join('; ')}`, {
        problems,
      });
    const next = new Map(Object.entries(config.schedule).filter(([, s]) => s.enabled));
    const changed: string[] = [];
    for (const [name, t] of timers) {
      const s = next.get(name);
      if (s && JSON.stringify(s) === t.json) continue;
      // A run in progress goes on; the overlap check still holds it against the new timer.
      t.cron.stop();
      timers.delete(name);
      changed.push(name);
      if (!s) log.info(`schedule ${name}: removed`);
    }
    for (const [name, s] of next) {
      if (timers.has(name)) continue;
      arm(name, s);
      if (!changed.includes(name)) changed.push(name);
    }
    return changed;
  };

  const done = new Promise<void>((resolve) => {
    const stop = async () => {
      for (const t of timers.values()) t.cron.stop();
      clearInterval(heartbeat);
      log.info(`stopping: waiting for ${inFlight.size} running backup(s) to end`);
      await Promise.allSettled([...inFlight.values()]);
      await beat().catch(() => undefined);
      resolve();
    };
    if (opts.signal.aborted) void stop();
    else opts.signal.addEventListener('abort', () => void stop(), { once: true });
  });
  return { done, running: () => [...inFlight.keys()], reload };
}

async function reportMissed(opts: DaemonOptions, schedules: [string, ScheduleConfig][]): Promise<void> {
  const state = await readState(opts.statePath);
  const now = new Date();
  for (const [name, s] of schedules) {
    const entry = state.schedules[name];
    const seen = [state.daemon?.lastSeen, entry?.lastStart]
      .filter((t): t is string => t !== undefined)
      .map((t) => new Date(t).getTime());
    // No trace of an earlier daemon or run: a first start misses nothing.
    if (seen.length === 0) continue;
    const missed = missedRuns(s.cron, new Date(Math.max(...seen)), now);
    if (missed.count === 0) continue;
    opts.logger
      .child('daemon')
      .warn(
        `schedule ${name}: ${missed.more ? 'more than ' : ''}${missed.count} run(s) were missed while the daemon was down (first due ${missed.first?.toISOString()}, last ${missed.last?.toISOString()})`,
      );
    await patchSchedule(opts.statePath, name, (e) => {
      e.missed = (e.missed ?? 0) + missed.count;
      e.lastMissed = missed.last?.toISOString();
    });
    await opts
      .onMissed?.(name, s, missed)
      .catch((err) => opts.logger.warn(`schedule ${name}: could not report the missed run: ${describeError(err)}`));
  }
}

/** Resolves true after ms, false when the signal aborts first. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      resolve(false);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Run one schedule and record its start and result in the state file (daemon and `schedule run`). */
export async function runRecorded(
  statePath: string,
  name: string,
  schedule: ScheduleConfig,
  run: ScheduleRunner,
  signal: AbortSignal,
  log: Logger,
): Promise<ScheduleRunResult> {
  const start = new Date().toISOString();
  log.info(`schedule ${name}: run starts`);
  await patchSchedule(statePath, name, (e) => {
    e.lastStart = start;
    delete e.lastEnd;
  }).catch((err) => log.warn(`cannot write ${statePath}: ${describeError(err)}`));
  if (schedule.ping) await sendPing(schedule.ping, 'start', `schedule ${name} started at ${start}`, { logger: log });
  let result: ScheduleRunResult;
  try {
    result = await run(name, schedule, signal);
  } catch (err) {
    result = { status: 'failed', error: describeError(err) };
  }
  if (schedule.ping) {
    const summary = `schedule ${name}: ${result.status}${result.backupId ? ` (backup ${result.backupId})` : ''}${result.host ? ` on ${result.host}` : ''}`;
    await sendPing(
      schedule.ping,
      result.status === 'ok' ? 'success' : 'failure',
      result.error ? `${summary}\n${result.error}` : summary,
      { logger: log },
    );
  }
  const level = result.status === 'ok' ? 'info' : 'error';
  log[level](
    `schedule ${name}: run ended ${result.status}${result.backupId ? ` (backup ${result.backupId})` : ''}${result.error ? `: ${result.error}` : ''}`,
  );
  await patchSchedule(statePath, name, (e) => {
    e.lastEnd = new Date().toISOString();
    e.lastStatus = result.status;
    e.lastBackupId = result.backupId ?? null;
    e.lastError = result.error ?? null;
    if (result.host) e.lastHost = result.host;
    e.runs = (e.runs ?? 0) + 1;
  }).catch((err) => log.warn(`cannot write ${statePath}: ${describeError(err)}`));
  return result;
}
