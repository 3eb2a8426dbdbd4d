// schedule list | install-systemd | run NAME
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import type { Ending } from '../../errors.js';
import type { Outcome } from '../../events.js';
import { installDaemonUnit, installSystemdUnits } from '../../schedule/install-systemd.js';
import { scheduleOverview } from '../../schedule/overview.js';
import { runScheduleOnce } from './daemon.js';
import type { CliContext } from '../context.js';
import { formatTable } from '../output.js';
import type { Action } from '../run.js';

export function register(program: Command, action: Action): void {
  const schedule = program
    .command('schedule')
    .description('scheduled backups: list them, install systemd timers, run one now');
  schedule
    .command('list')
    .description('every schedule with its next runs and the result of its last run')
    .option('-n, --next <count>', 'next run times to show', '1')
    .action(action(listCommand));
  schedule
    .command('install-systemd')
    .description('write a .service + .timer pair (Persistent=true) per enabled schedule')
    .option('--dir <dir>', 'where to write the units', '/etc/systemd/system')
    .option('--name <prefix>', 'unit name prefix: <prefix>-<schedule>.timer', 'bbackup')
    .option('--schedule <name...>', 'only these schedules')
    .option('--exec <path>', 'the bbackup executable the service runs (default: this one)')
    .option('--daemon', 'instead of timers, write one <prefix>-daemon.service running `bbackup daemon`')
    .action(action(installCommand));
  schedule
    .command('run')
    .argument('<name>', 'schedule name')
    .description('run one schedule now, as the daemon would (hooks, notifications, state); used by the systemd service')
    .action(action(runCommand));
}

async function listCommand(ctx: CliContext, opts: { next: string }): Promise<Outcome> {
  const overview = await scheduleOverview(ctx.config, { next: Number(opts.next) || 1 });
  if (ctx.opts.json) {
    ctx.printJson(overview);
    return 'ok';
  }
  const rows = overview.schedules;
  if (rows.length === 0) {
    ctx.print('no schedules configured (schedule: section)');
    return 'ok';
  }
  ctx.print(
    formatTable(rows, [
      { header: 'SCHEDULE', value: (r) => r.name + (r.enabled ? '' : ' (disabled)') },
      { header: 'CRON', value: (r) => r.cron },
      { header: 'WHAT', value: (r) => r.what + (r.host ? ` @${r.host}` : '') },
      { header: 'NEXT RUN', value: (r) => (r.next.length ? r.next.map(localTime).join(', ') : '-') },
      { header: 'LAST RUN', value: (r) => (r.last.lastStart ? localTime(r.last.lastStart) : 'never') },
      { header: 'RESULT', value: (r) => (r.inProgress ? 'running' : (r.last.lastStatus ?? '-')) },
      { header: 'BACKUP', value: (r) => r.last.lastBackupId ?? '-' },
      { header: 'SKIPPED', value: (r) => String(r.last.skipped ?? 0), align: 'right' },
      { header: 'MISSED', value: (r) => String(r.last.missed ?? 0), align: 'right' },
    ]),
  );
  const errors = rows.filter((r) => r.last.lastError).map((r) => `  ${r.name}: ${r.last.lastError}`);
  if (errors.length) ctx.print(`last errors:\n${errors.join('\n')}`);
  const d = overview.daemon;
  ctx.print(
    d
      ? `daemon: pid ${d.pid} ${d.alive ? 'running' : 'not running'}, last seen ${localTime(d.lastSeen)}`
      : 'daemon: never started',
  );
  return 'ok';
}

const localTime = (iso: string): string => {
  const d = new Date(iso);
  const p = (v: number) => String(v).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
};

/** argv that starts this very bbackup: the built bin.js, or bin.ts through tsx from a checkout. */
function selfCommand(exec?: string): string[] {
  if (exec) return [resolve(exec)];
  const script = process.argv[1] ? resolve(process.argv[1]) : '';
  if (script.endsWith('.ts')) return [process.execPath, '--import', fileURLToPath(import.meta.resolve('tsx')), script];
  if (script && existsSync(script)) return [process.execPath, script];
  return ['/usr/bin/env', 'bbackup'];
}

async function installCommand(
  ctx: CliContext,
  opts: { dir: string; name: string; schedule?: string[]; exec?: string; daemon?: boolean },
): Promise<Outcome> {
  if (opts.daemon) {
    const path = await installDaemonUnit({
      configPath: ctx.loadedConfig.source.path,
      dir: resolve(opts.dir),
      prefix: opts.name,
      command: selfCommand(opts.exec),
    });
    if (ctx.opts.json) ctx.printJson({ units: [{ unit: `${opts.name}-daemon`, service: path }] });
    else
      ctx.print(
        `${path}\nenable with: systemctl daemon-reload && systemctl enable --now ${opts.name}-daemon.service  (reload the config: systemctl reload ${opts.name}-daemon)`,
      );
    return 'ok';
  }
  const written = await installSystemdUnits({
    config: ctx.config,
    configPath: ctx.loadedConfig.source.path,
    dir: resolve(opts.dir),
    prefix: opts.name,
    command: selfCommand(opts.exec),
    only: opts.schedule,
  });
  if (ctx.opts.json) ctx.printJson({ units: written });
  else {
    for (const w of written)
      ctx.print(`schedule ${w.schedule}: ${w.service}\n${' '.repeat(10 + w.schedule.length)}${w.timer}`);
    ctx.print(
      `enable with: systemctl daemon-reload && systemctl enable --now ${written.map((w) => `${w.unit}.timer`).join(' ')}`,
    );
  }
  return 'ok';
}

async function runCommand(ctx: CliContext, name: string): Promise<Outcome | Ending> {
  return runScheduleOnce(ctx, name);
}
