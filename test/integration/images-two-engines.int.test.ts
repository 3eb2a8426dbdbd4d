// Disaster recovery across two engines (issue 16): a Compose-labelled project with a locally built
// image, two volumes and a network on one private engine (the host that dies) is backed up with
// -P, that engine is stopped and its data root deleted, and `restore --all --compose-dir` on a
// second, empty private engine brings back the image (same id), the network, the volumes (same
// content, labels), the containers (same definitions; the running one runs) and the compose files.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
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

let dead: TestEngine | undefined;
let fresh: TestEngine | undefined;
beforeAll(async () => {
  dead = await startPrivateEngine('bbt-img-a-');
  fresh = await startPrivateEngine('bbt-img-b-');
}, 180_000);
afterAll(async () => {
  // both dockerds were started here: stopped by their pids, data roots removed
  await dead?.stop?.();
  await fresh?.stop?.();
}, 120_000);

const definition = (c: Docker.ContainerInspectInfo) => ({
  name: c.Name,
  image: c.Config.Image,
  imageId: c.Image,
  cmd: c.Config.Cmd,
  env: c.Config.Env,
  labels: c.Config.Labels,
  workingDir: c.Config.WorkingDir,
  binds: c.HostConfig.Binds,
  networkMode: c.HostConfig.NetworkMode,
  restart: c.HostConfig.RestartPolicy,
  mounts: c.Mounts.map((m) => `${m.Name}:${m.Destination}:${m.RW}`).sort(),
  networks: Object.keys(c.NetworkSettings.Networks).sort(),
  aliases: Object.values(c.NetworkSettings.Networks)
    .flatMap((n) => n.Aliases ?? [])
    .filter((a) => a !== c.Id.slice(0, 12))
    .sort(),
  running: c.State.Running,
});

