// Retention that never eats the backup you need: groups, complete before partial, keep_within,
// the new defaults, and a quota that never removes the backup a group would restore from.
import { describe, expect, it } from 'vitest';
import { planBackup } from '../../src/backup/plan.js';
import { parseDuration } from '../../src/config/duration.js';
import { parseConfigObject } from '../../src/config/load.js';
import type { Inventory } from '../../src/docker/inventory.js';
import { policyFrom } from '../../src/jobs/rotate.js';
import { backupIdFor } from '../../src/store/layout.js';
import { groupKey, hashedGroup, manifestGroup } from '../../src/store/retention-group.js';
import { planRetention, type RetentionCandidate, type RetentionPolicy } from '../../src/store/retention.js';

const DEFAULT = policyFrom(parseConfigObject({}, 'x', {}).retention);
const NONE: RetentionPolicy = { last: 0, daily: 0, weekly: 0, monthly: 0, yearly: 0 };
const GB = 1e9;
const H = 3_600_000;

const b = (iso: string, group: string, extra: Partial<RetentionCandidate> = {}): RetentionCandidate => {
  const time = new Date(iso);
  return { id: backupIdFor(time), time, complete: true, group, ...extra };
};
const keptIds = (cs: RetentionCandidate[], p: RetentionPolicy, now: string) =>
  new Set(
    planRetention(cs, p, { now: new Date(now) })
      .decisions.filter((d) => d.keep)
      .map((d) => d.id),
  );
const reasonsOf = (cs: RetentionCandidate[], p: RetentionPolicy, now: string, c: RetentionCandidate) =>
  planRetention(cs, p, { now: new Date(now) }).decisions.find((d) => d.id === c.id)!.reasons;

describe('defaults', () => {
  it('last 3, daily 7, weekly 4, monthly 6, keep_within 24h', () => {
    expect(DEFAULT).toMatchObject({
      last: 3,
      daily: 7,
      weekly: 4,
      monthly: 6,
      yearly: 0,
      keepWithinMs: 24 * H,
      keepWithinLabel: '24h',
    });
    expect(DEFAULT.maxBytes).toBeUndefined();
  });
});

describe("the issue's scenario: full backup at 02:00, -s databases at 03:00 and 23:00", () => {
  const full = b('2026-11-24T02:00:00Z', 'all');
  const db1 = b('2026-11-24T03:00:00Z', 'set:databases');
  const db2 = b('2026-11-24T23:00:00Z', 'set:databases');
  const h = [full, db1, db2];
  it.each([
    { when: 'right after the last run', now: '2026-11-24T23:05:00Z' },
    { when: 'three days later', now: '2026-11-27T12:00:00Z' },
    { when: 'ten weeks later', now: '2027-02-02T12:00:00Z' },
  ])('default policy keeps the full backup ($when)', ({ now }) => {
    expect(keptIds(h, DEFAULT, now).has(full.id)).toBe(true);
  });
  it('default policy keeps it while `-s databases` runs go on for days (last 3 alone would not)', () => {
    const later = [
      b('2026-11-25T03:00:00Z', 'set:databases'),
      b('2026-11-25T23:00:00Z', 'set:databases'),
      b('2026-11-26T03:00:00Z', 'set:databases'),
    ];
    const plan = planRetention([...h, ...later], DEFAULT, { now: new Date('2026-11-26T04:00:00Z') });
    expect(plan.decisions.find((d) => d.id === full.id)).toMatchObject({
      keep: true,
      reasons: ['last', 'daily 2026-11-24', 'weekly 2026-W48', 'monthly 2026-11'],
    });
    expect(plan.remove).toEqual([db1.id]);
  });
  it('with only daily rules the full backup still keeps its day (its group has no other backup)', () => {
    const p = { ...NONE, daily: 7 };
    expect(reasonsOf(h, p, '2026-12-01T00:00:00Z', full)).toEqual(['daily 2026-11-24']);
    expect(reasonsOf(h, p, '2026-12-01T00:00:00Z', db1)).toEqual(['no keep rule matches']);
    expect(reasonsOf(h, p, '2026-12-01T00:00:00Z', db2)).toEqual(['daily 2026-11-24']);
  });
  it('the decisions name the group', () => {
    const plan = planRetention(h, DEFAULT, { now: new Date('2026-11-27T00:00:00Z') });
    expect(plan.decisions.map((d) => d.group)).toEqual(['set:databases', 'set:databases', 'all']);
  });
});

