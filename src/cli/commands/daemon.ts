// bbackup daemon: run the config's schedules until SIGINT/SIGTERM. Also home of the schedule
// runner that `schedule run` (systemd) shares, so both paths back up, hook and notify alike.
import type { Command } from 'commander';
import { loadConfig } from '../../config/load.js';
import type { Config, ScheduleConfig } from '../../config/schema.js';
import { connectDocker, isLocalEngine, resolveDockerTarget, type DockerTarget } from '../../docker/client.js';
import { expandHome } from '../../config/locate.js';
import { chooseDrillBackup } from '../../drill/choose.js';
import { startDrill } from '../../jobs/drill-job.js';
import { hostDir } from '../../store/layout.js';
import { serveMetrics } from '../../metrics/server.js';
import { describeError, errorCodeOf, failedWith, type Ending } from '../../errors.js';
import type { Outcome } from '../../events.js';
import { startBackup } from '../../jobs/backup-job.js';
import { notifyRun } from '../../notify/notify.js';
import { buildReport } from '../../notify/report.js';
import { runRecorded, startDaemon, type ScheduleRunner, type ScheduleRunResult } from '../../schedule/daemon.js';
import { runOperatedBackup, scheduleRequest } from '../../schedule/run-backup.js';
import { statePathFor } from '../../schedule/state.js';
import { BbackupError } from '../../errors.js';
import type { CliContext } from '../context.js';
import type { Action } from '../run.js';
import { onInterrupt } from '../signals.js';

export function register(program: Command, action: Action): void {
  program
    .command('daemon')
    .description(
      'run the schedules of the config (schedule: section) until stopped; SIGINT/SIGTERM cancel running backups cleanly',
    )
    .option('--metrics <address:port>', 'serve Prometheus metrics at http://ADDRESS:PORT/metrics (e.g. 127.0.0.1:9469)')
    .action(action(daemonCommand));
  program
    .command('notify-test')
    .description(
      'send a test notification to every configured email and webhook (whatever their levels) and say which arrived',
    )
    .action(action(notifyTestCommand));
}

async function notifyTestCommand(ctx: CliContext): Promise<Outcome> {
  const config = ctx.config;
  const host = ctx.opts.host ?? config.default_host ?? 'default';
  const report = buildReport({ event: 'notify.test', host, status: 'ok', started: new Date() });
  const deliveries = await notifyRun(config, report, { logger: ctx.logger, all: true });
  if (deliveries.length === 0)
    throw new BbackupError('USAGE', 'no notifiers are configured (notifications.email, notifications.webhooks)');
  if (ctx.opts.json) ctx.printJson({ deliveries });
  else
    for (const d of deliveries)
      ctx.print(`${d.ok ? 'ok    ' : 'FAILED'}  ${d.channel}${d.error ? `: ${d.error}` : ''}`);
  return deliveries.every((d) => d.ok) ? 'ok' : 'failed';
}

/** Runs one schedule's backup with hooks and notifications; never throws for a failed backup. */
export function scheduleRunner(ctx: CliContext, currentConfig: () => Config = () => ctx.config): ScheduleRunner {
  return async (name, schedule, signal) => {
    const config = currentConfig();
    const target = resolveDockerTarget(config, schedule.host ?? ctx.opts.host, ctx.io.env);
    if (schedule.drill) return scheduledDrill(ctx, config, target, name, schedule, signal);
    const run = await runOperatedBackup({
      config,
      request: scheduleRequest(schedule, name),
      connect: () => connectDocker(target),
      hostLabel: target.hostName ?? target.address,
      start: startBackup,
      emit: ctx.logger.emit,
      logger: ctx.logger,
      schedule: name,
      signal,
    });
    const r = run.report;
    return {
      status: r.status,
      backupId: r.backup_id ?? undefined,
      host: r.host,
      error: r.errors.length ? r.errors.map((e) => `${e.item}: ${e.message}`).join('; ') : undefined,
    };
  };
}

