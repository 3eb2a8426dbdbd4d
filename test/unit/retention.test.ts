import { describe, expect, it } from 'vitest';
import { backupIdFor } from '../../src/store/layout.js';
import { isoWeek, planRetention, type RetentionCandidate, type RetentionPolicy } from '../../src/store/retention.js';

const NONE: RetentionPolicy = { last: 0, daily: 0, weekly: 0, monthly: 0, yearly: 0 };
const at = (iso: string, extra: Partial<RetentionCandidate> = {}): RetentionCandidate => {
  const time = new Date(iso);
  return { id: backupIdFor(time), time, complete: true, group: 'all', ...extra };
};
const ids = (xs: RetentionCandidate[]) => xs.map((x) => x.id);

describe('planRetention: keep rules (restic)', () => {
  const three = [at('2026-11-20T03:00:00Z'), at('2026-11-21T03:00:00Z'), at('2026-11-22T03:00:00Z')];
  it.each([
    { name: 'keeps the newest N (last)', policy: { ...NONE, last: 2 }, history: three, remove: [three[0]!.id] },
    { name: 'nothing to prune', policy: { ...NONE, last: 5 }, history: three, remove: [] },
    { name: 'no rules keeps everything', policy: NONE, history: three, remove: [] },
    {
      name: 'daily 1 keeps only the newest',
      policy: { ...NONE, daily: 1 },
      history: three,
      remove: ids(three.slice(0, 2)),
    },
  ])('$name', ({ policy, history, remove }) => {
    expect(planRetention(history, policy).remove.sort()).toEqual([...remove].sort());
  });

  it('several per day: daily keeps the newest of each day', () => {
    const h = [
      at('2026-11-21T01:00:00Z'),
      at('2026-11-21T13:00:00Z'),
      at('2026-11-22T01:00:00Z'),
      at('2026-11-22T02:00:00Z'),
      at('2026-11-22T23:59:59Z'),
    ];
    const plan = planRetention(h, { ...NONE, daily: 2 });
    expect(plan.decisions.filter((d) => d.keep).map((d) => d.id)).toEqual([h[4]!.id, h[1]!.id]);
    expect(plan.decisions.find((d) => d.id === h[1]!.id)!.reasons).toEqual(['daily 2026-11-21']);
    expect(plan.decisions.find((d) => d.id === h[0]!.id)!.reasons).toEqual(['no keep rule matches']);
  });

  it('gaps: N counts periods that have a backup, not calendar periods', () => {
    const h = [
      at('2026-11-01T03:00:00Z'),
      at('2026-11-10T03:00:00Z'),
      at('2026-11-11T03:00:00Z'),
      at('2026-11-20T03:00:00Z'),
    ];
    const plan = planRetention(h, { ...NONE, daily: 3 });
    expect(plan.remove).toEqual([h[0]!.id]);
  });

  it('a backup kept by several rules lists every reason', () => {
    const h = [at('2026-10-31T03:00:00Z'), at('2026-11-22T03:00:00Z')];
    const plan = planRetention(h, { ...NONE, daily: 1, weekly: 1, monthly: 2, yearly: 1 });
    expect(plan.decisions[0]!.reasons).toEqual([
      'daily 2026-11-22',
      'weekly 2026-W47',
      'monthly 2026-11',
      'yearly 2026',
    ]);
    expect(plan.decisions[1]!.reasons).toEqual(['monthly 2026-10']);
  });

  it('never removes the newest complete backup', () => {
    const h = [
      at('2026-11-20T03:00:00Z'),
      at('2026-11-21T03:00:00Z', { complete: false }),
      at('2026-11-22T03:00:00Z', { complete: false }),
    ];
    const plan = planRetention(h, { ...NONE, last: 1 });
    expect(plan.remove).toEqual([h[1]!.id]);
    expect(plan.decisions.find((d) => d.id === h[0]!.id)!.reasons).toEqual(['newest complete of group']);
  });

  it('ISO weeks across a year boundary', () => {
    expect(isoWeek(new Date('2026-01-01T00:00:00Z'))).toBe('2026-W01');
    expect(isoWeek(new Date('2027-01-01T00:00:00Z'))).toBe('2026-W53');
    expect(isoWeek(new Date('2024-12-30T00:00:00Z'))).toBe('2025-W01');
  });
});