describe('a complete backup wins its period over a partial one', () => {
  const day = '2026-11-24';
  const complete = b(`${day}T03:00:00Z`, 'all');
  const partialLate = b(`${day}T23:00:00Z`, 'all', { complete: false });
  const onlyPartialDay = b('2026-11-23T23:00:00Z', 'all', { complete: false });
  const olderComplete = b('2026-11-23T03:00:00Z', 'all');
  const now = '2026-12-10T00:00:00Z';
  it.each([
    {
      name: 'partial newer in the same day loses to the complete one',
      h: [complete, partialLate],
      policy: { ...NONE, daily: 7 },
      keep: [complete],
      reasons: [
        [partialLate, ['partial: day has a complete backup']],
        [complete, ['daily 2026-11-24']],
      ] as const,
    },
    {
      name: 'a day with only a partial keeps the partial',
      h: [onlyPartialDay, complete],
      policy: { ...NONE, daily: 7 },
      keep: [onlyPartialDay, complete],
      reasons: [[onlyPartialDay, ['daily 2026-11-23']]] as const,
    },
    {
      name: 'a day with both keeps the complete, even when it is older',
      h: [olderComplete, onlyPartialDay, complete, partialLate],
      policy: { ...NONE, daily: 7 },
      keep: [olderComplete, complete],
      reasons: [[onlyPartialDay, ['partial: day has a complete backup']]] as const,
    },
    {
      name: 'weekly rule: same preference, named by its period',
      h: [olderComplete, partialLate],
      policy: { ...NONE, weekly: 1 },
      keep: [olderComplete],
      reasons: [
        [partialLate, ['partial: week has a complete backup']],
        [olderComplete, ['weekly 2026-W48']],
      ] as const,
    },
    {
      name: 'last counts every backup, partial or not (restic)',
      h: [complete, partialLate],
      policy: { ...NONE, last: 1 },
      keep: [complete, partialLate],
      reasons: [
        [partialLate, ['last']],
        [complete, ['newest complete of group']],
      ] as const,
    },
    {
      name: 'a partial of another group does not compete',
      h: [complete, b(`${day}T23:00:00Z`, 'set:db', { complete: false })],
      policy: { ...NONE, daily: 7 },
      keep: [complete, b(`${day}T23:00:00Z`, 'set:db')],
      reasons: [],
    },
  ])('$name', ({ h, policy, keep, reasons }) => {
    expect(keptIds(h, policy, now)).toEqual(new Set(keep.map((c) => c.id)));
    for (const [c, why] of reasons) expect(reasonsOf(h, policy, now, c)).toEqual(why);
  });
});

describe('a second manual backup on the same day', () => {
  const morning = b('2026-11-24T10:00:00Z', 'all');
  const afternoon = b('2026-11-24T14:00:00Z', 'all');
  const h = [morning, afternoon];
  it.each([
    {
      name: 'default policy keeps both (within 24h and last 3)',
      policy: DEFAULT,
      now: '2026-11-24T15:00:00Z',
      kept: true,
      why: ['within 24h', 'last'],
    },
    {
      name: 'default policy keeps both days later (last 3)',
      policy: DEFAULT,
      now: '2026-11-28T15:00:00Z',
      kept: true,
      why: ['last'],
    },
    {
      name: 'keep_within alone keeps it while young',
      policy: { ...NONE, daily: 7, keepWithinMs: 24 * H, keepWithinLabel: '24h' },
      now: '2026-11-24T15:00:00Z',
      kept: true,
      why: ['within 24h'],
    },
    {
      name: 'the old defaults (last 0, no keep_within) removed it',
      policy: { ...NONE, daily: 7, weekly: 4, monthly: 6 },
      now: '2026-11-24T15:00:00Z',
      kept: false,
      why: ['no keep rule matches'],
    },
  ])('$name', ({ policy, now, kept, why }) => {
    expect(keptIds(h, policy, now).has(morning.id)).toBe(kept);
    expect(reasonsOf(h, policy, now, morning)).toEqual(why);
  });
});

