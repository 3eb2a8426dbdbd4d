// --all after the originals are gone, the worker and stream ways of filling a volume, and a renamed
// network whose subnet is taken, against the real engine.
import { mkdtemp, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineEvent } from '../../src/events.js';
import { parseRenames } from '../../src/restore/renames.js';
import { startRestore } from '../../src/restore/restore-job.js';
import { createTestContainer, createTestNetwork, createTestVolume, testDocker, testLabels } from '../helpers/docker.js';
import { makeFixtureBackup } from '../helpers/fixture-backup.js';
import { testName } from '../helpers/names.js';
import { cleanupAfter, request } from '../helpers/restore.js';
import { describeTree, fillRichTree, mountpointOf } from '../helpers/volume-data.js';

let tmp: string;
let docker: Docker;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'bbt-rs-'));
  docker = testDocker();
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const deps = (extra: object = {}) => ({ docker, localEngine: true, helperLabels: testLabels(), ...extra });

describe('--all', () => {
  it('brings back every network, volume and container of a backup; the running one runs again', async () => {
    const net = await createTestNetwork(docker, 'rs', {
      IPAM: { Driver: 'default', Config: [{ Subnet: '10.232.7.0/24', Gateway: '10.232.7.1' }] },
    });
    const v1 = await createTestVolume(docker, 'rs');
    const v2 = await createTestVolume(docker, 'rs');
    await fillRichTree(await mountpointOf(docker, v1));
    await fillRichTree(await mountpointOf(docker, v2));
    const runner = await createTestContainer(docker, 'rs', { HostConfig: { Binds: [`${v1}:/data`] } });
    const parked = await createTestContainer(
      docker,
      'rs',
      {
        HostConfig: { NetworkMode: net, Binds: [`${v2}:/srv`] },
        NetworkingConfig: {
          EndpointsConfig: { [net]: { Aliases: ['parked'], IPAMConfig: { IPv4Address: '10.232.7.20' } } },
        },
      },
      false,
    );
    const trees = {
      [v1]: await describeTree(await mountpointOf(docker, v1)),
      [v2]: await describeTree(await mountpointOf(docker, v2)),
    };
    const dir = join(tmp, '20261125T210000Z');
    await makeFixtureBackup(docker, {
      dir,
      containers: [runner, parked],
      volumes: [v1, v2],
      networks: [net],
      format: 'archive',
      compression: 'zstd',
    });
    // The disaster: everything is gone.
    for (const c of [runner, parked]) await docker.getContainer(c).remove({ force: true });
    for (const v of [v1, v2]) await docker.getVolume(v).remove();
    await docker.getNetwork(net).remove();
    cleanupAfter(docker, { containers: [runner, parked], volumes: [v1, v2], networks: [net] });

    const events: EngineEvent[] = [];
    const result = await startRestore(request(dir, { all: true }), deps({ emit: (e: EngineEvent) => events.push(e) }))
      .done;
    expect(result.errors).toEqual([]);
    expect(result.outcome).toBe('ok');
    expect(result.value!.restored.map((r) => `${r.kind} ${r.target}`)).toEqual([
      `network ${net}`,
      `volume ${v1}`,
      `volume ${v2}`,
      `container ${runner}`,
      `container ${parked}`,
    ]);
    expect((await docker.getContainer(runner).inspect()).State.Running).toBe(true);
    const p = await docker.getContainer(parked).inspect();
    expect(p.State.Status).toBe('created');
    expect(p.NetworkSettings.Networks[net]!.IPAMConfig).toEqual({ IPv4Address: '10.232.7.20' });
    expect(p.NetworkSettings.Networks[net]!.Aliases).toContain('parked');
    const n = (await docker.getNetwork(net).inspect()) as {
      IPAM: { Config: { Subnet: string; Gateway: string }[] };
      Internal: boolean;
    };
    expect(n.IPAM.Config).toEqual([{ Subnet: '10.232.7.0/24', Gateway: '10.232.7.1' }]);
    expect(n.Internal).toBe(true);
    for (const v of [v1, v2]) expect(await describeTree(await mountpointOf(docker, v))).toEqual(trees[v]);
    // the same events a backup emits, in order
    const types = events.map((e) => e.type);
    expect(types[0]).toBe('job.start');
    expect(types.at(-1)).toBe('job.end');
    expect(events.filter((e) => e.type === 'item.done')).toHaveLength(6);
  });
});

