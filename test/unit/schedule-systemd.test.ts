import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { missedRuns, nextRuns } from '../../src/schedule/cron.js';
import { compactList, cronToOnCalendar, quoteExecArg, serviceUnit, timerUnit } from '../../src/schedule/systemd.js';

describe('cronToOnCalendar', () => {
  it.each([
    { cron: '0 3 * * *', cal: '*-*-* 03:00:00' },
    { cron: '@daily', cal: '*-*-* 00:00:00' },
    { cron: '30 2 * * 1-5', cal: 'Mon..Fri *-*-* 02:30:00' },
    { cron: '0 4 * * SAT,SUN', cal: 'Sun,Sat *-*-* 04:00:00' },
    { cron: '*/15 * * * *', cal: '*-*-* *:00,15,30,45:00' },
    { cron: '*/5 * * * * *', cal: '*-*-* *:*:00,05,10,15,20,25,30,35,40,45,50,55' },
    { cron: '0 0 1 */3 *', cal: '*-01,04,07,10-01 00:00:00' },
    { cron: '0 22 1-7 * *', cal: '*-*-01..07 22:00:00' },
    { cron: '0 0 0 1 1 * 2027', cal: '2027-01-01 00:00:00' },
    { cron: '0 0 * * 7', cal: 'Sun *-*-* 00:00:00' },
  ])('$cron -> $cal', ({ cron, cal }) => {
    expect(cronToOnCalendar(cron)).toBe(cal);
  });

  it.each([
    { cron: '0 0 1 * MON', error: /both do; split it/ },
    { cron: '0 0 L * *', error: /L and W/ },
    { cron: '0 0 * * FRI#2', error: /nth weekday/ },
    { cron: 'not a cron', error: /not valid/ },
  ])('refuses $cron', ({ cron, error }) => {
    expect(() => cronToOnCalendar(cron, 'nightly')).toThrow(error);
  });

  it('compactList', () => {
    expect(compactList([1, 2, 3, 5, 7, 8], 60)).toBe('01..03,05,07,08');
    expect(compactList([0, 1, 2], 3)).toBe('*');
  });

  // systemd's own parser agrees that the next elapse equals croner's next run, for each form.
  it.each([
    '0 3 * * *',
    '30 2 * * 1-5',
    '*/15 * * * *',
    '0 0 1 */3 *',
    '0 22 1-7 * *',
    '*/5 * * * * *',
    '0 4 * * SAT,SUN',
  ])('systemd-analyze calendar agrees with croner: %s', async (cron) => {
    const r = await execa('systemd-analyze', ['calendar', '--iterations=3', cronToOnCalendar(cron)], {
      env: { TZ: 'UTC', LC_ALL: 'C' },
    });
    const got = [
      ...r.stdout.matchAll(/(?:Next elapse|Iter\. #\d):\s+\w{3} (\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) UTC/g),
    ].map((m) => m[1]);
    const first = got[0]!;
    const expected = nextRuns(cron, 3, new Date(new Date(`${first.replace(' ', 'T')}Z`).getTime() - 1000)).map((d) =>
      d.toISOString().replace('T', ' ').slice(0, 19),
    );
    expect(got).toEqual(expected);
  });
});

describe('units', () => {
  const o = {
    unitName: 'bbackup-nightly',
    scheduleName: 'nightly',
    cron: '0 3 * * *',
    command: ['/usr/bin/node', '/opt/bb/dist/src/cli/bin.js'],
    configPath: '/etc/bbackup/config.yaml',
    jitterSeconds: 600,
  };
  it('service runs `schedule run` once', () => {
    const s = serviceUnit(o);
    expect(s).toContain('Type=oneshot');
    expect(s).toContain(
      'ExecStart=/usr/bin/node /opt/bb/dist/src/cli/bin.js --config /etc/bbackup/config.yaml schedule run nightly',
    );
  });
  it('timer is persistent with jitter', () => {
    const t = timerUnit(o);
    expect(t).toContain('OnCalendar=*-*-* 03:00:00');
    expect(t).toContain('Persistent=true');
    expect(t).toContain('RandomizedDelaySec=600');
    expect(t).toContain('Unit=bbackup-nightly.service');
    expect(timerUnit({ ...o, jitterSeconds: 0 })).not.toContain('RandomizedDelaySec');
  });
  it('quotes ExecStart words', () => {
    expect(quoteExecArg('/a/b.js')).toBe('/a/b.js');
    expect(quoteExecArg('/my dir/x')).toBe('"/my dir/x"');
    expect(quoteExecArg('50%')).toBe('50%%');
    expect(quoteExecArg('a"b$c')).toBe('"a\\"b$$c"');
  });
});

describe('missedRuns', () => {
  it('counts fire times in the window', () => {
    const m = missedRuns('0 3 * * *', new Date('2026-11-20T12:00:00'), new Date('2026-11-23T12:00:00'));
    expect(m.count).toBe(3);
    expect(m.first).toEqual(new Date('2026-11-21T03:00:00'));
    expect(m.last).toEqual(new Date('2026-11-23T03:00:00'));
  });
  it('nothing due, nothing missed', () => {
    expect(missedRuns('0 3 * * *', new Date('2026-11-20T04:00:00'), new Date('2026-11-21T02:59:00')).count).toBe(0);
  });
  it('caps the count', () => {
    const m = missedRuns('* * * * * *', new Date('2026-11-20T00:00:00'), new Date('2026-11-21T00:00:00'), 10);
    expect(m).toMatchObject({ count: 10, more: true });
  });
});