/** A `drill: true` schedule: a restore drill of the newest complete backup of its scope. */
async function scheduledDrill(
  ctx: CliContext,
  config: Config,
  target: DockerTarget,
  name: string,
  schedule: ScheduleConfig,
  signal: AbortSignal,
): Promise<ScheduleRunResult> {
  const conn = await connectDocker(target);
  const store = expandHome(config.backup.store);
  const hostFolder = hostDir(store, conn.hostName);
  const chosen = await chooseDrillBackup(hostFolder, {
    containers: schedule.containers ?? [],
    backupSet: schedule.backup_set,
  });
  const result = await startDrill(
    {
      backupDir: chosen.dir,
      containers: schedule.containers ?? [],
      keep: false,
      upSeconds: 10,
      timeoutSeconds: 300,
      allowPrivileged: false,
      schedule: name,
    },
    {
      docker: conn.docker,
      config,
      hostFolder,
      store,
      logger: ctx.logger,
      emit: ctx.logger.emit,
      localEngine: isLocalEngine(conn.target),
      volumeMode: conn.target.volumeMode ?? config.backup.volumes.mode,
      workerImage: config.backup.volumes.worker_image,
    },
    { signal },
  ).done;
  if (!result.value)
    return {
      status: result.outcome,
      host: conn.hostName,
      error: result.errors.map((e) => e.message).join('; ') || undefined,
    };
  const report = result.value.report;
  const status = report.outcome === 'passed' ? 'ok' : report.outcome;
  return {
    status,
    backupId: report.backup_id,
    host: conn.hostName,
    error: report.errors.length ? report.errors.map((e) => `${e.item}: ${e.message}`).join('; ') : undefined,
  };
}

async function daemonCommand(ctx: CliContext, opts: { metrics?: string }): Promise<Outcome> {
  const config = ctx.config;
  let current = config;
  const stop = onInterrupt();
  let onHup: (() => void) | undefined;
  const metrics = opts.metrics ? await serveMetrics(opts.metrics, () => current, ctx.logger) : undefined;
  if (metrics) ctx.logger.info(`metrics served on ${metrics.address} (GET /metrics)`); // an URL would be masked in the log
  try {
    const daemon = await startDaemon({
      config,
      run: scheduleRunner(ctx, () => current),
      statePath: statePathFor(config),
      logger: ctx.logger,
      signal: stop.signal,
      onMissed: async (name, schedule, missed) => {
        const host = schedule.host ?? ctx.opts.host ?? config.default_host ?? 'default';
        const message = `${missed.more ? 'more than ' : ''}${missed.count} scheduled run(s) between ${missed.first?.toISOString()} and ${missed.last?.toISOString()} did not happen: the daemon was not running`;
        await notifyRun(
          config,
          buildReport({
            event: 'schedule.missed',
            host,
            schedule: name,
            status: 'failed',
            started: missed.first ?? new Date(),
            finished: new Date(),
            errors: [{ item: `schedule ${name}`, code: 'MISSED', message }],
          }),
          { logger: ctx.logger },
        );
      },
    });
    ctx.logger.info(
      `daemon running (pid ${process.pid}) with ${Object.values(config.schedule).filter((s) => s.enabled).length} schedule(s); state in ${statePathFor(config)}`,
    );
    // SIGHUP (systemctl reload) re-reads the config file; a bad file is refused and the old schedules stay.
    onHup = () => {
      try {
        const fresh = loadConfig(ctx.opts.config, ctx.io.env).config;
        const changed = daemon.reload(fresh);
        if (statePathFor(fresh) !== statePathFor(current))
          ctx.logger.warn('backup.store changed: the daemon keeps its state file until it is restarted');
        current = fresh;
        ctx.logger.info(
          `config reloaded; ${changed.length ? `re-armed: ${changed.join(', ')}` : 'no schedule changed'}`,
        );
      } catch (err) {
        ctx.logger.error(`config reload failed, nothing changed: ${describeError(err)}`);
      }
    };
    process.on('SIGHUP', onHup);
    await daemon.done;
    ctx.logger.info('daemon stopped');
    return 'ok';
  } finally {
    if (onHup) process.off('SIGHUP', onHup);
    await metrics?.close();
    stop.dispose();
  }
}

/** `schedule run NAME`: one run now, recorded like the daemon's. Exit 0 ok, 4 partial, 5 cancelled, else 3. */
export async function runScheduleOnce(ctx: CliContext, name: string): Promise<Outcome | Ending> {
  const schedule = ctx.config.schedule[name];
  if (!schedule)
    throw new BbackupError(
      'USAGE',
      `unknown schedule "${name}"; configured: ${Object.keys(ctx.config.schedule).join(', ') || 'none'}`,
    );
  const stop = onInterrupt();
  try {
    const result = await runRecorded(
      statePathFor(ctx.config),
      name,
      schedule,
      scheduleRunner(ctx),
      stop.signal,
      ctx.logger.child('schedule'),
    );
    if (ctx.opts.json) ctx.printJson({ schedule: name, ...result });
    else ctx.print(`schedule ${name}: ${result.status}${result.backupId ? ` (backup ${result.backupId})` : ''}`);
    if (result.error)
      ctx.io.stderr.write(`bbackup: ${result.status === 'ok' ? 'warning' : 'error'}: ${ctx.redact(result.error)}\n`);
    // failed without a code: a scheduled run that failed is a system failure (exit 3), whatever stopped it
    return result.status;
  } catch (err) {
    ctx.logger.error(describeError(err));
    return failedWith(errorCodeOf(err));
  } finally {
    stop.dispose();
  }
}