describe('filling a volume through a helper container', () => {
  it.each([
    { mode: 'worker', format: 'tree' },
    { mode: 'worker', format: 'archive' },
    { mode: 'stream', format: 'tree' },
    { mode: 'stream', format: 'archive' },
  ] as const)('$mode mode, $format format: identical data, no helper left', async ({ mode, format }) => {
    const v = await createTestVolume(docker, 'rs');
    await fillRichTree(await mountpointOf(docker, v));
    const dir = join(tmp, `20261125T2101${mode === 'worker' ? '0' : '1'}${format === 'tree' ? '0' : '1'}Z`);
    await makeFixtureBackup(docker, { dir, volumes: [v], format, compression: 'gzip' });
    const v2 = testName('rs');
    cleanupAfter(docker, { volumes: [v2] });
    const result = await startRestore(
      request(dir, { volumes: [v], renames: parseRenames([`${v}:${v2}`]) }),
      deps({ volumeMode: mode }),
    ).done;
    expect(result.errors).toEqual([]);
    const before = await describeTree(await mountpointOf(docker, v));
    const after = await describeTree(await mountpointOf(docker, v2));
    if (mode === 'worker') {
      // Helpers run with Docker's default capabilities: trusted.* xattrs need CAP_SYS_ADMIN, which
      // they are not given (host mode, the default as root, keeps them). user.* and ACLs are kept.
      const userOnly = (t: typeof before) =>
        Object.fromEntries(
          Object.entries(t).map(([k, e]) => [k, { ...e, xattrs: e.xattrs.replace(/^trusted\..*\n/gm, '') }]),
        );
      expect(userOnly(after)).toEqual(userOnly(before));
      expect(after['etc/app.conf']!.xattrs).toContain('user.origin');
    } else if (mode === 'stream') {
      // The engine's archive API (putArchive) keeps content, owners, modes, nanosecond times, links
      // and every xattr, but writes holes out: sparse files come back fully allocated.
      const dense = (t: typeof before) =>
        Object.fromEntries(Object.entries(t).map(([k, e]) => [k, { ...e, blocks: undefined }]));
      expect(dense(after)).toEqual(dense(before));
      expect(after['sparse.img']!.blocks).toBeGreaterThan(before['sparse.img']!.blocks!);
    } else expect(after).toEqual(before);
    const helpers = await docker.listContainers({
      all: true,
      filters: { label: ['bbackup.helper=1', `bbackup.test=${testLabels()['bbackup.test']}`] },
    });
    expect(helpers).toEqual([]);
  });
});

describe('helper leftovers', () => {
  it("a crashed run's helper (owner pid gone) is removed when helpers are next needed; a live run's is not", async () => {
    const make = (pid: number) =>
      createTestContainer(
        docker,
        'rs',
        { Labels: { 'bbackup.helper': '1', 'bbackup.owner': `${hostname()}:${pid}` } },
        false,
      );
    const dead = await make(2 ** 22 + 12345); // above pid_max: never alive
    const live = await make(process.pid);
    const v = await createTestVolume(docker, 'rs');
    const dir = join(tmp, '20261125T210300Z');
    await makeFixtureBackup(docker, { dir, volumes: [v] });
    const v2 = testName('rs');
    cleanupAfter(docker, { volumes: [v2] });
    const result = await startRestore(
      request(dir, { volumes: [v], renames: parseRenames([`${v}:${v2}`]) }),
      deps({ volumeMode: 'worker' }),
    ).done;
    expect(result.outcome).toBe('ok');
    expect(
      await docker
        .getContainer(dead)
        .inspect()
        .then(
          () => true,
          () => false,
        ),
    ).toBe(false);
    expect(
      await docker
        .getContainer(live)
        .inspect()
        .then(
          () => true,
          () => false,
        ),
    ).toBe(true);
  });
});

describe('renamed network', () => {
  it('whose subnet is taken gets one from the engine, its container joins it without the static address', async () => {
    const net = await createTestNetwork(docker, 'rs', {
      IPAM: { Driver: 'default', Config: [{ Subnet: '10.232.9.0/24' }] },
    });
    const c = await createTestContainer(
      docker,
      'rs',
      {
        HostConfig: { NetworkMode: net },
        NetworkingConfig: {
          EndpointsConfig: { [net]: { Aliases: ['svc'], IPAMConfig: { IPv4Address: '10.232.9.30' } } },
        },
      },
      false,
    );
    const dir = join(tmp, '20261125T210200Z');
    await makeFixtureBackup(docker, { dir, containers: [c], networks: [net] });
    const [net2, c2] = [testName('rs'), testName('rs')];
    cleanupAfter(docker, { containers: [c2], networks: [net2] });
    const events: EngineEvent[] = [];
    const result = await startRestore(
      request(dir, { containers: [c], networks: [net], renames: parseRenames([`${net}:${net2}`, `${c}:${c2}`]) }),
      deps({ emit: (e: EngineEvent) => events.push(e) }),
    ).done;
    expect(result.errors).toEqual([]);
    const plan = result.value!.plan;
    expect(plan.items[0]!.notes[0]).toMatch(
      new RegExp(
        `^subnet not fixed: 10\\.232\\.9\\.0/24 overlaps 10\\.232\\.9\\.0/24 of network ${net}; the engine picks a free one$`,
      ),
    );
    const n2 = (await docker.getNetwork(net2).inspect()) as { IPAM: { Config: { Subnet: string }[] } };
    expect(n2.IPAM.Config[0]!.Subnet).not.toBe('10.232.9.0/24');
    const restored = await docker.getContainer(c2).inspect();
    expect(Object.keys(restored.NetworkSettings.Networks)).toEqual([net2]);
    expect(restored.HostConfig.NetworkMode).toBe(net2);
    expect(restored.NetworkSettings.Networks[net2]!.IPAMConfig ?? null).toBeNull();
    expect(restored.NetworkSettings.Networks[net2]!.Aliases).toContain('svc');
    const logs = events.filter((e) => e.type === 'log').map((e) => (e as { msg: string }).msg);
    expect(logs).toContainEqual(
      `container ${c2}: static address 10.232.9.30 on network ${net} dropped: network renamed to ${net2}`,
    );
  });
});
