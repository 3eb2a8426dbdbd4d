// Pure parts of issue 13: path rules for restore --path, the freshness judgement, the file
// browser's rows and viewer.
import { describe, expect, it } from 'vitest';
import { normalizeSelection, normalizeVolumePath } from '../../src/files/selection.js';
import { judgeFreshness, freshnessRows } from '../../src/schedule/freshness.js';
import { childrenByFolder, viewerLines } from '../../screens/presenters/files.js';
import type { Config } from '../../src/config/schema.js';
import type { Manifest } from '../../src/store/manifest.js';

describe('volume paths', () => {
  it.each([
    ['etc/app.conf', 'etc/app.conf'],
    ['etc/', 'etc'],
    ['a b/ü.txt', 'a b/ü.txt'],
  ])('%s -> %s', (raw, want) => expect(normalizeVolumePath(raw)).toBe(want));
  it.each([
    ['/etc', 'is absolute'],
    ['../x', 'contains ".."'],
    ['a/../b', 'contains ".."'],
    ['a//b', 'empty or "."'],
    ['./a', 'empty or "."'],
    ['', 'names the whole volume'],
    ['.', 'names the whole volume'],
  ])('refuses %j', (raw, why) => expect(() => normalizeVolumePath(raw)).toThrow(why));
  it('drops duplicates and paths inside a selected folder', () =>
    expect(normalizeSelection(['a/b', 'a', 'c', 'c/', 'ab'])).toEqual(['a', 'ab', 'c']));
});

describe('freshness', () => {
  it.each([
    { age: undefined, period: undefined, want: 'unscheduled' },
    { age: 100, period: undefined, want: 'unscheduled' },
    { age: undefined, period: 3600, want: 'never' },
    { age: 0, period: 3600, want: 'ok' },
    { age: 3960, period: 3600, want: 'ok' },
    { age: 3961, period: 3600, want: 'late' },
    { age: 7200, period: 3600, want: 'late' },
    { age: 7201, period: 3600, want: 'missed' },
  ] as const)('age $age period $period: $want', ({ age, period, want }) =>
    expect(judgeFreshness(age, period)).toBe(want),
  );

  it('uses the shortest schedule that selects a container and only complete backups', () => {
    const config = {
      backup: { backup_sets: { db: { containers: ['db'] } } },
      schedule: {
        hourly: { cron: '0 * * * *', enabled: true, drill: false, backup_set: 'db' },
        daily: { cron: '0 3 * * *', enabled: true, drill: false },
        off: { cron: '* * * * *', enabled: false, drill: false, containers: ['web'] },
      },
    } as unknown as Config;
    const now = new Date('2026-12-02T10:00:00Z');
    const m = (id: string, finished: string, status: 'complete' | 'partial', names: string[]) =>
      ({ id, finished, status, items: names.map((name) => ({ kind: 'container', name })) }) as unknown as Manifest;
    const rows = freshnessRows(
      config,
      undefined,
      ['db', 'web'],
      [m('a', '2026-12-02T08:30:00Z', 'complete', ['db', 'web']), m('b', '2026-12-02T09:50:00Z', 'partial', ['db'])],
      now,
    );
    expect(rows.map((r) => [r.container, r.state, r.periodSeconds, r.schedules])).toEqual([
      ['db', 'late', 3600, ['hourly', 'daily']],
      ['web', 'ok', 86400, ['daily']],
    ]);
    // off-site: the newest known upload of a complete backup holding it, judged on the same period
    const uploads = [
      { remote: 'nas', backup: 'a', at: '2026-12-02T08:40:00Z' },
      { remote: 's3', backup: 'b', at: '2026-12-02T09:55:00Z' }, // partial backup: not a copy of anything
      { remote: 'evil', backup: 'zzz', at: '2026-12-02T09:59:00Z' }, // no such backup in the store
    ];
    const off = freshnessRows(
      config,
      undefined,
      ['db', 'web', 'cache'],
      [m('a', '2026-12-02T08:30:00Z', 'complete', ['db', 'web'])],
      now,
      uploads,
    );
    expect(off.map((r) => [r.container, r.offsite])).toEqual([
      ['cache', 'none'],
      ['db', { remote: 'nas', id: 'a', at: '2026-12-02T08:40:00Z', ageSeconds: 4800, state: 'late' }],
      ['web', { remote: 'nas', id: 'a', at: '2026-12-02T08:40:00Z', ageSeconds: 4800, state: 'ok' }],
    ]);
    // no remotes configured: nothing said about off-site copies
    expect(rows.every((r) => r.offsite === undefined)).toBe(true);
  });
});

describe('file browser presenters', () => {
  it('groups entries by folder, folders first', () => {
    const e = (p: string, t: 'f' | 'd') => ({ p, t, mode: 0o644, uid: 0, gid: 0, mtime: '0' });
    const by = childrenByFolder([e('', 'd'), e('b.txt', 'f'), e('a', 'd'), e('a/x', 'f'), e('c', 'd')]);
    expect(by.get('')!.map((x) => x.p)).toEqual(['a', 'c', 'b.txt']);
    expect(by.get('a')!.map((x) => x.p)).toEqual(['a/x']);
  });
  it('shows text as it is and binary as hex, with what was left out', () => {
    expect(viewerLines(Buffer.from('one\ntwo'), 7)).toEqual(['one', 'two']);
    const hex = viewerLines(Buffer.from([0, 1, 0x41]), 10);
    expect(hex[0]).toMatch(/^00000000 {2}00 01 41 +\.\.A$/);
    expect(hex[1]).toMatch(/^… 7 B more not shown$/);
  });
});
