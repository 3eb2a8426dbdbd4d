// The daemon's own rules with real timers (croner, every second) and a runner we control:
// overlap is skipped and counted, schedules are independent, missed runs are found on start.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfigObject } from '../../src/config/load.js';
import { createLogger, type LogRecord } from '../../src/log/logger.js';
import { startDaemon, type ScheduleRunner } from '../../src/schedule/daemon.js';
import { readState } from '../../src/schedule/state.js';

let dir: string;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('daemon', () => {
  it('skips an overlapping run of one schedule while another schedule runs on its own', async () => {
    dir = await mkdtemp(join(tmpdir(), 'bbt-ops-daemon-'));
    const config = parseConfigObject({
      backup: { store: dir },
      schedule: {
        slow: { cron: '* * * * * *' },
        fast: { cron: '* * * * * *' },
        off: { cron: '* * * * * *', enabled: false },
      },
    });
    const records: LogRecord[] = [];
    const logger = createLogger(config.logging, { sinks: [(r) => records.push(r)] });
    const starts: Record<string, number[]> = { slow: [], fast: [], off: [] };
    const ends: Record<string, number[]> = { slow: [], fast: [], off: [] };
    const run: ScheduleRunner = async (name) => {
      starts[name]!.push(Date.now());
      await wait(name === 'slow' ? 2600 : 100);
      ends[name]!.push(Date.now());
      return { status: name === 'slow' ? 'partial' : 'ok', backupId: `id-${name}-${starts[name]!.length}` };
    };
    const abort = new AbortController();
    const daemon = await startDaemon({
      config,
      run,
      statePath: join(dir, '.schedule-state.json'),
      logger,
      signal: abort.signal,
    });
    await wait(5600);
    abort.abort();
    await daemon.done;

    // fast fired every second; slow could start only when its previous run had ended
    expect(starts.fast!.length).toBeGreaterThanOrEqual(4);
    expect(starts.slow!.length).toBeGreaterThanOrEqual(2);
    expect(starts.slow!.length).toBeLessThanOrEqual(3);
    for (let i = 1; i < starts.slow!.length; i++) expect(starts.slow![i]!).toBeGreaterThanOrEqual(ends.slow![i - 1]!);
    // fast kept running while slow was busy
    const duringSlow = starts.fast!.filter((t) => t > starts.slow![0]! && t < ends.slow![0]!);
    expect(duringSlow.length).toBeGreaterThanOrEqual(1);
    expect(starts.off).toEqual([]);

    const skips = records.filter((r) => r.msg.includes('schedule slow: previous run still going'));
    expect(skips.length).toBeGreaterThanOrEqual(2);
    expect(records.some((r) => r.msg.includes('schedule fast: previous run still going'))).toBe(false);

    const state = await readState(join(dir, '.schedule-state.json'));
    expect(state.schedules.slow).toMatchObject({ lastStatus: 'partial', runs: starts.slow!.length });
    expect(state.schedules.slow!.skipped).toBe(skips.length);
    expect(state.schedules.fast).toMatchObject({ lastStatus: 'ok', runs: ends.fast!.length });
    expect(state.daemon?.pid).toBe(process.pid);
    await logger.close();
  }, 20_000);

  it('reports runs missed while no daemon was alive', async () => {
    dir = await mkdtemp(join(tmpdir(), 'bbt-ops-daemon-'));
    const statePath = join(dir, '.schedule-state.json');
    const lastSeen = new Date(Date.now() - 3 * 3600_000).toISOString();
    await writeFile(
      statePath,
      JSON.stringify({ version: 1, daemon: { pid: 1, started: lastSeen, lastSeen }, schedules: {} }),
    );
    const config = parseConfigObject({
      backup: { store: dir },
      schedule: { hourly: { cron: '0 * * * *' }, yearly: { cron: '0 0 1 1 *' } },
    });
    const records: LogRecord[] = [];
    const logger = createLogger(config.logging, { sinks: [(r) => records.push(r)] });
    const missed: [string, number][] = [];
    const abort = new AbortController();
    const daemon = await startDaemon({
      config,
      run: async () => ({ status: 'ok' }),
      statePath,
      logger,
      signal: abort.signal,
      onMissed: async (name, _s, m) => void missed.push([name, m.count]),
    });
    abort.abort();
    await daemon.done;
    expect(missed).toEqual([['hourly', 3]]);
    expect(
      records.some(
        (r) => r.level === 'warn' && r.msg.includes('schedule hourly: 3 run(s) were missed while the daemon was down'),
      ),
    ).toBe(true);
    const state = JSON.parse(await readFile(statePath, 'utf8'));
    expect(state.schedules.hourly.missed).toBe(3);
    expect(state.schedules.yearly).toBeUndefined();
    await logger.close();
  });

  it('refuses a bad cron before starting anything', async () => {
    dir = await mkdtemp(join(tmpdir(), 'bbt-ops-daemon-'));
    const config = parseConfigObject({ backup: { store: dir }, schedule: { bad: { cron: '99 * * * *' } } });
    const logger = createLogger(config.logging);
    await expect(
      startDaemon({
        config,
        run: async () => ({ status: 'ok' }),
        statePath: join(dir, 's.json'),
        logger,
        signal: new AbortController().signal,
      }),
    ).rejects.toThrow(/schedule bad: cron "99 \* \* \* \*" is not valid/);
  });

  it('refuses schedules that name a host, set or remote that does not exist', async () => {
    dir = await mkdtemp(join(tmpdir(), 'bbt-ops-daemon-'));
    const config = parseConfigObject({
      backup: { store: dir },
      schedule: {
        a: { cron: '0 3 * * *', host: 'nope' },
        b: { cron: '0 3 * * *', backup_set: 'missing', remotes: ['gone'] },
        c: { cron: '0 3 * * *', host: 'nope', enabled: false },
      },
    });
    const logger = createLogger(config.logging);
    const start = startDaemon({
      config,
      run: async () => ({ status: 'ok' }),
      statePath: join(dir, 's.json'),
      logger,
      signal: new AbortController().signal,
    });
    await expect(start).rejects.toThrow(
      'schedule a: host "nope" is not in the hosts: section (none configured)\nschedule b: backup set "missing" is not in backup.backup_sets\nschedule b: remote "gone" is not in the remotes: section',
    );
  });

  it('jitter delays the start of a run by a random part of jitter_seconds', async () => {
    dir = await mkdtemp(join(tmpdir(), 'bbt-ops-daemon-'));
    const config = parseConfigObject({
      backup: { store: dir },
      schedule: { j: { cron: '* * * * * *', jitter_seconds: 4 } },
    });
    const logger = createLogger(config.logging);
    const fired: number[] = [];
    const abort = new AbortController();
    const t0 = Date.now();
    const daemon = await startDaemon({
      config,
      run: async () => (fired.push(Date.now() - t0), { status: 'ok' }),
      statePath: join(dir, 's.json'),
      logger,
      signal: abort.signal,
      random: () => 0.5,
    });
    await wait(3500);
    // first fire at ~1 s, plus 2 s of jitter; the next fires were skipped while it waited
    expect(fired.length).toBe(1);
    expect(fired[0]!).toBeGreaterThanOrEqual(2000);
    await wait(300);
    abort.abort();
    await daemon.done;
    const state = await readState(join(dir, 's.json'));
    expect(state.schedules.j!.runs).toBe(fired.length);
  }, 15_000);

  it('a stop during the jitter wait ends at once and runs nothing', async () => {
    dir = await mkdtemp(join(tmpdir(), 'bbt-ops-daemon-'));
    const config = parseConfigObject({
      backup: { store: dir },
      schedule: { j: { cron: '* * * * * *', jitter_seconds: 30 } },
    });
    const logger = createLogger(config.logging);
    let runs = 0;
    const abort = new AbortController();
    const daemon = await startDaemon({
      config,
      run: async () => (runs++, { status: 'ok' }),
      statePath: join(dir, 's.json'),
      logger,
      signal: abort.signal,
      random: () => 0.9,
    });
    await wait(1500);
    const t = Date.now();
    abort.abort();
    await daemon.done;
    expect(Date.now() - t).toBeLessThan(1000);
    expect(runs).toBe(0);
  });

  it('reload re-arms changed schedules, keeps the rest, and refuses a bad config', async () => {
    dir = await mkdtemp(join(tmpdir(), 'bbt-ops-daemon-'));
    const make = (schedule: Record<string, unknown>) => parseConfigObject({ backup: { store: dir }, schedule });
    const logger = createLogger(make({}).logging);
    const runs: string[] = [];
    const abort = new AbortController();
    const daemon = await startDaemon({
      config: make({ a: { cron: '* * * * * *' }, keep: { cron: '* * * * * *' } }),
      run: async (name) => (runs.push(name), { status: 'ok' }),
      statePath: join(dir, 's.json'),
      logger,
      signal: abort.signal,
    });
    await wait(1500);
    expect(() => daemon.reload(make({ a: { cron: '* * * * * *', host: 'nope' } }))).toThrow(
      /reload refused, the old schedules stay: schedule a: host "nope"/,
    );
    expect(daemon.reload(make({ b: { cron: '* * * * * *' }, keep: { cron: '* * * * * *' } })).sort()).toEqual([
      'a',
      'b',
    ]);
    const mark = runs.length;
    await wait(2200);
    abort.abort();
    await daemon.done;
    const after = runs.slice(mark);
    expect(runs.slice(0, mark)).toContain('a');
    expect(after).not.toContain('a');
    expect(after.filter((n) => n === 'b').length).toBeGreaterThanOrEqual(2);
    expect(after.filter((n) => n === 'keep').length).toBeGreaterThanOrEqual(2);
  });
});
