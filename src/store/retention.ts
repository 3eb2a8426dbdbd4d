// Retention planner: pure, no filesystem. restic's rule: each keep rule (last, daily, weekly,
// monthly, yearly) keeps the newest backup in each of its N most recent periods that have one; a
// backup is kept when any rule keeps it. Then a storage quota removes the oldest remaining
// backups until the store fits, where a file shared by several backups (hard links) counts once.
// The newest complete backup is never removed. Periods are UTC, like backup ids.
import { compareIds } from './catalog.js';

export interface RetentionPolicy {
  last: number;
  daily: number;
  weekly: number;
  monthly: number;
  yearly: number;
  /** 0 or undefined: no quota */
  maxBytes?: number;
}

export interface RetentionCandidate {
  id: string;
  time: Date;
  /** status complete (a backup with failed items, or a damaged one, is not) */
  complete: boolean;
  /**
   * What the backup occupies, by object: an inode key ("dev:ino") locally, a file key on a
   * remote. An object listed by several backups is counted once. Needed only with a quota.
   */
  objects?: ReadonlyMap<string, number>;
}

export interface RetentionDecision {
  id: string;
  keep: boolean;
  reasons: string[];
}

export interface RetentionPlan {
  /** newest first */
  decisions: RetentionDecision[];
  remove: string[];
  /** with a quota: bytes of all candidates, and of what is kept */
  bytesBefore?: number;
  bytesAfter?: number;
  /** the quota could not be met without removing the newest complete backup */
  overQuota?: boolean;
}

type Rule = { name: keyof Omit<RetentionPolicy, 'maxBytes'>; period: (t: Date, id: string) => string };

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
  { name: 'last', period: (_t, id) => id },
  { name: 'daily', period: (t) => `${t.getUTCFullYear()}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())}` },
  { name: 'weekly', period: isoWeek },
  { name: 'monthly', period: (t) => `${t.getUTCFullYear()}-${pad(t.getUTCMonth() + 1)}` },
  { name: 'yearly', period: (t) => String(t.getUTCFullYear()) },
];

export function hasKeepRules(p: RetentionPolicy): boolean {
  return RULES.some((r) => p[r.name] > 0);
}

export function planRetention(candidates: readonly RetentionCandidate[], policy: RetentionPolicy): RetentionPlan {
  const list = [...candidates].sort((a, b) => compareIds(b.id, a.id));
  const reasons = new Map<string, string[]>(list.map((c) => [c.id, []]));
  const kept = new Set<string>();
  if (!hasKeepRules(policy)) {
    for (const c of list) {
      kept.add(c.id);
      reasons.get(c.id)!.push('no keep rules set');
    }
  }
  for (const rule of RULES) {
    let left = policy[rule.name];
    let lastPeriod: string | undefined;
    for (const c of list) {
      if (left <= 0) break;
      const period = rule.period(c.time, c.id);
      if (period === lastPeriod) continue;
      lastPeriod = period;
      left--;
      kept.add(c.id);
      reasons.get(c.id)!.push(rule.name === 'last' ? 'last' : `${rule.name} ${period}`);
    }
  }
  // Never the newest complete backup (nor, when none is complete, the newest at all).
  const protectedId = (list.find((c) => c.complete) ?? list[0])?.id;
  if (protectedId !== undefined && !kept.has(protectedId)) {
    kept.add(protectedId);
    reasons.get(protectedId)!.push(list.find((c) => c.complete) ? 'newest complete backup' : 'newest backup');
  }
  for (const c of list) if (!kept.has(c.id)) reasons.get(c.id)!.push('no keep rule matches');

  const plan: RetentionPlan = { decisions: [], remove: [] };
  if (policy.maxBytes && policy.maxBytes > 0) applyQuota(list, kept, reasons, policy.maxBytes, plan);
  plan.decisions = list.map((c) => ({ id: c.id, keep: kept.has(c.id), reasons: reasons.get(c.id)! }));
  plan.remove = plan.decisions.filter((d) => !d.keep).map((d) => d.id);
  return plan;
}

function applyQuota(list: RetentionCandidate[], kept: Set<string>, reasons: Map<string, string[]>, max: number, plan: RetentionPlan): void {
  const refs = new Map<string, { size: number; count: number }>();
  const add = (c: RetentionCandidate) => {
    for (const [k, size] of c.objects ?? []) {
      const r = refs.get(k);
      if (r) r.count++;
      else refs.set(k, { size, count: 1 });
    }
  };
  let all = 0;
  const seen = new Set<string>();
  for (const c of list) for (const [k, size] of c.objects ?? []) if (!seen.has(k) && seen.add(k)) all += size;
  plan.bytesBefore = all;
  for (const c of list) if (kept.has(c.id)) add(c);
  let total = [...refs.values()].reduce((a, r) => a + r.size, 0);
  const protectedId = (list.find((c) => c.complete) ?? list[0])?.id;
  const fmt = (n: number) => `${(n / 1e9).toFixed(2)} GB`;
  for (const c of [...list].reverse()) {
    if (total <= max) break;
    if (!kept.has(c.id) || c.id === protectedId) continue;
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
