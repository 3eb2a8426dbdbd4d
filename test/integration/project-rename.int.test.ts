// `restore -P project --project-rename old:new` (issue 16) on the real engine through the real CLI:
// a Compose project backed up with -P is restored under a new name beside the original, which is
// left exactly as it was; the copy's containers, volumes and network carry the new project label,
// mount and join the renamed objects, run, and were started in depends_on order.
import { join } from 'node:path';
import type Docker from 'dockerode';
import { describe, expect, it, onTestFinished } from 'vitest';
import { runCli } from '../helpers/cli.js';
import {
  createTestContainer,
  createTestNetwork,
  createTestVolume,
  runInBusybox,
  testDocker,
} from '../helpers/docker.js';
import { testName } from '../helpers/names.js';
import { isRunning, tempDir, watchEvents, writeConfig } from './ops-fixtures.js';

const docker = testDocker();
const ENGINE = process.env.BBACKUP_TEST_DOCKER_HOST!;

/** Everything `docker inspect` says about the originals, to compare before and after. */
async function snapshot(containers: string[], volumes: string[], networks: string[]): Promise<unknown> {
  return {
    containers: await Promise.all(containers.map((c) => docker.getContainer(c).inspect())),
    volumes: await Promise.all(volumes.map((v) => docker.getVolume(v).inspect())),
    networks: await Promise.all(networks.map((n) => docker.getNetwork(n).inspect())),
  };
}

function cleanup(kind: 'container' | 'volume' | 'network', name: string) {
  onTestFinished(async () => {
    const gone =
      kind === 'container'
        ? docker.getContainer(name).remove({ force: true })
        : kind === 'volume'
          ? docker.getVolume(name).remove({ force: true })
          : docker.getNetwork(name).remove();
    await Promise.resolve(gone).catch(() => undefined);
  });
}

describe('restore a Compose project under a new name', () => {
  it('runs the renamed copy beside the untouched original; labels, mounts, networks and aliases follow', async () => {
    const dir = await tempDir('proj');
    const project = testName('proj');
    const copy = `${project}-copy`;
    const pl = (extra: Record<string, string> = {}) => ({ 'com.docker.compose.project': project, ...extra });
    const net = await createTestNetwork(docker, 'proj', {
      Name: `${project}_default`,
      Labels: pl({ 'com.docker.compose.network': 'default' }),
    });
    const data = await createTestVolume(docker, 'proj', {
      name: `${project}_data`,
      labels: pl({ 'com.docker.compose.volume': 'data' }),
    });
    await runInBusybox(docker, 'echo original > /data/who.txt', [`${data}:/data`]);
    // web's name sorts first: only depends_on makes db start first
    const web = await createTestContainer(docker, 'proj', {
      name: `${project}-a-web-1`,
      Labels: pl({ 'com.docker.compose.service': 'web', 'com.docker.compose.depends_on': 'db:service_started:false' }),
      HostConfig: { NetworkMode: net },
      NetworkingConfig: { EndpointsConfig: { [net]: { Aliases: ['web', `${project}-a-web-1`] } } },
    });
    const db = await createTestContainer(docker, 'proj', {
      name: `${project}-b-db-1`,
      Labels: pl({ 'com.docker.compose.service': 'db' }),
      HostConfig: { NetworkMode: net, Binds: [`${data}:/data`] },
      NetworkingConfig: { EndpointsConfig: { [net]: { Aliases: ['db'] } } },
    });
    const config = await writeConfig(dir, {
      backup: { store: join(dir, 'store') },
      docker: { socket: ENGINE.replace(/^unix:\/\//, '') },
      retention: { enabled: false },
    });
    const env = { env: { BBACKUP_CONFIG: undefined } };
    const backup = await runCli(['-c', config, '--json', 'backup', '-P', project], env);
    expect(backup.exitCode, backup.stderr).toBe(0);
    const { dir: backupDir } = JSON.parse(backup.stdout) as { dir: string };

    const newWeb = `${copy}-a-web-1`;
    const newDb = `${copy}-b-db-1`;
    const newData = `${copy}_data`;
    const newNet = `${copy}_default`;
    for (const c of [newWeb, newDb]) cleanup('container', c);
    cleanup('volume', newData);
    cleanup('network', newNet);

    const before = await snapshot([web, db], [data], [net]);
    const watch = await watchEvents(docker, [newWeb, newDb]);
    const restore = await runCli(
      ['-c', config, 'restore', backupDir, '-P', project, '--project-rename', `${project}:${copy}`],
      env,
    );
    expect(restore.exitCode, restore.stderr + restore.stdout).toBe(0);
    const deadline = Date.now() + 30_000;
    while (watch.events.filter((e) => e.status === 'start').length < 2 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    watch.stop();
    expect(watch.events.filter((e) => e.status === 'start').map((e) => e.name)).toEqual([newDb, newWeb]);

    // the original, untouched
    expect(await snapshot([web, db], [data], [net])).toEqual(before);
    // the copy runs, and is its own project
    for (const c of [newWeb, newDb]) expect(await isRunning(docker, c)).toBe(true);
    const w = await docker.getContainer(newWeb).inspect();
    const d = await docker.getContainer(newDb).inspect();
    for (const c of [w, d]) expect(c.Config.Labels['com.docker.compose.project']).toBe(copy);
    expect(w.Config.Labels['com.docker.compose.depends_on']).toBe('db:service_started:false');
    expect(d.Mounts.map((m) => m.Name)).toEqual([newData]);
    const aliases = (c: Docker.ContainerInspectInfo) =>
      (c.NetworkSettings.Networks[newNet]?.Aliases ?? []).filter((a: string) => a !== c.Id.slice(0, 12)).sort();
    expect(Object.keys(w.NetworkSettings.Networks)).toEqual([newNet]);
    expect(aliases(w)).toEqual(expect.arrayContaining(['web', newWeb]));
    expect(aliases(w)).not.toContain(web);
    expect(aliases(d)).toContain('db');
    expect((await docker.getVolume(newData).inspect()).Labels).toMatchObject({
      'com.docker.compose.project': copy,
      'com.docker.compose.volume': 'data',
    });
    expect((await docker.getNetwork(newNet).inspect()).Labels).toMatchObject({
      'com.docker.compose.project': copy,
      'com.docker.compose.network': 'default',
    });
    expect(await runInBusybox(docker, 'cat /data/who.txt', [`${newData}:/data`])).toBe('original\n');
  });
});
