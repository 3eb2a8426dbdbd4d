// Cron expressions through croner: 5 fields (minute precision), 6 (seconds first) or 7 (with year),
// names (MON, JAN), nicknames (@daily) and croner's extensions (L, #n). Evaluated in local time,
// like cron and systemd timers.
import { Cron } from 'croner';
import type { Config } from '../config/schema.js';
import { BbackupError } from '../errors.js';

/** A paused Cron: used only to compute fire times. Throws CONFIG_INVALID naming the schedule. */
export function parseCron(expr: string, scheduleName = '?'): Cron {
  try {
    return new Cron(expr, { paused: true });
  } catch (err) {
    throw new BbackupError(
      'CONFIG_INVALID',
      `schedule ${scheduleName}: cron "${expr}" is not valid: ${(err as Error).message}`,
      { schedule: scheduleName, cron: expr },
      { cause: err },
    );
  }
}

export function nextRuns(expr: string, n: number, from: Date = new Date(), scheduleName?: string): Date[] {
  const cron = parseCron(expr, scheduleName);
  try {
    return cron.nextRuns(n, from);
  } finally {
    cron.stop();
  }
}

export interface Missed {
  /** fire times that fell in the window, counted up to `limit` */
  count: number;
  first?: Date;
  last?: Date;
  /** true when more than `limit` were due */
  more: boolean;
}

/** Fire times in (since, until]: runs that were due while nothing was running them. */
export function missedRuns(expr: string, since: Date, until: Date, limit = 1000): Missed {
  const cron = parseCron(expr);
  const out: Missed = { count: 0, more: false };
  try {
    let t: Date | null = cron.nextRun(since);
    while (t && t.getTime() <= until.getTime()) {
      if (out.count === limit) {
        out.more = true;
        break;
      }
      out.count++;
      out.first ??= t;
      out.last = t;
      t = cron.nextRun(t);
    }
  } finally {
    cron.stop();
  }
  return out;
}

/**
 * Config problems a schedule would only hit when it fires (hours later): refused at start instead.
 * Returns one message per problem.
 */
export function scheduleProblems(config: Config): string[] {
  const problems: string[] = [];
  for (const [name, s] of Object.entries(config.schedule)) {
    if (!s.enabled) continue;
    try {
      parseCron(s.cron, name).stop();
    } catch (err) {
      problems.push((err as Error).message);
    }
    if (s.host !== undefined && !config.hosts[s.host])
      problems.push(
        `schedule ${name}: host "${s.host}" is not in the hosts: section (${Object.keys(config.hosts).join(', ') || 'none configured'})`,
      );
    if (s.backup_set !== undefined && !config.backup.backup_sets[s.backup_set])
      problems.push(`schedule ${name}: backup set "${s.backup_set}" is not in backup.backup_sets`);
    for (const r of s.remotes ?? [])
      if (!config.remotes[r]) problems.push(`schedule ${name}: remote "${r}" is not in the remotes: section`);
  }
  return problems;
}
