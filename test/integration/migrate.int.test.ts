// `bbackup migrate` (issue 16) between two private engines on this machine, through the real CLI:
// without --yes and without a terminal it refuses; --dry-run shows the plan and changes nothing;
// --stop-source --yes moves a Compose project with a locally built image, a volume and a network:
// on the target the containers run with the same definitions and the volume holds the same files;
// on the source they were stopped (dependants first) and everything else is as it was.
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { createTestContainer, createTestNetwork, createTestVolume } from '../helpers/docker.js';
import { startPrivateEngine, type TestEngine } from '../helpers/engine.js';
import { makeLocalImage } from '../helpers/images.js';
import { describeTree, fillRichTree, mountpointOf } from '../helpers/volume-data.js';
import { tempDir } from './backup-helpers.js';
import { writeConfig } from './ops-fixtures.js';

let from: TestEngine | undefined;
let to: TestEngine | undefined;
beforeAll(async () => {
  from = await startPrivateEngine('bbt-migr-a-');
  to = await startPrivateEngine('bbt-migr-b-');
}, 180_000);
afterAll(async () => {
  // both dockerds were started here: stopped by their pids, data roots removed
  await from?.stop?.();
  await to?.stop?.();
}, 120_000);

const definition = (c: Docker.ContainerInspectInfo) => ({
  name: c.Name,
  image: c.Config.Image,
  imageId: c.Image,
  cmd: c.Config.Cmd,
  labels: c.Config.Labels,
  binds: c.HostConfig.Binds,
  networkMode: c.HostConfig.NetworkMode,
  networks: Object.keys(c.NetworkSettings.Networks).sort(),
});

describe('bbackup migrate', () => {
  it('moves a Compose project between two engines: refuses without --yes, --dry-run changes nothing, --stop-source stops the source', async () => {
    const a = new Docker({ socketPath: from!.socketPath });
    const b = new Docker({ socketPath: to!.socketPath });
    const root = await tempDir('bbt-migr-');
    const project = `bbtmigr${process.pid}`;
    const pl = (extra: Record<string, string> = {}) => ({ 'com.docker.compose.project': project, ...extra });
    const img = await makeLocalImage(a, 'migr');
    const net = await createTestNetwork(a, 'migr', {
      Name: `${project}_default`,
      Labels: pl({ 'com.docker.compose.network': 'default' }),
    });
    const data = await createTestVolume(a, 'migr', {
      name: `${project}_data`,
      labels: pl({ 'com.docker.compose.volume': 'data' }),
    });
    await fillRichTree(await mountpointOf(a, data));
    const db = await createTestContainer(a, 'migr', {
      name: `${project}-db-1`,
      Image: img.tag,
      Labels: pl({ 'com.docker.compose.service': 'db' }),
      HostConfig: { NetworkMode: net, Binds: [`${data}:/data`] },
    });
    const web = await createTestContainer(a, 'migr', {
      name: `${project}-web-1`,
      Image: img.tag,
      Labels: pl({ 'com.docker.compose.service': 'web', 'com.docker.compose.depends_on': 'db:service_started:false' }),
      HostConfig: { NetworkMode: net },
    });
    const tree = await describeTree(await mountpointOf(a, data));
    const before = {
      db: definition(await a.getContainer(db).inspect()),
      web: definition(await a.getContainer(web).inspect()),
    };
    const cfg = await writeConfig(root, {
      backup: { store: join(root, 'store'), volumes: { mode: 'host' } },
      retention: { enabled: false },
      logging: { level: 'debug', file: join(root, 'bbackup.log') },
      hosts: { old: { docker_host: from!.address }, new: { docker_host: to!.address } },
    });
    const targetEmpty = async () => {
      expect(await b.listContainers({ all: true })).toEqual([]);
      expect((await b.listVolumes()).Volumes ?? []).toEqual([]);
    };

    // no terminal, no --yes: refused before anything happens
    const refused = await runCli(['-c', cfg, 'migrate', '--from', 'old', '--to', 'new', '-P', project]);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain('confirm with --yes');
    await targetEmpty();

    const dry = await runCli(['-c', cfg, 'migrate', '--from', 'old', '--to', 'new', '-P', project, '--dry-run']);
    expect(dry.exitCode, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('Migrate from old');
    expect(dry.stdout).toContain(db);
    expect(dry.stdout).toContain(data);
    await targetEmpty();
    for (const c of [db, web]) expect((await a.getContainer(c).inspect()).State.Running).toBe(true);

    const moved = await runCli([
      '-c',
      cfg,
      '--json',
      'migrate',
      '--from',
      'old',
      '--to',
      'new',
      '-P',
      project,
      '--stop-source',
      '--yes',
    ]);
    expect(moved.exitCode, moved.stderr + moved.stdout).toBe(0);
    const doc = JSON.parse(moved.stdout) as { outcome: string; sourceStopped: string[] };
    expect(doc.outcome).toBe('ok');
    expect(doc.sourceStopped).toEqual([web, db]);

    // the target runs the project: same definitions, same image id, same files
    expect((await b.getImage(img.tag).inspect()).Id).toBe(img.id);
    expect({
      db: definition(await b.getContainer(db).inspect()),
      web: definition(await b.getContainer(web).inspect()),
    }).toEqual(before);
    for (const c of [db, web]) expect((await b.getContainer(c).inspect()).State.Running).toBe(true);
    expect(await describeTree(await mountpointOf(b, data))).toEqual(tree);
    // the source: stopped, nothing else changed
    for (const c of [db, web]) expect((await a.getContainer(c).inspect()).State.Running).toBe(false);
    expect({
      db: definition(await a.getContainer(db).inspect()),
      web: definition(await a.getContainer(web).inspect()),
    }).toEqual(before);
    expect(await describeTree(await mountpointOf(a, data))).toEqual(tree);

    // a second move finds the names taken on the target: refused, nothing changed
    const again = await runCli(['-c', cfg, 'migrate', '--from', 'old', '--to', 'new', '-P', project, '--yes']);
    expect(again.exitCode).not.toBe(0);
    expect(again.stderr).toContain(`container ${db} exists on the target`);
  });
});
