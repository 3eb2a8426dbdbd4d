// Inventory end to end: real containers, volumes with data and a network with a subnet on the
// test engine, read back through `bbackup list-* --json` and the aligned text tables.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContainerInfo, NetworkInfo, ResolvedBackupSet, VolumeInfo } from '../../src/docker/inventory.js';
import { runCli } from '../helpers/cli.js';
import { runInBusybox, testDocker, testLabels } from '../helpers/docker.js';
import { BUSYBOX_IMAGE, testName } from '../helpers/names.js';

const docker = testDocker();
const names = {
  data: testName('inv'),
  empty: testName('inv'),
  net: testName('inv'),
  running: testName('inv'),
  created: testName('inv'),
  missing: testName('inv'),
};
const MiB = 1024 * 1024;
let dir: string;
let config: string;

// One set of objects for the whole file (creating them is the slow part); removed in afterAll,
// and by the global teardown through their label if this process dies first.
beforeAll(async () => {
  await docker.createVolume({ Name: names.data, Labels: testLabels({ role: 'data' }) });
  await docker.createVolume({ Name: names.empty, Labels: testLabels() });
  // 3 MiB of data in two files: the size column must see it.
  await runInBusybox(
    docker,
    'dd if=/dev/zero of=/v/a bs=1048576 count=2 2>/dev/null && dd if=/dev/urandom of=/v/b bs=1048576 count=1 2>/dev/null',
    [`${names.data}:/v`],
  );
  const subnet = `10.213.${process.pid % 250}.0/24`;
  await docker.createNetwork({
    Name: names.net,
    Internal: true,
    Labels: testLabels(),
    IPAM: { Config: [{ Subnet: subnet }] },
  });
  const running = await docker.createContainer({
    name: names.running,
    Image: BUSYBOX_IMAGE,
    Cmd: ['sh', '-c', 'trap "exit 0" TERM; while true; do sleep 1; done'],
    Labels: testLabels({ 'com.example.app': 'web' }),
    HostConfig: { NetworkMode: 'none', Binds: [`${names.data}:/data`] },
  });
  await running.start();
  // Attached to a user network, so it stays created: never started, no traffic.
  await docker.createContainer({
    name: names.created,
    Image: BUSYBOX_IMAGE,
    Cmd: ['true'],
    Labels: testLabels(),
    HostConfig: { NetworkMode: names.net, Binds: [`${names.data}:/shared:ro`, `${names.empty}:/e`] },
  });
  dir = mkdtempSync(join(tmpdir(), 'bbt-inv-'));
  config = join(dir, 'bbackup.yaml');
  writeFileSync(
    config,
    [
      `docker: {socket: ${process.env.BBACKUP_TEST_DOCKER_HOST!.replace('unix://', '')}}`,
      'backup:',
      '  backup_sets:',
      `    complete: {description: all there, containers: [${names.running}], volumes: [${names.empty}], networks: [${names.net}]}`,
      `    broken: {containers: [${names.created}, ${names.missing}], volumes: [${names.missing}]}`,
      '',
    ].join('\n'),
  );
});