describe('keep_within boundaries (younger than, relative to now)', () => {
  const now = new Date('2026-11-24T12:00:00Z');
  const ago = (ms: number, group = 'all') => b(new Date(now.getTime() - ms).toISOString(), group);
  const policy: RetentionPolicy = { ...NONE, last: 1, keepWithinMs: 24 * H, keepWithinLabel: '24h' };
  it.each([
    { name: 'newest (last)', age: 1 * H, keep: true },
    { name: '1 s younger than 24h', age: 24 * H - 1000, keep: true },
    { name: 'exactly 24h old', age: 24 * H, keep: false },
    { name: '1 s older than 24h', age: 24 * H + 1000, keep: false },
    { name: 'a clock ahead: from the future', age: -2 * H, keep: true },
  ])('$name', ({ age, keep }) => {
    const newest = ago(1 * H);
    const c = ago(age);
    const h = age === 1 * H ? [newest] : [b(new Date(now.getTime() - 30 * H).toISOString(), 'all'), c, newest];
    const plan = planRetention(h, policy, { now });
    expect(plan.decisions.find((d) => d.id === c.id)!.keep).toBe(keep);
  });
  it('keep_within 0 is off', () => {
    const h = [ago(2 * H), ago(1 * H)];
    expect(planRetention(h, { ...policy, keepWithinMs: 0 }, { now }).remove).toEqual([h[0]!.id]);
  });
  it('keep_within never decides alone: with every count rule at 0 everything is kept', () => {
    const h = [ago(100 * H), ago(1 * H)];
    expect(planRetention(h, { ...NONE, keepWithinMs: 24 * H }, { now }).remove).toEqual([]);
  });
  it.each([
    ['24h', 24 * H],
    ['36h', 36 * H],
    ['7d', 7 * 24 * H],
    ['2w', 14 * 24 * H],
    ['1d12h', 36 * H],
    ['0', 0],
    [0, 0],
    ['5m', undefined],
    ['1 day', undefined],
    ['', undefined],
    [24, undefined],
    ['h', undefined],
  ] as const)('parseDuration(%j) = %s', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });
});

