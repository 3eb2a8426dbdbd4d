// A schedule as a systemd .service + .timer pair. The cron expression becomes an OnCalendar= line
// computed from croner's parsed fields (so every syntax croner reads is covered), written as
// explicit lists and a..b ranges. Limits, refused with a clear message instead of a wrong timer:
//   - day-of-month AND day-of-week both restricted: cron runs when EITHER matches, systemd only
//     when BOTH do -> use two schedules;
//   - croner's L (last day), W and #n (nth weekday) have no OnCalendar equivalent.
// Timers use the machine's local time, as croner does; Persistent=true runs a missed start at boot.
import { CronPattern } from 'croner';
import { BbackupError } from '../errors.js';

const DAY_NAMES = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const ANY_OCCURRENCE = 0b111111;

/** Indices set in a croner field, as values with `offset` added (days and months count from 1). */
const valuesOf = (field: readonly number[], offset = 0): number[] => field.flatMap((v, i) => (v ? [i + offset] : []));

/** [1,2,3,5] -> "01..03,05"; every value -> "*" */
export function compactList(values: number[], all: number, pad = 2, name?: (v: number) => string): string {
  if (values.length === all) return '*';
  const show = name ?? ((v: number) => String(v).padStart(pad, '0'));
  const parts: string[] = [];
  for (let i = 0; i < values.length;) {
    let j = i;
    while (j + 1 < values.length && values[j + 1] === values[j]! + 1) j++;
    if (j - i >= 2) parts.push(`${show(values[i]!)}..${show(values[j]!)}`);
    else for (let k = i; k <= j; k++) parts.push(show(values[k]!));
    i = j + 1;
  }
  return parts.join(',');
}

export function cronToOnCalendar(expr: string, scheduleName = '?'): string {
  let p: CronPattern;
  try {
    p = new CronPattern(expr);
  } catch (err) {
    throw new BbackupError(
      'CONFIG_INVALID',
      `schedule ${scheduleName}: cron "${expr}" is not valid: ${(err as Error).message}`,
    );
  }
  const refuse = (why: string) => {
    throw new BbackupError(
      'USAGE',
      `schedule ${scheduleName}: cron "${expr}" cannot be written as a systemd OnCalendar: ${why}. Run it with \`bbackup daemon\` instead, or rewrite the expression.`,
    );
  };
  if (p.lastDayOfMonth || p.lastWeekday || p.nearestWeekdays.some((v) => v !== 0))
    refuse('L and W have no systemd equivalent');
  if (p.dayOfWeek.some((v) => v !== 0 && v !== ANY_OCCURRENCE))
    refuse('#n (nth weekday of the month) has no systemd equivalent');
  if (!p.starDOM && !p.starDOW)
    refuse(
      'cron runs when day-of-month OR day-of-week matches, systemd only when both do; split it into two schedules',
    );
  const weekdays = valuesOf(p.dayOfWeek);
  const dow = p.starDOW || weekdays.length === 7 ? '' : `${compactList(weekdays, 7, 0, (d) => DAY_NAMES[d]!)} `;
  const years = p.starYear ? '*' : compactList(valuesOf(p.year), -1, 4);
  const date = `${years}-${compactList(valuesOf(p.month, 1), 12)}-${compactList(valuesOf(p.day, 1), 31)}`;
  const time = `${compactList(valuesOf(p.hour), 24)}:${compactList(valuesOf(p.minute), 60)}:${compactList(valuesOf(p.second), 60)}`;
  return `${dow}${date} ${time}`;
}

export interface UnitOptions {
  /** unit base name, e.g. bbackup-nightly */
  unitName: string;
  scheduleName: string;
  cron: string;
  /** argv of the bbackup executable, e.g. ['/usr/bin/node', '/opt/bbackup/dist/src/cli/bin.js'] */
  command: string[];
  configPath?: string;
  jitterSeconds: number;
}

/** systemd quoting for one ExecStart word: C-style, double quotes when needed; % doubled. */
export function quoteExecArg(arg: string): string {
  const escaped = arg.replace(/%/g, '%%');
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(escaped)) return escaped;
  return `"${escaped.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\$/g, '$$$$')}"`;
}

export function serviceUnit(o: UnitOptions): string {
  const argv = [...o.command, ...(o.configPath ? ['--config', o.configPath] : []), 'schedule', 'run', o.scheduleName];
  return [
    '# Written by `bbackup schedule install-systemd`; regenerate it instead of editing.',
    '[Unit]',
    `Description=bbackup scheduled backup "${o.scheduleName}"`,
    'Wants=docker.service',
    'After=docker.service network-online.target',
    '',
    '[Service]',
    'Type=oneshot',
    `ExecStart=${argv.map(quoteExecArg).join(' ')}`,
    // Exit 4 means a partial backup: the unit shows as failed, which is what an operator wants to see.
    'Nice=10',
    'IOSchedulingClass=best-effort',
    'IOSchedulingPriority=7',
    '',
  ].join('\n');
}

export function timerUnit(o: UnitOptions): string {
  return [
    '# Written by `bbackup schedule install-systemd`; regenerate it instead of editing.',
    '[Unit]',
    `Description=bbackup schedule "${o.scheduleName}" (cron ${o.cron.replace(/%/g, '%%')})`,
    '',
    '[Timer]',
    `OnCalendar=${cronToOnCalendar(o.cron, o.scheduleName)}`,
    'Persistent=true',
    ...(o.jitterSeconds > 0 ? [`RandomizedDelaySec=${o.jitterSeconds}`] : []),
    'AccuracySec=1s',
    `Unit=${o.unitName}.service`,
    '',
    '[Install]',
    'WantedBy=timers.target',
    '',
  ].join('\n');
}

/** A long-running `bbackup daemon` service, for those who prefer one process over timers. */
export function daemonUnit(o: { command: string[]; configPath?: string }): string {
  const argv = [...o.command, ...(o.configPath ? ['--config', o.configPath] : []), 'daemon'];
  return [
    '# Written by `bbackup schedule install-systemd --daemon`; regenerate it instead of editing.',
    '[Unit]',
    'Description=bbackup scheduler daemon',
    'Wants=docker.service',
    'After=docker.service network-online.target',
    '',
    '[Service]',
    'Type=simple',
    `ExecStart=${argv.map(quoteExecArg).join(' ')}`,
    // SIGHUP re-reads the config; SIGTERM cancels running backups cleanly (containers restarted).
    'ExecReload=/bin/kill -HUP $MAINPID',
    'KillSignal=SIGTERM',
    'TimeoutStopSec=180',
    'Restart=on-failure',
    'RestartSec=30',
    'Nice=10',
    'IOSchedulingClass=best-effort',
    'IOSchedulingPriority=7',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}
