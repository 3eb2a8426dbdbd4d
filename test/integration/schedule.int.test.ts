// The scheduler for real: `bbackup daemon` as a process with two schedules firing every second or
// two against the real engine, real backups, a real webhook for missed runs; and the generated
// systemd units checked by systemd's own `systemd-analyze verify`.
import { execa } from 'execa';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { cliCommand, runCli } from '../helpers/cli.js';
import { createTestContainer, createTestVolume, runInBusybox, testDocker } from '../helpers/docker.js';
import { tempDir, writeConfig } from './ops-fixtures.js';
import type { RunReport } from '../../src/notify/report.js';
import type { ScheduleState } from '../../src/schedule/state.js';

const docker = testDocker();
const ENGINE = process.env.BBACKUP_TEST_DOCKER_HOST!;

async function webhook(): Promise<{ url: string; reports: RunReport[] }> {
  const reports: RunReport[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      reports.push(JSON.parse(body) as RunReport);
      res.statusCode = 204;
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  onTestFinished(() => new Promise<void>((r) => server.close(() => r())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, reports };
}

const backupsIn = async (dir: string): Promise<string[]> =>
  (await readdir(dir).catch(() => [] as string[])).filter((n) => /^\d{8}T\d{6}Z(-\d+)?$/.test(n)).sort();

interface LogLine {
  t: number;
  msg: string;
}
const parseLog = (text: string): LogLine[] =>
  text
    .split('\n')
    .filter(Boolean)
    .map((l) => ({ t: Date.parse(l.slice(0, 24)), msg: l }));

describe('bbackup daemon', () => {
  it('runs schedules, skips an overlapping run, runs a second schedule independently, reports missed runs', async () => {
    const dir = await tempDir('daemon');
    const hook = await webhook();
    const vs = await createTestVolume(docker, 'ops-daemon');
    const vf = await createTestVolume(docker, 'ops-daemon');
    await runInBusybox(docker, 'echo slow > /s/x && echo fast > /f/y', [`${vs}:/s`, `${vf}:/f`]);
    // the slow schedule's container takes 3 s to "dump" before each backup: longer than its 1 s period
    const cs = await createTestContainer(docker, 'ops-daemon', {
      Labels: { 'bbackup.exec.pre': 'sleep 3' },
      HostConfig: { Binds: [`${vs}:/data`] },
    });
    const cf = await createTestContainer(docker, 'ops-daemon', { HostConfig: { Binds: [`${vf}:/data`] } });
    const store = join(dir, 'store');
    // two host names for one engine: two store folders, two locks, so the schedules never wait for each other
    const config = await writeConfig(dir, {
      backup: { store },
      retention: { enabled: false },
      hosts: { h1: { docker_host: ENGINE }, h2: { docker_host: ENGINE } },
      logging: { level: 'info', file: join(dir, 'daemon.log') },
      notifications: { webhooks: [{ url: hook.url, on: 'failure' }] },
      schedule: {
        slow: { cron: '* * * * * *', host: 'h1', containers: [cs] },
        fast: { cron: '*/2 * * * * *', host: 'h2', containers: [cf] },
        hourly: { cron: '0 * * * *', host: 'h1', containers: [cs] },
      },
    });
    // the last daemon was seen two hours ago: the hourly run is missed twice
    const lastSeen = new Date(Date.now() - 2 * 3600_000 - 60_000).toISOString();
    await mkdir(store, { recursive: true });
    await writeFile(
      join(store, '.schedule-state.json'),
      JSON.stringify({ version: 1, daemon: { pid: 1, started: lastSeen, lastSeen }, schedules: {} }),
    );

    const cli = cliCommand();
    const daemon = execa(cli.file, [...cli.args, '-c', config, 'daemon'], {
      cwd: cli.cwd,
      reject: false,
      env: { NO_COLOR: '1' },
    });
    onTestFinished(() => void daemon.kill('SIGKILL'));
    // Wait for what the test is about, however slow the machine: slow has run twice and skipped
    // three fire times, fast has finished four runs and one of them while slow was busy.
    const logPath = join(dir, 'daemon.log');
    const readLog = async () => parseLog(await readFile(logPath, 'utf8').catch(() => ''));
    const count = (log: LogLine[], text: string) => log.filter((l) => l.msg.includes(text)).length;
    const fastDuringSlow = (log: LogLine[]) => {
      const windows = slowWindows(log);
      return log.filter(
        (l) => l.msg.includes('schedule fast: run ended ok') && windows.some(([a, b]) => l.t > a && l.t < b),
      ).length;
    };
    const deadline = Date.now() + 150_000;
    for (;;) {
      const log = await readLog();
      if (
        count(log, 'schedule slow: run ended') >= 2 &&
        count(log, 'schedule slow: previous run still going') >= 3 &&
        count(log, 'schedule fast: run ended ok') >= 4 &&
        fastDuringSlow(log) >= 1
      )
        break;
      if (Date.now() > deadline)
        throw new Error(`the schedules never got there; daemon log:\n${log.map((l) => l.msg).join('\n')}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    daemon.kill('SIGTERM');
    const r = await daemon;
    expect(r.exitCode, String(r.stderr)).toBe(0);

    const state = JSON.parse(await readFile(join(store, '.schedule-state.json'), 'utf8')) as ScheduleState;
    const log = await readLog();
    const slow = state.schedules.slow!;
    const fast = state.schedules.fast!;
    // slow: a fire time while its previous run is going is skipped, never run on top of it
    expect(slow.runs).toBeGreaterThanOrEqual(2);
    expect(slow.skipped).toBeGreaterThanOrEqual(3);
    expect(count(log, 'schedule slow: previous run still going')).toBe(slow.skipped);
    const slowEvents = log
      .filter((l) => /schedule slow: run (starts|ended)/.test(l.msg))
      .map((l) => (l.msg.includes('run starts') ? 'start' : 'end'));
    slowEvents.forEach((e, i) =>
      expect(e, `slow event ${i}: ${slowEvents.join(',')}`).toBe(i % 2 === 0 ? 'start' : 'end'),
    );
    // fast ran on its own clock, also while slow was busy
    expect(fast.runs).toBeGreaterThanOrEqual(4);
    expect(fastDuringSlow(log)).toBeGreaterThanOrEqual(1);
    // every backup landed in its host's folder
    expect((await backupsIn(join(store, 'h2'))).length).toBeGreaterThanOrEqual(fast.runs! - 1);
    expect((await backupsIn(join(store, 'h1'))).length).toBeGreaterThanOrEqual(1);
    // missed runs: logged, counted, and sent
    expect(state.schedules.hourly!.missed).toBe(2);
    const missed = hook.reports.filter((x) => x.event === 'schedule.missed' && x.schedule === 'hourly');
    expect(missed).toHaveLength(1);
    expect(missed[0]!.errors[0]!.message).toMatch(
      /^2 scheduled run\(s\) between .* did not happen: the daemon was not running/,
    );
    expect(state.daemon?.pid).toBe(daemon.pid);

    // `schedule list` shows the next run and the last result
    const list = await runCli(['-c', config, '--json', 'schedule', 'list'], { env: { BBACKUP_CONFIG: undefined } });
    expect(list.exitCode, list.stderr).toBe(0);
    const doc = JSON.parse(list.stdout) as {
      daemon: { alive: boolean };
      schedules: { name: string; next: string[]; last: { lastStatus?: string; lastBackupId?: string } }[];
    };
    expect(doc.daemon.alive).toBe(false);
    const f = doc.schedules.find((s) => s.name === 'fast')!;
    expect(Date.parse(f.next[0]!)).toBeGreaterThan(Date.now() - 1000);
    // the last fast run may have been cancelled by the SIGTERM; list shows whatever it was
    expect(f.last).toMatchObject({ lastStatus: fast.lastStatus, lastBackupId: fast.lastBackupId });
    const okIds = log.flatMap((l) => /schedule fast: run ended ok \(backup (\S+)\)/.exec(l.msg)?.[1] ?? []);
    expect(okIds.length).toBeGreaterThanOrEqual(3);
    expect(await backupsIn(join(store, 'h2'))).toEqual(expect.arrayContaining(okIds));
  }, 240_000);
});

/** [start, end] times of each slow run, from the daemon log. */
function slowWindows(log: LogLine[]): [number, number][] {
  const out: [number, number][] = [];
  let start: number | undefined;
  for (const l of log) {
    if (l.msg.includes('schedule slow: run starts')) start = l.t;
    else if (l.msg.includes('schedule slow: run ended') && start !== undefined) {
      out.push([start, l.t]);
      start = undefined;
    }
  }
  return out;
}

describe('daemon reload', () => {
  it('SIGHUP re-reads the config: a removed schedule stops, an added one starts; a broken file changes nothing', async () => {
    const dir = await tempDir('reload');
    const store = join(dir, 'store');
    // runs that fail fast (the container does not exist) are runs all the same
    const cfg = (schedule: Record<string, unknown>) =>
      writeConfig(dir, { backup: { store }, logging: { level: 'info', file: join(dir, 'daemon.log') }, schedule });
    const config = await cfg({ old: { cron: '* * * * * *', containers: ['bbt-ops-reload-none'] } });
    const cli = cliCommand();
    const daemon = execa(cli.file, [...cli.args, '-c', config, 'daemon'], {
      cwd: cli.cwd,
      reject: false,
      env: { NO_COLOR: '1' },
    });
    onTestFinished(() => void daemon.kill('SIGKILL'));
    const logText = () => readFile(join(dir, 'daemon.log'), 'utf8').catch(() => '');
    const waitFor = async (re: RegExp) => {
      const deadline = Date.now() + 90_000;
      while (!re.test(await logText())) {
        if (Date.now() > deadline) throw new Error(`log never matched ${re}:\n${await logText()}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    await waitFor(/schedule old: run ended/);
    await writeFile(config, '{ "schedule": { "bad": { "cron": "nope" } } }');
    daemon.kill('SIGHUP');
    await waitFor(/config reload failed, nothing changed/);
    await cfg({ new: { cron: '* * * * * *', containers: ['bbt-ops-reload-none'] } });
    daemon.kill('SIGHUP');
    await waitFor(/config reloaded; re-armed: old, new/);
    const reloadedAt = Date.now();
    await waitFor(/schedule new: run starts[^]*schedule new: run starts/);
    daemon.kill('SIGTERM');
    expect((await daemon).exitCode).toBe(0);
    const lines = parseLog(await logText());
    expect(lines.filter((l) => l.msg.includes('schedule old: run starts') && l.t > reloadedAt + 1000)).toEqual([]);
    expect(lines.filter((l) => l.msg.includes('schedule new: run starts')).length).toBeGreaterThanOrEqual(2);
  });
});

describe('schedule install-systemd', () => {
  it('writes a .service + .timer per schedule that systemd-analyze verify accepts', async () => {
    const which = await execa('which', ['systemd-analyze'], { reject: false });
    expect(which.exitCode, 'systemd-analyze is installed on this machine kind').toBe(0);
    const dir = await tempDir('systemd');
    const config = await writeConfig(dir, {
      backup: { store: join(dir, 'store') },
      schedule: {
        nightly: { cron: '30 2 * * *', jitter_seconds: 900 },
        weekdays: { cron: '0 */4 * * MON-FRI', backup_set: 'db' },
        off: { cron: '0 0 L * *', enabled: false },
      },
    });
    const units = join(dir, 'units');
    const r = await runCli(
      ['-c', config, '--json', 'schedule', 'install-systemd', '--dir', units, '--name', 'bbt-ops'],
      { env: { BBACKUP_CONFIG: undefined } },
    );
    expect(r.exitCode, r.stderr).toBe(0);
    const files = (await readdir(units)).sort();
    expect(files).toEqual([
      'bbt-ops-nightly.service',
      'bbt-ops-nightly.timer',
      'bbt-ops-weekdays.service',
      'bbt-ops-weekdays.timer',
    ]);
    const verify = await execa('systemd-analyze', ['verify', ...files.map((f) => join(units, f))], {
      reject: false,
      all: true,
    });
    expect(verify.exitCode, String(verify.all)).toBe(0);
    expect(String(verify.all)).not.toMatch(/bbt-ops-/);
    const timer = await readFile(join(units, 'bbt-ops-weekdays.timer'), 'utf8');
    expect(timer).toContain('OnCalendar=Mon..Fri *-*-* 00,04,08,12,16,20:00:00');
    expect(timer).toContain('Persistent=true');
    const service = await readFile(join(units, 'bbt-ops-nightly.service'), 'utf8');
    expect(service).toMatch(new RegExp(`^ExecStart=.* --config ${config} schedule run nightly$`, 'm'));

    // the daemon's own unit
    const d = await runCli(
      ['-c', config, 'schedule', 'install-systemd', '--dir', units, '--name', 'bbt-ops', '--daemon'],
      { env: { BBACKUP_CONFIG: undefined } },
    );
    expect(d.exitCode, d.stderr).toBe(0);
    const daemonUnit = join(units, 'bbt-ops-daemon.service');
    const vd = await execa('systemd-analyze', ['verify', daemonUnit], { reject: false, all: true });
    expect(vd.exitCode, String(vd.all)).toBe(0);
    expect(await readFile(daemonUnit, 'utf8')).toMatch(new RegExp(`^ExecStart=.* --config ${config} daemon$`, 'm'));

    // the service's command line really runs: `schedule run` of an unknown schedule is refused the same way
    const bad = await runCli(['-c', config, 'schedule', 'run', 'nope'], { env: { BBACKUP_CONFIG: undefined } });
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toContain('unknown schedule "nope"; configured: nightly, weekdays, off');
  });
});
