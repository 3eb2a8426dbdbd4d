// `bbackup drill` against the real engine: a backup of a container with a healthcheck and a probe
// label is restored into a sandbox, comes up healthy, its volume matches the index, a record is
// written, a notification is sent, and afterwards nothing of the sandbox is left while the original
// container, volume and network are exactly as before. A backup whose stored volume data was
// changed after the backup fails the drill, naming the file.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DrillReport } from '../../src/drill/types.js';
import type { RunReport } from '../../src/notify/report.js';
import { runCli } from '../helpers/cli.js';
import { execa } from 'execa';
import { currentRun } from '../../src/process-identity.js';
import {
  createTestContainer,
  createTestNetwork,
  createTestVolume,
  runInBusybox,
  testDocker,
  testLabels,
} from '../helpers/docker.js';
import { httpSink } from '../helpers/http-sink.js';

let tmp: string;
let docker: Docker;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'bbt-drill-'));
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

/** An application: a volume with data, an internal network, a container with a healthcheck and a probe. */
async function app(): Promise<{ c: string; v: string; n: string }> {
  const v = await createTestVolume(docker, 'drill');
  await runInBusybox(
    docker,
    'echo hello > /data/greeting && mkdir -p /data/sub && seq 1 2000 > /data/sub/numbers && touch /data/ready',
    [`${v}:/data`],
  );
  const n = await createTestNetwork(docker, 'drill');
  const c = await createTestContainer(docker, 'drill', {
    Labels: {
      'bbackup.drill.probe': '["sh","-c","grep -q hello /data/greeting"]',
      'com.docker.compose.project': 'shop',
    },
    Healthcheck: {
      Test: ['CMD', 'test', '-f', '/data/ready'],
      Interval: 500_000_000,
      Timeout: 2_000_000_000,
      Retries: 3,
    },
    HostConfig: { NetworkMode: n, Binds: [`${v}:/data`], RestartPolicy: { Name: 'unless-stopped' } },
  });
  return { c, v, n };
}

/** What must not change about the originals (Health logs grow by themselves, so State is reduced). */
async function snapshot(o: { c: string; v: string; n: string }): Promise<unknown> {
  const c = await docker.getContainer(o.c).inspect();
  return {
    container: {
      Id: c.Id,
      Created: c.Created,
      Config: c.Config,
      HostConfig: c.HostConfig,
      Mounts: c.Mounts,
      Networks: c.NetworkSettings.Networks,
      StartedAt: c.State.StartedAt,
      Running: c.State.Running,
      RestartCount: c.RestartCount,
    },
    volume: await docker.getVolume(o.v).inspect(),
    network: await docker.getNetwork(o.n).inspect(),
    data: await runInBusybox(docker, 'cd /data && find . | sort && cat greeting && md5sum sub/numbers', [
      `${o.v}:/data:ro`,
    ]),
  };
}

