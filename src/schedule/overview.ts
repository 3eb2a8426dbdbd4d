// What `schedule list` prints and the TUI shows: each schedule with its next runs and the result of
// its last run, as plain data from the config and the state file.
import type { Config } from '../config/schema.js';
import { nextRuns } from './cron.js';
import { currentRun } from '../process-identity.js';
import { isDaemonAlive, readState, statePathFor, type ScheduleRunState } from './state.js';

export interface ScheduleRow {
  name: string;
  enabled: boolean;
  cron: string;
  host: string | null;
  /** "set db", "containers a,b" or "default scope" */
  what: string;
  /** ISO times; empty when disabled */
  next: string[];
  last: ScheduleRunState;
  /** the last run started and has not ended (running now, or its process died) */
  inProgress: boolean;
}

export interface ScheduleOverview {
  statePath: string;
  daemon: { pid: number; started: string; lastSeen: string; alive: boolean } | null;
  schedules: ScheduleRow[];
}

export async function scheduleOverview(
  config: Config,
  opts: { next?: number; now?: Date } = {},
): Promise<ScheduleOverview> {
  const statePath = statePathFor(config);
  const state = await readState(statePath);
  const now = opts.now ?? new Date();
  const schedules = Object.entries(config.schedule).map(([name, s]): ScheduleRow => {
    const last = state.schedules[name] ?? {};
    return {
      name,
      enabled: s.enabled,
      cron: s.cron,
      host: s.host ?? config.default_host ?? null,
      what:
        (s.drill ? 'drill of ' : '') +
        (s.backup_set
          ? `set ${s.backup_set}`
          : s.containers
            ? `containers ${s.containers.join(',')}`
            : 'default scope'),
      next: s.enabled ? nextRuns(s.cron, Math.max(1, opts.next ?? 1), now, name).map((d) => d.toISOString()) : [],
      last,
      inProgress: last.lastStart !== undefined && last.lastEnd === undefined,
    };
  });
  return {
    statePath,
    daemon: state.daemon ? { ...state.daemon, alive: isDaemonAlive(state.daemon, currentRun().hostname) } : null,
    schedules,
  };
}