describe('quota', () => {
  const own = (k: string, size = 1 * GB) => new Map([[k, size]]);
  const a1 = b('2026-11-20T03:00:00Z', 'all', { objects: own('a1') });
  const a2 = b('2026-11-21T03:00:00Z', 'all', { objects: own('a2') });
  const d1 = b('2026-11-22T03:00:00Z', 'set:db', { objects: own('d1') });
  const d2 = b('2026-11-23T03:00:00Z', 'set:db', { objects: own('d2') });
  const now = new Date('2026-11-23T04:00:00Z');

  it("never removes a group's newest complete backup, even when the store stays over", () => {
    const plan = planRetention([a1, a2, d1, d2], { ...DEFAULT, maxBytes: 1 * GB }, { now });
    expect(plan.remove.sort()).toEqual([a1.id, d1.id].sort());
    expect(plan.overQuota).toBe(true);
    expect(plan.bytesAfter).toBe(2 * GB);
  });

  it('removes oldest first across groups, also within keep_within (the quota is the hard limit)', () => {
    const plan = planRetention(
      [a1, a2, d1, d2],
      { ...DEFAULT, keepWithinMs: 30 * 24 * H, keepWithinLabel: '30d', maxBytes: 3 * GB },
      { now },
    );
    expect(plan.remove).toEqual([a1.id]);
    expect(plan.decisions.find((d) => d.id === a1.id)!.reasons).toEqual([
      'within 30d',
      'last',
      'daily 2026-11-20',
      expect.stringMatching(/^over quota: 4\.00 GB > 3\.00 GB, oldest first \(frees 1\.00 GB\)$/),
    ]);
    expect(plan.overQuota).toBe(false);
  });

  it('the newest complete is protected even when newer partial backups exist in the group', () => {
    const p1 = b('2026-11-22T05:00:00Z', 'all', { complete: false, objects: own('p1') });
    const plan = planRetention([a1, a2, p1], { ...NONE, last: 5, maxBytes: 0.5 * GB }, { now });
    expect(plan.remove.sort()).toEqual([a1.id, p1.id].sort());
    expect(plan.decisions.find((d) => d.id === a2.id)!.keep).toBe(true);
  });

  it('a group with no complete backup keeps its newest from the quota too', () => {
    const p1 = b('2026-11-10T05:00:00Z', 'set:broken', { complete: false, objects: own('p1') });
    const p2 = b('2026-11-11T05:00:00Z', 'set:broken', { complete: false, objects: own('p2') });
    const plan = planRetention([p1, p2, a2], { ...NONE, last: 5, maxBytes: 0.5 * GB }, { now });
    expect(plan.remove).toEqual([p1.id]);
  });

  it('leftover folders count in the total and are never freed, even when a removed backup shares their files', () => {
    const leftovers = new Map([
      ['left', 2 * GB],
      ['a1', 1 * GB],
    ]); // a .removing- folder hard-linked to a1
    const plan = planRetention([a1, a2], { ...NONE, last: 5, maxBytes: 3.5 * GB }, { now, leftovers });
    expect(plan.bytesBefore).toBe(4 * GB);
    expect(plan.leftoverBytes).toBe(3 * GB);
    expect(plan.remove).toEqual([a1.id]); // frees nothing: the leftover still holds a1's file
    expect(plan.bytesAfter).toBe(4 * GB);
    expect(plan.overQuota).toBe(true);
    expect(plan.decisions.find((d) => d.id === a1.id)!.reasons.at(-1)).toMatch(/frees 0\.00 GB/);
  });
});