afterAll(async () => {
  for (const c of [names.running, names.created])
    await docker
      .getContainer(c)
      .remove({ force: true })
      .catch(() => undefined);
  for (const v of [names.data, names.empty])
    await docker
      .getVolume(v)
      .remove()
      .catch(() => undefined);
  await docker
    .getNetwork(names.net)
    .remove()
    .catch(() => undefined);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const env = () => ({ HOME: dir, BBACKUP_CONFIG: undefined, DOCKER_HOST: undefined });
const cli = (...args: string[]) => runCli(['-c', config, ...args], { env: env(), cwd: dir });
const json = async <T>(...args: string[]): Promise<T> => {
  const r = await cli('--json', ...args);
  expect(r.exitCode, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as T; // exactly one document: anything else on stdout fails here
};

/**
 * Every cell of an aligned table starts (left-aligned) or ends (right-aligned) at its header's
 * column in every line; returns the cells (split on the two-space gutter).
 */
function expectAligned(table: string, headers: string[], right: string[] = []): string[][] {
  const lines = table.trimEnd().split('\n');
  const starts = headers.map((h) => lines[0]!.indexOf(h));
  expect(starts.every((s, i) => s >= 0 && (i === 0 || s > starts[i - 1]!))).toBe(true);
  for (const line of lines.slice(1)) {
    headers.forEach((h, i) => {
      const start = starts[i]!;
      if (right.includes(h)) {
        const end = start + h.length;
        expect(line[end - 1], `${h} right-aligned in: ${line}`).not.toBe(' ');
        expect(line[end] ?? ' ').toBe(' ');
      } else if (line.length > start) {
        expect(line[start], `${h} left-aligned in: ${line}`).not.toBe(' ');
        if (start > 0) expect(line[start - 1]).toBe(' ');
      }
    });
  }
  return lines.slice(1).map((line) => line.split(/ {2,}/));
}

describe('list-containers', () => {
  it('--json: state, image, mounts, networks and labels', async () => {
    const { containers } = await json<{ containers: ContainerInfo[] }>('list-containers');
    const running = containers.find((c) => c.name === names.running)!;
    const created = containers.find((c) => c.name === names.created)!;
    expect(running).toMatchObject({
      state: 'running',
      image: BUSYBOX_IMAGE,
      networks: ['none'],
      labels: { 'com.example.app': 'web' },
    });
    expect(running.id).toMatch(/^[0-9a-f]{64}$/);
    expect(running.mounts).toEqual([{ type: 'volume', source: names.data, destination: '/data', readOnly: false }]);
    expect(created).toMatchObject({ state: 'created', networks: [names.net] });
    expect(created.mounts.sort((a, b) => a.destination.localeCompare(b.destination))).toEqual([
      { type: 'volume', source: names.empty, destination: '/e', readOnly: false },
      { type: 'volume', source: names.data, destination: '/shared', readOnly: true },
    ]);
  });

  it('text: an aligned table', async () => {
    const r = await cli('list-containers');
    expect(r.exitCode).toBe(0);
    const rows = expectAligned(r.stdout, ['NAME', 'STATE', 'IMAGE', 'VOLUMES', 'NETWORKS', 'ID']);
    const row = rows.find((x) => x[0] === names.created)!;
    expect(row.slice(0, 5)).toEqual([
      names.created,
      'created',
      BUSYBOX_IMAGE,
      expect.stringContaining(names.empty),
      names.net,
    ]);
    expect(rows.find((x) => x[0] === names.running)?.[1]).toBe('running');
  });
});

describe('list-volumes', () => {
  it('--json: driver, mountpoint, size and the containers that use each', async () => {
    const { volumes } = await json<{ volumes: VolumeInfo[] }>('list-volumes');
    const data = volumes.find((v) => v.name === names.data)!;
    expect(data).toMatchObject({
      driver: 'local',
      labels: { role: 'data' },
      usedBy: [names.created, names.running].sort(),
    });
    expect(data.mountpoint).toMatch(new RegExp(`/volumes/${names.data}/_data$`));
    expect(data.size).toBeGreaterThanOrEqual(3 * MiB);
    expect(data.size).toBeLessThan(4 * MiB);
    expect(volumes.find((v) => v.name === names.empty)).toMatchObject({ usedBy: [names.created], size: 0 });
  });

  it('text: sizes in human units; --no-size skips them', async () => {
    const r = await cli('list-volumes');
    const row = expectAligned(r.stdout, ['NAME', 'DRIVER', 'SIZE', 'USED BY', 'MOUNTPOINT'], ['SIZE']).find(
      (x) => x[0] === names.data,
    )!;
    expect(row[2]).toBe('3.0 MB');
    expect(row[3]).toBe([names.created, names.running].sort().join(','));
    const { volumes } = await json<{ volumes: VolumeInfo[] }>('list-volumes', '--no-size');
    expect(volumes.find((v) => v.name === names.data)?.size).toBeUndefined();
  });
});

describe('list-networks', () => {
  it('--json: driver, subnet, internal and the containers attached (created ones too)', async () => {
    const { networks } = await json<{ networks: NetworkInfo[] }>('list-networks');
    const net = networks.find((n) => n.name === names.net)!;
    expect(net).toMatchObject({
      driver: 'bridge',
      internal: true,
      subnets: [`10.213.${process.pid % 250}.0/24`],
      containers: [names.created],
      builtin: false,
    });
    expect(networks.find((n) => n.name === 'none')).toMatchObject({ builtin: true });
  });

  it('text: an aligned table', async () => {
    const r = await cli('list-networks');
    const row = expectAligned(r.stdout, ['NAME', 'DRIVER', 'SUBNET', 'INTERNAL', 'CONTAINERS']).find(
      (x) => x[0] === names.net,
    )!;
    expect(row).toEqual([names.net, 'bridge', `10.213.${process.pid % 250}.0/24`, 'yes', names.created]);
  });
});

describe('list-backup-sets', () => {
  it('resolves members against the engine and flags the missing ones (exit 1, a warning each)', async () => {
    const r = await cli('--json', 'list-backup-sets');
    expect(r.exitCode).toBe(1);
    const { backup_sets } = JSON.parse(r.stdout) as { backup_sets: ResolvedBackupSet[] };
    expect(backup_sets).toEqual([
      {
        name: 'broken',
        members: [
          { kind: 'container', name: names.created, missing: false },
          { kind: 'container', name: names.missing, missing: true },
          { kind: 'volume', name: names.missing, missing: true },
        ],
        missing: 2,
      },
      {
        name: 'complete',
        description: 'all there',
        members: [
          { kind: 'container', name: names.running, missing: false },
          { kind: 'volume', name: names.empty, missing: false },
          { kind: 'network', name: names.net, missing: false },
        ],
        missing: 0,
      },
    ]);
    expect(r.stderr.split('\n')).toEqual([
      `bbackup: warning: backup set broken: container ${names.missing} does not exist`,
      `bbackup: warning: backup set broken: volume ${names.missing} does not exist`,
    ]);
  });

  it('text: missing members are marked', async () => {
    const r = await cli('list-backup-sets');
    expect(r.exitCode).toBe(1);
    const rows = expectAligned(r.stdout, ['SET', 'MEMBERS', 'DESCRIPTION']);
    expect(rows[0]).toEqual([
      'broken',
      `container:${names.created} container:${names.missing}(missing) volume:${names.missing}(missing)`,
    ]);
    expect(rows[1]?.[0]).toBe('complete');
  });
});