/** Brute force of restic's rule for one period function: newest in each of the N most recent periods. */
function expectedKeep(h: RetentionCandidate[], n: number, period: (t: Date) => string): Set<string> {
  const newest = new Map<string, RetentionCandidate>();
  for (const c of h) {
    const p = period(c.time);
    const cur = newest.get(p);
    if (!cur || cur.time < c.time) newest.set(p, c);
  }
  const periods = [...newest.keys()].sort().reverse().slice(0, n);
  return new Set(periods.map((p) => newest.get(p)!.id));
}

describe('planRetention: generated histories', () => {
  // deterministic pseudo-random: irregular times, gaps of days, bursts of several a day
  function history(seed: number, count: number): RetentionCandidate[] {
    let x = seed;
    const rnd = () => (x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    let t = Date.UTC(2024, 0, 1);
    const out: RetentionCandidate[] = [];
    for (let i = 0; i < count; i++) {
      const r = rnd();
      t +=
        r < 0.5
          ? 3_600_000 * (1 + Math.floor(rnd() * 5))
          : r < 0.9
            ? 86_400_000
            : 86_400_000 * (2 + Math.floor(rnd() * 20));
      out.push(at(new Date(t).toISOString()));
    }
    return out;
  }
  const day = (t: Date) => t.toISOString().slice(0, 10);
  const month = (t: Date) => t.toISOString().slice(0, 7);
  for (const seed of [1, 7, 42, 1234]) {
    it(`seed ${seed}: kept = union of each rule's brute-force answer`, () => {
      const h = history(seed, 600);
      const policy = { ...NONE, last: 3, daily: 7, weekly: 5, monthly: 12, yearly: 3 };
      const want = new Set([
        ...expectedKeep(h, 3, (t) => t.toISOString()),
        ...expectedKeep(h, 7, day),
        ...expectedKeep(h, 5, isoWeek),
        ...expectedKeep(h, 12, month),
        ...expectedKeep(h, 3, (t) => String(t.getUTCFullYear())),
      ]);
      const plan = planRetention(h, policy);
      expect(new Set(plan.decisions.filter((d) => d.keep).map((d) => d.id))).toEqual(want);
      expect(plan.remove.length).toBe(h.length - want.size);
      expect(plan.decisions.every((d) => d.reasons.length > 0)).toBe(true);
    });
  }
});

describe('planRetention: storage quota', () => {
  const GB = 1e9;
  // Three incremental snapshots: one shared 1 GB file (hard link, same inode) + 0.1 GB of their own each.
  const snap = (iso: string, own: string) =>
    at(iso, {
      objects: new Map([
        ['dev:shared', 1 * GB],
        [`dev:${own}`, 0.1 * GB],
      ]),
    });
  const h = [snap('2026-11-20T03:00:00Z', 'a'), snap('2026-11-21T03:00:00Z', 'b'), snap('2026-11-22T03:00:00Z', 'c')];

  it('counts hard-linked files once and removes oldest first until under quota', () => {
    const plan = planRetention(h, { ...NONE, daily: 7, maxBytes: 1.15 * GB });
    expect(plan.bytesBefore).toBeCloseTo(1.3 * GB);
    expect(plan.remove).toEqual([h[1]!.id, h[0]!.id]);
    expect(plan.bytesAfter).toBeCloseTo(1.1 * GB);
    expect(plan.overQuota).toBe(false);
    expect(plan.decisions.find((d) => d.id === h[0]!.id)!.reasons.at(-1)).toMatch(/^over quota: 1\.30 GB > 1\.15 GB/);
  });

  it('under quota removes nothing beyond the rules', () => {
    expect(planRetention(h, { ...NONE, daily: 7, maxBytes: 2 * GB }).remove).toEqual([]);
  });

  it('never removes the newest complete backup, even over quota', () => {
    const plan = planRetention(h, { ...NONE, daily: 7, maxBytes: 0.5 * GB });
    expect(plan.decisions[0]).toMatchObject({ id: h[2]!.id, keep: true });
    expect(plan.remove.length).toBe(2);
    expect(plan.overQuota).toBe(true);
  });
});
