// Freshness (README "Status and freshness"): per container, the age of its newest complete backup
// judged against the shortest period of the schedules that select it. Pure: the caller reads the
// config, the engine's containers and the store's manifests.
//   ok      age within one period (plus a tenth of it: a run takes time after its fire time)
//   late    age within two periods: one run was missed or is still running
//   missed  older than two periods
//   never   no complete backup holds the container
//   unscheduled  no enabled schedule selects it (shown, never judged)
import type { Config } from '../config/schema.js';
import type { Manifest } from '../store/manifest.js';
import { nextRuns } from './cron.js';

export type Freshness = 'ok' | 'late' | 'missed' | 'never' | 'unscheduled';

export interface FreshnessRow {
  container: string;
  state: Freshness;
  /** newest complete backup holding the container */
  last?: { id: string; finished: string };
  ageSeconds?: number;
  /** the shortest period of the schedules that select it, and their names */
  periodSeconds?: number;
  schedules: string[];
  /**
   * Its newest off-site copy, as this store knows it (the last successful upload to each remote,
   * <store>/.uploads), judged against the same period; 'none' when remotes are configured and no
   * upload holding it is known. Shown, never part of the exit code.
   */
  offsite?: OffsiteAge | 'none';
}

export interface OffsiteAge {
  remote: string;
  id: string;
  at: string;
  ageSeconds: number;
  state: Freshness;
}

/** A successful upload of a backup to a remote (from the store's upload status files). */
export interface KnownUpload {
  remote: string;
  backup: string;
  at: string;
}

/** States that make `bbackup status` exit 4. */
export const OVERDUE: ReadonlySet<Freshness> = new Set(['late', 'missed', 'never']);

export function judgeFreshness(ageSeconds: number | undefined, periodSeconds: number | undefined): Freshness {
  if (periodSeconds === undefined) return 'unscheduled';
  if (ageSeconds === undefined) return 'never';
  if (ageSeconds <= periodSeconds * 1.1) return 'ok';
  if (ageSeconds <= periodSeconds * 2) return 'late';
  return 'missed';
}

/** Seconds between a cron's next two fire times after `now` (its period, for regular expressions). */
export function cronPeriod(cron: string, now: Date, name?: string): number {
  const [a, b] = nextRuns(cron, 2, now, name);
  return a && b ? (b.getTime() - a.getTime()) / 1000 : Infinity;
}

/** Enabled backup schedules (not drills) for this host, with the containers they select (undefined: every container). */
export function backupSchedules(
  config: Config,
  host: string | undefined,
): { name: string; cron: string; containers?: string[] }[] {
  return Object.entries(config.schedule)
    .filter(([, s]) => s.enabled && !s.drill && (s.host === undefined || host === undefined || s.host === host))
    .map(([name, s]) => {
      const set = s.backup_set !== undefined ? config.backup.backup_sets[s.backup_set] : undefined;
      const picked = [...(s.containers ?? []), ...(set?.containers ?? [])];
      const all = s.containers === undefined && set === undefined;
      return { name, cron: s.cron, ...(all ? {} : { containers: picked }) };
    });
}

export function freshnessRows(
  config: Config,
  host: string | undefined,
  containers: readonly string[],
  manifests: readonly Manifest[],
  now: Date,
  uploads?: readonly KnownUpload[],
): FreshnessRow[] {
  const schedules = backupSchedules(config, host).map((s) => ({ ...s, period: cronPeriod(s.cron, now, s.name) }));
  const newest = new Map<string, { id: string; finished: string }>();
  const offsite = new Map<string, { remote: string; id: string; at: string }>();
  const byId = new Map(manifests.map((m) => [m.id, m]));
  for (const u of uploads ?? []) {
    const m = byId.get(u.backup);
    if (!m || m.status !== 'complete' || !Number.isFinite(Date.parse(u.at))) continue;
    for (const i of m.items) {
      if (i.kind !== 'container') continue;
      const had = offsite.get(i.name);
      if (!had || had.at < u.at) offsite.set(i.name, { remote: u.remote, id: u.backup, at: u.at });
    }
  }
  for (const m of manifests) {
    if (m.status !== 'complete') continue;
    for (const i of m.items) {
      if (i.kind !== 'container') continue;
      const had = newest.get(i.name);
      if (!had || had.finished < m.finished) newest.set(i.name, { id: m.id, finished: m.finished });
    }
  }
  const names = new Set([...containers, ...schedules.flatMap((s) => s.containers ?? [])]);
  return [...names].sort().map((container) => {
    const mine = schedules.filter((s) => !s.containers || s.containers.includes(container));
    const period = mine.length ? Math.min(...mine.map((s) => s.period)) : undefined;
    const last = newest.get(container);
    const age = last ? Math.max(0, (now.getTime() - Date.parse(last.finished)) / 1000) : undefined;
    const copy = offsite.get(container);
    const copyAge = copy ? Math.max(0, (now.getTime() - Date.parse(copy.at)) / 1000) : undefined;
    const off: FreshnessRow['offsite'] =
      copy && copyAge !== undefined
        ? { ...copy, ageSeconds: Math.round(copyAge), state: judgeFreshness(copyAge, period) }
        : uploads !== undefined
          ? 'none'
          : undefined;
    return {
      container,
      state: judgeFreshness(age, period),
      ...(last ? { last, ageSeconds: Math.round(age!) } : {}),
      ...(period !== undefined ? { periodSeconds: period } : {}),
      schedules: mine.map((s) => s.name),
      ...(off !== undefined ? { offsite: off } : {}),
    };
  });
}