describe('whole-host restore onto a fresh engine', () => {
  it('brings a Compose project with a local image back on an empty engine, compose files into --compose-dir', async () => {
    const a = new Docker({ socketPath: dead!.socketPath });
    const b = new Docker({ socketPath: fresh!.socketPath });
    const root = await tempDir('bbt-img-dr-');
    const project = `bbtimg${process.pid}`;
    const workdir = join(root, 'app');
    await mkdir(workdir);
    const composeText = `services:\n  db:\n    image: IMAGE\n    volumes: [data:/data]\n  web:\n    image: IMAGE\n    volumes: [conf:/conf]\nvolumes:\n  data: {}\n  conf: {}\n`;
    await writeFile(join(workdir, 'compose.yaml'), composeText);
    await writeFile(join(workdir, '.env'), 'DB_PASSWORD=s3cret\n');
    const pl = (extra: Record<string, string> = {}) => ({ 'com.docker.compose.project': project, ...extra });
    const projectLabels = (service: string) =>
      pl({
        'com.docker.compose.service': service,
        'com.docker.compose.project.config_files': join(workdir, 'compose.yaml'),
        'com.docker.compose.project.working_dir': workdir,
      });

    const img = await makeLocalImage(a, 'img');
    const net = await createTestNetwork(a, 'img', {
      Name: `${project}_default`,
      Labels: pl({ 'com.docker.compose.network': 'default' }),
    });
    const data = await createTestVolume(a, 'img', {
      name: `${project}_data`,
      labels: pl({ 'com.docker.compose.volume': 'data' }),
    });
    const conf = await createTestVolume(a, 'img', {
      name: `${project}_conf`,
      labels: pl({ 'com.docker.compose.volume': 'conf' }),
    });
    await fillRichTree(await mountpointOf(a, data));
    await writeFile(join(await mountpointOf(a, conf), 'app.conf'), 'port=8080\n');
    const db = await createTestContainer(a, 'img', {
      name: `${project}-db-1`,
      Image: img.tag,
      Env: ['DB_PASSWORD=s3cret'],
      Labels: projectLabels('db'),
      HostConfig: { Binds: [`${data}:/data`], RestartPolicy: { Name: 'unless-stopped' } },
    });
    const web = await createTestContainer(
      a,
      'img',
      {
        name: `${project}-web-1`,
        Image: img.tag,
        Labels: projectLabels('web'),
        HostConfig: { NetworkMode: net, Binds: [`${conf}:/conf:ro`] },
        NetworkingConfig: { EndpointsConfig: { [net]: { Aliases: ['web'] } } },
      },
      false,
    );
    // a container outside the project stays out of the backup
    const other = await createTestContainer(a, 'img', { Image: img.tag }, false);
    const before = {
      db: definition(await a.getContainer(db).inspect()),
      web: definition(await a.getContainer(web).inspect()),
    };
    const trees = {
      data: await describeTree(await mountpointOf(a, data)),
      conf: await describeTree(await mountpointOf(a, conf)),
    };
    const volumeLabels = {
      data: (await a.getVolume(data).inspect()).Labels,
      conf: (await a.getVolume(conf).inspect()).Labels,
    };

    const store = join(root, 'store');
    const cfg = await writeConfig(root, {
      backup: { store, volumes: { mode: 'host' } },
      retention: { enabled: false },
      hosts: { dead: { docker_host: dead!.address }, fresh: { docker_host: fresh!.address } },
    });
    const backup = await runCli(['-c', cfg, '--host', 'dead', '--json', 'backup', '-P', project]);
    expect(backup.exitCode, backup.stderr).toBe(0);
    const doc = JSON.parse(backup.stdout) as { dir: string; items: { kind: string; name: string }[] };
    expect(doc.items.map((i) => `${i.kind} ${i.name}`).sort()).toEqual(
      [
        `container ${db}`,
        `container ${web}`,
        `image ${img.id}`,
        'metadata metadata',
        `network ${net}`,
        `project ${project}`,
        `volume ${conf}`,
        `volume ${data}`,
      ].sort(),
    );
    expect(doc.items.some((i) => i.name === other)).toBe(false);

    // The host dies: its engine stops and its data root is deleted.
    await dead!.stop!();
    dead = undefined;
    expect((await b.listImages()).map((i) => i.Id)).not.toContain(img.id);

    const plan = await runCli([
      '-c',
      cfg,
      '--host',
      'fresh',
      'restore',
      doc.dir,
      '--all',
      '--compose-dir',
      join(root, 'compose'),
      '--dry-run',
    ]);
    expect(plan.exitCode, plan.stderr + plan.stdout).toBe(0);
    expect(plan.stdout).toContain('Images loaded from the backup (1):');
    expect(plan.stdout).toContain(`${img.tag} ${img.id.slice(0, 19)}`);
    expect(plan.stdout).not.toContain('Missing images');

    const restore = await runCli([
      '-c',
      cfg,
      '--host',
      'fresh',
      '--json',
      'restore',
      doc.dir,
      '--all',
      '--compose-dir',
      join(root, 'compose'),
    ]);
    expect(restore.exitCode, restore.stderr + restore.stdout).toBe(0);
    expect((await b.getImage(img.tag).inspect()).Id).toBe(img.id);
    const after = {
      db: definition(await b.getContainer(db).inspect()),
      web: definition(await b.getContainer(web).inspect()),
    };
    expect(after).toEqual(before);
    expect(after.db.running).toBe(true);
    expect(await describeTree(await mountpointOf(b, data))).toEqual(trees.data);
    expect(await describeTree(await mountpointOf(b, conf))).toEqual(trees.conf);
    expect((await b.getVolume(data).inspect()).Labels).toEqual(volumeLabels.data);
    expect((await b.getVolume(conf).inspect()).Labels).toEqual(volumeLabels.conf);
    expect((await b.getNetwork(net).inspect()).Labels).toMatchObject(pl({ 'com.docker.compose.network': 'default' }));
    expect(await readFile(join(root, 'compose', project, 'compose.yaml'), 'utf8')).toBe(composeText);
    expect(await readFile(join(root, 'compose', project, '.env'), 'utf8')).toBe('DB_PASSWORD=s3cret\n');
  });
});
