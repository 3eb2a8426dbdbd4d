// Drill scopes against the real engine: `drill -P PROJECT` drills exactly the containers the
// backup recorded for that Compose project (not the others in the same backup), and a schedule
// with `drill: true` runs a drill (record named after the schedule) and shows as one in
// `schedule list`, the data the TUI's schedules overlay shows.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DrillReport } from '../../src/drill/types.js';
import type { ScheduleOverview } from '../../src/schedule/overview.js';
import { runCli } from '../helpers/cli.js';
import { createTestContainer, createTestVolume, runInBusybox, testDocker } from '../helpers/docker.js';
import { testName } from '../helpers/names.js';

let tmp: string;
let docker: Docker;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'bbt-drl-'));
  docker = testDocker();
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function config(extra = ''): Promise<{ path: string; store: string; env: Record<string, string | undefined> }> {
  const dir = await mkdtemp(join(tmp, 'cfg-'));
  const store = join(dir, 'store');
  const path = join(dir, 'bbackup.yaml');
  const socket = process.env.BBACKUP_TEST_DOCKER_HOST!.replace('unix://', '');
  await writeFile(
    path,
    `docker: {socket: ${socket}}\nbackup:\n  store: ${store}\nlogging: {file: ${join(dir, 'bbackup.log')}}\n${extra}`,
  );
  return { path, store, env: { HOME: dir, BBACKUP_CONFIG: undefined, DOCKER_HOST: undefined } };
}

const healthy = {
  Test: ['CMD', 'true'],
  Interval: 500_000_000,
  Timeout: 2_000_000_000,
  Retries: 3,
};

/** A container with a volume holding a file, healthy at once; labels as given. */
async function service(labels: Record<string, string> = {}): Promise<string> {
  const v = await createTestVolume(docker, 'drl');
  await runInBusybox(docker, 'echo hello > /data/greeting', [`${v}:/data`]);
  return createTestContainer(docker, 'drl', {
    Labels: labels,
    Healthcheck: healthy,
    HostConfig: { Binds: [`${v}:/data`] },
  });
}

describe('drill scopes', () => {
  it('drill -P drills the containers the backup recorded for the project, and only those', async () => {
    const cfg = await config();
    const project = testName('drl');
    const a = await service({ 'com.docker.compose.project': project });
    const b = await service({ 'com.docker.compose.project': project });
    const other = await service();
    const backup = await runCli(['-c', cfg.path, '--json', 'backup', '-C', a, b, other], { env: cfg.env });
    expect(backup.exitCode, backup.stderr).toBe(0);
    const id = (JSON.parse(backup.stdout) as { id: string }).id;

    const r = await runCli(['-c', cfg.path, '--json', 'drill', '-P', project], { env: cfg.env });
    expect(r.exitCode, r.stderr + r.stdout).toBe(0);
    const report = JSON.parse(r.stdout) as DrillReport;
    expect(report.backup_id).toBe(id);
    expect(report.outcome).toBe('passed');
    expect(report.containers.map((c) => c.name).sort()).toEqual([a, b].sort());
    expect(report.containers.every((c) => c.state === 'healthy')).toBe(true);

    // the same with the backup named; a project the backup does not hold is refused, naming it
    const missing = await runCli(['-c', cfg.path, 'drill', id, '-P', `${project}-nope`], { env: cfg.env });
    expect(missing.exitCode).not.toBe(0);
    expect(missing.stderr).toContain(`${project}-nope`);
  }, 600_000);

  it('a drill: true schedule runs a drill, recorded under its name, and is listed as a drill', async () => {
    const c = await service();
    const cfg = await config(`schedule:\n  proof:\n    cron: "0 4 * * *"\n    drill: true\n    containers: [${c}]\n`);
    const backup = await runCli(['-c', cfg.path, 'backup', '-C', c], { env: cfg.env });
    expect(backup.exitCode, backup.stderr).toBe(0);

    const run = await runCli(['-c', cfg.path, 'schedule', 'run', 'proof'], { env: cfg.env });
    expect(run.exitCode, run.stderr + run.stdout).toBe(0);
    const hostFolder = (await readdir(cfg.store)).find((d) => !d.startsWith('.'))!;
    const [record] = await readdir(join(cfg.store, hostFolder, '.drills'));
    const drill = JSON.parse(await readFile(join(cfg.store, hostFolder, '.drills', record!), 'utf8')) as DrillReport;
    expect(drill).toMatchObject({ schedule: 'proof', outcome: 'passed' });
    expect(drill.containers.map((x) => x.name)).toEqual([c]);

    const list = await runCli(['-c', cfg.path, '--json', 'schedule', 'list'], { env: cfg.env });
    const overview = JSON.parse(list.stdout) as ScheduleOverview;
    expect(overview.schedules).toEqual([
      expect.objectContaining({
        name: 'proof',
        what: `drill of containers ${c}`,
        last: expect.objectContaining({ lastStatus: 'ok', lastBackupId: drill.backup_id }),
      }),
    ]);
  }, 600_000);
});
