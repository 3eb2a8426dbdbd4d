// Retention planner: pure, no filesystem. Backups are planned per group (store/retention-group.ts:
// backups that hold the same things), so a run of other things never pushes a backup out.
// Within a group, restic's rule: each keep rule (last, daily, weekly, monthly, yearly) keeps one
// backup in each of its N most recent periods that have one; a backup is kept when any rule keeps
// it. Two changes to restic: in a period a complete backup wins over a partial one (a partial one
// is kept only for a period without a complete backup), and nothing younger than keep_within is
// removed by the rules. Each group always keeps the backup it would restore from: its newest
// complete backup (its newest at all when none is complete). Then a storage quota removes the
// oldest kept backups, whatever their group, until the store fits, but never such a group's
// newest; a file shared by several backups (hard links) counts once. Periods are UTC, like ids.
import { compareIds } from './catalog.js';

export interface RetentionPolicy {
  last: number;
  daily: number;
  weekly: number;
  monthly: number;
  yearly: number;
  /** nothing younger than this (ms, relative to now) is removed by the rules; 0/undefined = off */
  keepWithinMs?: number;
  /** how reasons name keep_within ("24h"); default: hours */
  keepWithinLabel?: string;
  /** 0 or undefined: no quota */
  maxBytes?: number;
}

export interface RetentionCandidate {
  id: string;
  time: Date;
  /** status complete (a backup with failed items, or a damaged one, is not) */
  complete: boolean;
  /** the group's identity; backups compete only within a group */
  group: string;
  /** how the group is shown (default: group) */
  groupLabel?: string;
  /** said first among the reasons (e.g. why the group or status is unknown) */
  note?: string;
  /**
   * What the backup occupies, by object: an inode key ("dev:ino") locally, a file key on a
   * remote. An object listed by several backups is counted once. Needed only with a quota.
   */
  objects?: ReadonlyMap<string, number>;
}

export interface RetentionDecision {
  id: string;
  /** the group as shown */
  group: string;
  complete: boolean;
  keep: boolean;
  reasons: string[];
}

export interface RetentionPlan {
  /** newest first */
  decisions: RetentionDecision[];
  remove: string[];
  /** with a quota: bytes of all candidates and leftovers, and of what is kept (leftovers included) */
  bytesBefore?: number;
  bytesAfter?: number;
  /** bytes of leftover folders (not backups, not removed here) counted in the totals */
  leftoverBytes?: number;
  /** the quota could not be met without removing a group's newest complete backup */
  overQuota?: boolean;
}

export interface PlanOptions {
  /** the moment keep_within counts back from (default: now) */
  now?: Date;
  /** objects of leftover folders (.removing-*, .pull-*): counted in the quota, never freed by it */
  leftovers?: ReadonlyMap<string, number>;
}

type RuleName = 'last' | 'daily' | 'weekly' | 'monthly' | 'yearly';
type Rule = { name: RuleName; unit: string; period: (t: Date, id: string) => string };

const pad = (n: number) => String(n).padStart(2, '0');

