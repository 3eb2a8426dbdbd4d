// `bbackup schedule install-systemd`: one .service + .timer pair per enabled schedule. The service
// runs `bbackup schedule run NAME` (same hooks, notifications and state as the daemon); the timer
// carries the schedule's time as OnCalendar= with Persistent=true, so a run missed while the
// machine was off happens at the next boot.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import { BbackupError } from '../errors.js';
import { safeSegment } from '../store/layout.js';
import { daemonUnit, serviceUnit, timerUnit } from './systemd.js';

export interface InstallOptions {
  config: Config;
  configPath?: string;
  dir: string;
  /** unit name prefix: <prefix>-<schedule>.service */
  prefix: string;
  /** argv that starts bbackup */
  command: string[];
  /** only these schedules (default: every enabled one) */
  only?: string[];
}

export interface WrittenUnit {
  schedule: string;
  unit: string;
  service: string;
  timer: string;
}

/** systemd unit names allow [A-Za-z0-9:_.\-]; anything else in a schedule name is escaped. */
export const unitNameFor = (prefix: string, schedule: string): string =>
  `${prefix}-${safeSegment(schedule).replace(/%/g, '\\x')}`;

export async function installSystemdUnits(o: InstallOptions): Promise<WrittenUnit[]> {
  const names =
    o.only && o.only.length > 0 ? o.only : Object.keys(o.config.schedule).filter((n) => o.config.schedule[n]!.enabled);
  if (names.length === 0)
    throw new BbackupError('USAGE', 'no enabled schedules in the config (schedule: section): nothing to install');
  // Render every pair first: a schedule that cannot become a timer must not leave half a set behind.
  const rendered = names.map((name) => {
    const s = o.config.schedule[name];
    if (!s)
      throw new BbackupError(
        'USAGE',
        `unknown schedule "${name}"; configured: ${Object.keys(o.config.schedule).join(', ') || 'none'}`,
      );
    const unit = unitNameFor(o.prefix, name);
    const opts = {
      unitName: unit,
      scheduleName: name,
      cron: s.cron,
      command: o.command,
      configPath: o.configPath,
      jitterSeconds: s.jitter_seconds,
    };
    return { name, unit, service: serviceUnit(opts), timer: timerUnit(opts) };
  });
  await mkdir(o.dir, { recursive: true });
  const written: WrittenUnit[] = [];
  for (const r of rendered) {
    const service = join(o.dir, `${r.unit}.service`);
    const timer = join(o.dir, `${r.unit}.timer`);
    await writeFile(service, r.service);
    await writeFile(timer, r.timer);
    written.push({ schedule: r.name, unit: r.unit, service, timer });
  }
  return written;
}

/** The daemon's own unit: <prefix>-daemon.service. */
export async function installDaemonUnit(
  o: Pick<InstallOptions, 'configPath' | 'dir' | 'prefix' | 'command'>,
): Promise<string> {
  await mkdir(o.dir, { recursive: true });
  const path = join(o.dir, `${o.prefix}-daemon.service`);
  await writeFile(path, daemonUnit({ command: o.command, configPath: o.configPath }));
  return path;
}