describe('group keys', () => {
  const all = { containers: true, volumes: true, networks: true };
  it.each([
    { sel: { scope: all }, key: 'all' },
    { sel: { scope: { ...all, volumes: false } }, key: 'all/config-only' },
    { sel: { scope: { containers: true, volumes: false, networks: false } }, key: 'all/config-only,no-networks' },
    { sel: { scope: { containers: false, volumes: true, networks: false } }, key: 'all/volumes-only' },
    { sel: { scope: { ...all, networks: false } }, key: 'all/no-networks' },
    { sel: { backupSet: 'databases', scope: all }, key: 'set:databases' },
    { sel: { schedule: 'nightly', backupSet: 'databases', scope: all }, key: 'schedule:nightly' },
    { sel: { containers: ['web', 'db', 'web'], scope: all }, key: 'containers:db,web' },
    {
      sel: { containers: ['db'], volumes: ['extra'], scope: { ...all, networks: false } },
      key: 'containers:db+volumes:extra/no-networks',
    },
    { sel: { volumes: ['b', 'a'], scope: all }, key: 'volumes:a,b' },
  ])('$key', ({ sel, key }) => {
    expect(groupKey(sel)).toBe(key);
  });

  it('a long selection keeps a readable head and stays distinct', () => {
    const many = (last: string) =>
      groupKey({ containers: [...Array.from({ length: 20 }, (_, i) => `container-${i}`), last], scope: all });
    expect(many('x').length).toBeLessThanOrEqual(60);
    expect(many('x')).toMatch(/^containers:container-0,container-1.*…#[0-9a-f]{12}$/);
    expect(many('x')).not.toBe(many('y'));
  });

  it('a plain backup of everything is "all" whatever the engine holds that day', () => {
    const cfg = parseConfigObject({}, 'x', {});
    const env = { host: 'h', hostDir: '/s/h', backups: [], localEngine: true, mountpointReadable: () => true };
    const inv = (names: string[]): Inventory => ({
      containers: names.map((n) => ({
        name: n,
        id: n,
        image: 'i',
        state: 'running',
        status: '',
        created: '',
        labels: {},
        networks: [],
        mounts: [],
      })),
      volumes: [],
      networks: [],
    });
    expect(planBackup({}, inv(['a', 'b']), cfg, env).group).toBe('all');
    expect(planBackup({}, inv(['a', 'c', 'd']), cfg, env).group).toBe('all');
    expect(planBackup({ containers: ['c', 'a'] }, inv(['a', 'c']), cfg, env).group).toBe('containers:a,c');
    expect(planBackup({ schedule: 'nightly' }, inv(['a']), cfg, env).group).toBe('schedule:nightly');
  });

  it('hashedGroup: stable, hides the name, idempotent', () => {
    expect(hashedGroup('set:databases')).toMatch(/^h:[0-9a-f]{16}$/);
    expect(hashedGroup('set:databases')).toBe(hashedGroup('set:databases'));
    expect(hashedGroup('set:databases')).not.toBe(hashedGroup('set:database'));
    expect(hashedGroup(hashedGroup('all'))).toBe(hashedGroup('all'));
  });
});

describe('groups of manifests written before groups were recorded', () => {
  const legacy = (over: Record<string, unknown>) => ({
    format: 1,
    id: '20261124T020000Z',
    status: 'complete',
    scope: { containers: true, volumes: true, networks: true },
    items: [
      { kind: 'container', name: 'web' },
      { kind: 'container', name: 'db' },
      { kind: 'volume', name: 'pgdata' },
      { kind: 'network', name: 'appnet' },
      { kind: 'metadata', name: 'metadata' },
    ],
    errors: [],
    ...over,
  });
  it.each([
    { name: 'the group it records', m: legacy({ group: 'schedule:nightly' }), key: 'schedule:nightly' },
    {
      name: 'backup set',
      m: legacy({ scope: { containers: true, volumes: true, networks: true, backupSet: 'databases' } }),
      key: 'set:databases',
    },
    {
      name: 'backup set, config only',
      m: legacy({ scope: { containers: true, volumes: false, networks: true, backupSet: 'databases' } }),
      key: 'set:databases/config-only',
    },
    {
      name: 'items, sorted by kind and name',
      m: legacy({}),
      key: 'items:containers=db,web+volumes=pgdata+networks=appnet',
    },
    {
      name: 'a partial one counts what failed too',
      m: legacy({
        status: 'partial',
        items: [
          { kind: 'container', name: 'web' },
          { kind: 'container', name: 'db' },
          { kind: 'network', name: 'appnet' },
        ],
        errors: [{ kind: 'volume', name: 'pgdata', code: 'X', message: 'x' }],
      }),
      key: 'items:containers=db,web+volumes=pgdata+networks=appnet',
    },
    {
      name: 'volumes only',
      m: legacy({
        scope: { containers: false, volumes: true, networks: false },
        items: [{ kind: 'volume', name: 'pgdata' }],
      }),
      key: 'items:volumes=pgdata/volumes-only',
    },
    { name: 'garbage from a remote', m: { group: 7, scope: 'x', items: 'y' }, key: 'items:none' },
    { name: 'not even an object', m: null, key: 'items:none' },
  ])('$name', ({ m, key }) => {
    expect(manifestGroup(m)).toBe(key);
  });
  it('a set backup from before and one from now land in the same group', () => {
    expect(
      manifestGroup(legacy({ scope: { containers: true, volumes: true, networks: true, backupSet: 'databases' } })),
    ).toBe(groupKey({ backupSet: 'databases', scope: { containers: true, volumes: true, networks: true } }));
  });
});