/** ISO 8601 week: the week with the year's first Thursday is week 1. */
export function isoWeek(t: Date): string {
  const d = new Date(Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate()));
  const day = d.getUTCDay() || 7;
  d.setUTCDate(d.getUTCDate() + 4 - day);
  const yearStart = Date.UTC(d.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((d.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${d.getUTCFullYear()}-W${pad(week)}`;
}

const RULES: Rule[] = [
  { name: 'last', unit: 'backup', period: (_t, id) => id },
  {
    name: 'daily',
    unit: 'day',
    period: (t) => `${t.getUTCFullYear()}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())}`,
  },
  { name: 'weekly', unit: 'week', period: isoWeek },
  { name: 'monthly', unit: 'month', period: (t) => `${t.getUTCFullYear()}-${pad(t.getUTCMonth() + 1)}` },
  { name: 'yearly', unit: 'year', period: (t) => String(t.getUTCFullYear()) },
];

/** Any count rule set? keep_within alone decides nothing: with every count at 0 all is kept. */
export function hasKeepRules(p: RetentionPolicy): boolean {
  return RULES.some((r) => p[r.name] > 0);
}

/** The backup a group would restore from: its newest complete one, else its newest. */
const anchorOf = (group: readonly RetentionCandidate[]) => group.find((c) => c.complete) ?? group[0]!;

export function planRetention(
  candidates: readonly RetentionCandidate[],
  policy: RetentionPolicy,
  o: PlanOptions = {},
): RetentionPlan {
  const now = (o.now ?? new Date()).getTime();
  const list = [...candidates].sort((a, b) => compareIds(b.id, a.id));
  const reasons = new Map<string, string[]>(list.map((c) => [c.id, c.note ? [c.note] : []]));
  const kept = new Set<string>();
  const keep = (c: RetentionCandidate, why: string) => {
    kept.add(c.id);
    reasons.get(c.id)!.push(why);
  };
  const groups = new Map<string, RetentionCandidate[]>();
  for (const c of list) (groups.get(c.group) ?? groups.set(c.group, []).get(c.group)!).push(c);
  const anchors = new Set<string>();
  /** why a partial backup lost its period to a complete one (finest rule first) */
  const beaten = new Map<string, string>();

  for (const group of groups.values()) {
    if (!hasKeepRules(policy)) for (const c of group) keep(c, 'no keep rules set');
    const within = policy.keepWithinMs ?? 0;
    if (within > 0) {
      const label = policy.keepWithinLabel ?? `${Math.round(within / 3_600_000)}h`;
      for (const c of group) if (now - c.time.getTime() < within) keep(c, `within ${label}`);
    }
    for (const rule of RULES) {
      const n = policy[rule.name];
      if (n <= 0) continue;
      // periods newest first, each with its backups newest first
      const periods = new Map<string, RetentionCandidate[]>();
      for (const c of group) {
        const p = rule.period(c.time, c.id);
        (periods.get(p) ?? periods.set(p, []).get(p)!).push(c);
      }
      for (const [period, members] of [...periods].slice(0, n)) {
        const winner = rule.name === 'last' ? members[0]! : (members.find((m) => m.complete) ?? members[0]!);
        keep(winner, rule.name === 'last' ? 'last' : `${rule.name} ${period}`);
        const restics = members[0]!;
        if (restics !== winner && !beaten.has(restics.id))
          beaten.set(restics.id, `partial: ${rule.unit} has a complete backup`);
      }
    }
    const anchor = anchorOf(group);
    anchors.add(anchor.id);
    if (!kept.has(anchor.id))
      keep(anchor, anchor.complete ? 'newest complete of group' : 'newest of group (none complete)');
  }
  for (const c of list) if (!kept.has(c.id)) reasons.get(c.id)!.push(beaten.get(c.id) ?? 'no keep rule matches');

  const plan: RetentionPlan = { decisions: [], remove: [] };
  if (policy.maxBytes && policy.maxBytes > 0)
    applyQuota({ list, kept, anchors, reasons, max: policy.maxBytes, leftovers: o.leftovers, plan });
  plan.decisions = list.map((c) => ({
    id: c.id,
    group: c.groupLabel ?? c.group,
    complete: c.complete,
    keep: kept.has(c.id),
    reasons: reasons.get(c.id)!,
  }));
  plan.remove = plan.decisions.filter((d) => !d.keep).map((d) => d.id);
  return plan;
}

interface QuotaEnv {
  list: RetentionCandidate[];
  kept: Set<string>;
  /** each group's newest complete backup (newest at all when none is complete): never removed */
  anchors: ReadonlySet<string>;
  reasons: Map<string, string[]>;
  max: number;
  leftovers?: ReadonlyMap<string, number>;
  plan: RetentionPlan;
}

function applyQuota({ list, kept, anchors, reasons, max, leftovers, plan }: QuotaEnv): void {
  const refs = new Map<string, { size: number; count: number }>();
  const add = (objects: ReadonlyMap<string, number> | undefined, weight: number) => {
    for (const [k, size] of objects ?? []) {
      const r = refs.get(k);
      if (r) r.count += weight;
      else refs.set(k, { size, count: weight });
    }
  };
  const sum = (maps: (ReadonlyMap<string, number> | undefined)[]) => {
    const seen = new Map<string, number>();
    for (const m of maps) for (const [k, size] of m ?? []) seen.set(k, size);
    return [...seen.values()].reduce((a, b) => a + b, 0);
  };
  plan.bytesBefore = sum([...list.map((c) => c.objects), leftovers]);
  plan.leftoverBytes = sum([leftovers]);
  // A leftover's objects are never freed here (another run cleans the folder), even when a
  // removed backup shared them: the weight keeps their count above zero.
  add(leftovers, Number.POSITIVE_INFINITY);
  for (const c of list) if (kept.has(c.id)) add(c.objects, 1);
  let total = [...refs.values()].reduce((a, r) => a + r.size, 0);
  const fmt = (n: number) => (n >= 1e7 || n === 0 ? `${(n / 1e9).toFixed(2)} GB` : `${(n / 1e6).toFixed(2)} MB`);
  for (const c of [...list].reverse()) {
    if (total <= max) break;
    if (!kept.has(c.id) || anchors.has(c.id)) continue;
    let freed = 0;
    for (const [k] of c.objects ?? []) {
      const r = refs.get(k)!;
      if (--r.count === 0) {
        freed += r.size;
        refs.delete(k);
      }
    }
    kept.delete(c.id);
    reasons.get(c.id)!.push(`over quota: ${fmt(total)} > ${fmt(max)}, oldest first (frees ${fmt(freed)})`);
    total -= freed;
  }
  plan.bytesAfter = total;
  plan.overQuota = total > max;
}