async function leftovers(prefix: string): Promise<string[]> {
  const [cs, vs, ns] = await Promise.all([
    docker.listContainers({ all: true }),
    docker.listVolumes(),
    docker.listNetworks(),
  ]);
  return [
    ...cs.flatMap((c) => c.Names.map((x) => x.replace(/^\//, ''))),
    ...(vs.Volumes ?? []).map((v) => v.Name),
    ...ns.map((n) => n.Name),
  ].filter((x) => x.startsWith(prefix));
}

async function backup(cfg: { path: string; env: Record<string, string | undefined> }, c: string): Promise<string> {
  const r = await runCli(['-c', cfg.path, '--json', 'backup', '-C', c], { env: cfg.env });
  expect(r.exitCode, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { id: string }).id;
}

describe('bbackup drill', () => {
  it('a healthy backup passes in a sandbox, is recorded and notified, and leaves nothing behind; the originals are untouched', async () => {
    const sink = await httpSink();
    const cfg = await config(`notifications:\n  on: always\n  webhooks: [{url: "${sink.url}/hook", retries: 0}]\n`);
    const o = await app();
    const id = await backup(cfg, o.c);
    const before = await snapshot(o);

    const r = await runCli(['-c', cfg.path, '--json', 'drill', '-C', o.c], { env: cfg.env });
    expect(r.exitCode, r.stderr + r.stdout).toBe(0);
    const report = JSON.parse(r.stdout) as DrillReport & { record: string };
    expect(report.outcome).toBe('passed');
    expect(report.backup_id).toBe(id);
    expect(report.containers).toEqual([
      expect.objectContaining({
        name: o.c,
        sandbox: `${report.sandbox.prefix}${o.c}`,
        state: 'healthy',
        ok: true,
        probe: expect.objectContaining({ exitCode: 0 }),
      }),
    ]);
    expect(report.volumes).toEqual([
      expect.objectContaining({ name: o.v, verified: 'checked', ok: true, problems: [] }),
    ]);
    expect(report.sandbox.prefix).toMatch(/^drill-\d{8}T\d{6}-[0-9a-f]{4}-$/);
    expect(report.sandbox.networks).toEqual([`${report.sandbox.prefix}${o.n}`]);
    expect(report.rto_seconds).toBeGreaterThan(0);
    expect(report.rpo_seconds).toBeGreaterThanOrEqual(0);
    expect(report.errors).toEqual([]);

    expect(await leftovers(report.sandbox.prefix)).toEqual([]);
    expect(await snapshot(o)).toEqual(before);

    const record = JSON.parse(await readFile(report.record, 'utf8')) as DrillReport;
    expect(record).toMatchObject({ id: report.id, outcome: 'passed', backup_id: id });
    expect(report.record).toContain(join('.drills', `${report.id}.json`));
    await sink.waitFor(2); // the backup's own, then the drill's
    const sent = sink.received.map((x) => JSON.parse(x.body) as RunReport).find((x) => x.event === 'drill.finished');
    expect(sent).toMatchObject({ event: 'drill.finished', status: 'ok', backup_id: id, drill: { id: report.id } });
    // the store still lists exactly the one backup
    const list = await runCli(['-c', cfg.path, '--json', 'list-backups'], { env: cfg.env });
    expect(list.stdout).toContain(id);
  }, 600_000);

  it('--keep leaves an isolated sandbox: renamed, internal network, no restart policy, no compose labels', async () => {
    const cfg = await config();
    const o = await app();
    await backup(cfg, o.c);
    const r = await runCli(['-c', cfg.path, '--json', 'drill', '-C', o.c, '--keep'], { env: cfg.env });
    expect(r.exitCode, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as DrillReport;
    const s = await docker.getContainer(report.sandbox.containers[0]!).inspect();
    try {
      expect(s.HostConfig.RestartPolicy?.Name).toBe('no');
      expect(s.HostConfig.Binds).toEqual([`${report.sandbox.volumes[0]}:/data`]);
      expect(Object.keys(s.NetworkSettings.Networks)).toEqual([report.sandbox.networks[0]]);
      expect(s.Config.Labels['bbackup.drill']).toBe(report.id);
      expect(s.Config.Labels['com.docker.compose.project']).toBeUndefined();
      expect((await docker.getNetwork(report.sandbox.networks[0]!).inspect()).Internal).toBe(true);
    } finally {
      await docker.getContainer(report.sandbox.containers[0]!).remove({ force: true });
      for (const v of report.sandbox.volumes) await docker.getVolume(v).remove({ force: true });
      for (const n of report.sandbox.networks) await docker.getNetwork(n).remove();
    }
  }, 600_000);

  it('a backup whose volume data was changed after the backup fails the drill, naming the file', async () => {
    const cfg = await config();
    const o = await app();
    const id = await backup(cfg, o.c);
    const hostFolder = (await readdir(cfg.store)).find((d) => !d.startsWith('.'))!;
    // bit rot in the stored snapshot: same size, other bytes
    await writeFile(join(cfg.store, hostFolder, id, 'volumes', o.v, 'greeting'), 'HELLO\n');
    const before = await snapshot(o);
    // a sandbox volume left by a drill that was killed (its process is gone): removed by this drill
    const gone = execa(process.execPath, ['-e', '0']);
    await gone;
    const deadPid = gone.pid!;
    const leftover = `drill-20260101T000000-dead-${o.v}`;
    await docker.createVolume({
      Name: leftover,
      Labels: {
        ...testLabels(),
        'bbackup.drill': '20260101T000000-dead',
        'bbackup.drill.run': JSON.stringify({ ...currentRun(), pid: deadPid }),
      },
    });

    const r = await runCli(['-c', cfg.path, '--json', 'drill', id], { env: cfg.env });
    expect(r.exitCode, r.stderr).toBe(4);
    const report = JSON.parse(r.stdout) as DrillReport;
    expect(report.outcome).toBe('failed');
    expect(report.rto_seconds).toBeNull();
    expect(report.errors.map((e) => e.message).join('\n')).toMatch(/greeting: content differs from the index/);
    expect(await leftovers(report.sandbox.prefix)).toEqual([]);
    expect(await leftovers(leftover)).toEqual([]);
    expect(await snapshot(o)).toEqual(before);
    const records = await readdir(join(cfg.store, hostFolder, '.drills'));
    expect(records).toEqual([`${report.id}.json`]);
  }, 600_000);
});
