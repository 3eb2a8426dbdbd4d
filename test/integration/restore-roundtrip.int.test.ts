// Round trip against the real engine: a container with a rich definition, its volume full of every
// kind of entry, and two user networks are saved to a backup folder (fixture written to the
// contract), then restored under new names. The restored container must inspect equal in every
// user-set field, and the renamed volume must be byte- and metadata-identical.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRestore } from '../../src/restore/restore-job.js';
import { parseRenames } from '../../src/restore/renames.js';
import type { EngineEvent } from '../../src/events.js';
import { createTestContainer, createTestNetwork, createTestVolume, testDocker, testLabels } from '../helpers/docker.js';
import { makeFixtureBackup } from '../helpers/fixture-backup.js';
import { cleanupAfter, request } from '../helpers/restore.js';
import { testName } from '../helpers/names.js';
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

async function richContainer(subnetOctet: number) {
  const netA = await createTestNetwork(docker, 'rs', {
    IPAM: { Driver: 'default', Config: [{ Subnet: `10.231.${subnetOctet}.0/24` }] },
  });
  const netB = await createTestNetwork(docker, 'rs');
  const vol = await createTestVolume(docker, 'rs', { labels: { 'app.tier': 'db' } });
  await fillRichTree(await mountpointOf(docker, vol));
  const name = await createTestContainer(
    docker,
    'rs',
    {
      Entrypoint: ['/bin/sh', '-c'],
      Cmd: ['exec sleep 1000'],
      Env: ['APP_MODE=production', 'EMPTY=', 'WITH_EQUALS=a=b'],
      Labels: { 'com.example.role': 'web', 'com.example.empty': '' },
      WorkingDir: '/data',
      User: '1234:5678',
      Hostname: 'web-host',
      Domainname: 'example.test',
      ExposedPorts: { '8080/tcp': {}, '53/udp': {} },
      Healthcheck: {
        Test: ['CMD-SHELL', 'test -f /data/etc/app.conf'],
        Interval: 30e9,
        Timeout: 5e9,
        Retries: 3,
        StartPeriod: 1e9,
      },
      StopSignal: 'SIGUSR1',
      StopTimeout: 42,
      Tty: true,
      OpenStdin: true,
      HostConfig: {
        NetworkMode: netA,
        Binds: [`${vol}:/data:ro`, `${tmp}:/hostdir:rw`],
        Mounts: [{ Type: 'tmpfs', Target: '/scratch', TmpfsOptions: { SizeBytes: 16 * 1024 * 1024, Mode: 0o1777 } }],
        Tmpfs: { '/run/app': 'rw,noexec,size=1m' },
        PortBindings: { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '18080' }] },
        RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 3 },
        Memory: 64 * 1024 * 1024,
        MemoryReservation: 32 * 1024 * 1024,
        CpuShares: 512,
        NanoCpus: 500_000_000,
        PidsLimit: 100,
        Ulimits: [{ Name: 'nofile', Soft: 1024, Hard: 2048 }],
        CapAdd: ['NET_ADMIN', 'SYS_TIME'],
        CapDrop: ['MKNOD'],
        Devices: [{ PathOnHost: '/dev/null', PathInContainer: '/dev/app-null', CgroupPermissions: 'rwm' }],
        SecurityOpt: ['no-new-privileges:true'],
        LogConfig: { Type: 'json-file', Config: { 'max-size': '1m', 'max-file': '2' } },
        ExtraHosts: ['db.internal:10.0.0.5'],
        Dns: ['10.0.0.53'],
        DnsSearch: ['example.test'],
        DnsOptions: ['ndots:2'],
        ShmSize: 8 * 1024 * 1024,
        Init: true,
        ReadonlyRootfs: true,
        Sysctls: { 'net.ipv4.ip_unprivileged_port_start': '0' },
        GroupAdd: ['100'],
        OomScoreAdj: 100,
      } as unknown as Docker.HostConfig,
      NetworkingConfig: {
        EndpointsConfig: {
          [netA]: { Aliases: ['web', 'www'], IPAMConfig: { IPv4Address: `10.231.${subnetOctet}.10` } },
        },
      },
    },
    false,
  );
  await docker.getNetwork(netB).connect({ Container: name, EndpointConfig: { Aliases: ['web-b'] } });
  return { name, vol, netA, netB };
}

/** The user-set part of a container's inspect, with the renames the restore applied undone. */
function userFields(i: Docker.ContainerInspectInfo, undo: (s: string) => string) {
  const c = i.Config as Docker.ContainerInspectInfo['Config'] & Record<string, unknown>;
  const h = i.HostConfig as Record<string, unknown>;
  const pick = (o: Record<string, unknown>, keys: string[]) => Object.fromEntries(keys.map((k) => [k, o[k]]));
  const networks = Object.fromEntries(
    Object.entries(i.NetworkSettings.Networks).map(([n, ep]) => [
      n,
      {
        aliases: (ep.Aliases ?? []).filter((a: string) => a !== i.Id.slice(0, 12)).sort(),
        ipam: ep.IPAMConfig ?? null,
      },
    ]),
  );
  return {
    config: pick(c, [
      'Image',
      'Env',
      'Cmd',
      'Entrypoint',
      'WorkingDir',
      'User',
      'Hostname',
      'Domainname',
      'Labels',
      'ExposedPorts',
      'Healthcheck',
      'StopSignal',
      'StopTimeout',
      'Tty',
      'OpenStdin',
      'Volumes',
    ]),
    host: {
      ...pick(h, [
        'NetworkMode',
        'Mounts',
        'Tmpfs',
        'PortBindings',
        'RestartPolicy',
        'Memory',
        'MemoryReservation',
        'CpuShares',
        'NanoCpus',
        'PidsLimit',
        'Ulimits',
        'CapAdd',
        'CapDrop',
        'Devices',
        'Privileged',
        'SecurityOpt',
        'LogConfig',
        'ExtraHosts',
        'Dns',
        'DnsSearch',
        'DnsOptions',
        'ShmSize',
        'Init',
        'ReadonlyRootfs',
        'Sysctls',
        'GroupAdd',
        'OomScoreAdj',
        'MaskedPaths',
        'ReadonlyPaths',
      ]),
      Binds: (h.Binds as string[]).map(undo),
    },
    networks,
  };
}

describe('restore round trip', () => {
  it.each(['tree', 'archive'] as const)(
    'a rich container and its volume come back under new names, equal in every user-set field (%s format)',
    async (format) => {
      const src = await richContainer(format === 'tree' ? 61 : 62);
      const dir = join(tmp, `20261125T2000${format === 'tree' ? '01' : '02'}Z`);
      await makeFixtureBackup(docker, {
        dir,
        containers: [src.name],
        volumes: [src.vol],
        networks: [src.netA, src.netB],
        format,
      });
      const c2 = testName('rs');
      const v2 = testName('rs');
      cleanupAfter(docker, { containers: [c2], volumes: [v2] });

      const events: EngineEvent[] = [];
      // Its capabilities and device are privileges: allowed here (--allow-privileged).
      const job = startRestore(
        request(dir, {
          containers: [src.name],
          renames: parseRenames([`${src.name}:${c2}`, `${src.vol}:${v2}`]),
          allowPrivileged: true,
        }),
        {
          docker,
          localEngine: true,
          emit: (e) => events.push(e),
          helperLabels: testLabels(),
        },
      );
      const result = await job.done;
      expect(result.errors).toEqual([]);
      expect(result.outcome).toBe('ok');
      expect(result.value!.restored.map((r) => `${r.kind} ${r.target}`)).toEqual([
        `network ${src.netA}`,
        `network ${src.netB}`,
        `volume ${v2}`,
        `container ${c2}`,
      ]);
      expect(events.filter((e) => e.type === 'item.done').map((e) => (e as { item: string }).item)).toContain(
        `volume ${v2}`,
      );

      const original = await docker.getContainer(src.name).inspect();
      const restored = await docker.getContainer(c2).inspect();
      expect(restored.State.Status).toBe('created');
      const undo = (b: string) => b.replace(`${v2}:`, `${src.vol}:`);
      expect(userFields(restored, undo)).toEqual(userFields(original, (b) => b));
      expect(Object.keys(restored.NetworkSettings.Networks).sort()).toEqual([src.netA, src.netB].sort());

      const before = await describeTree(await mountpointOf(docker, src.vol));
      const after = await describeTree(await mountpointOf(docker, v2));
      expect(after).toEqual(before);
      expect(Object.keys(after).length).toBeGreaterThan(15);
      expect(after['data.bin']!.xattrs).toContain('trusted.secret');
      expect(after['sparse.img']!.blocks).toBeLessThan(64);
      const volume = (await docker.getVolume(v2).inspect()) as { Labels: Record<string, string> };
      expect(volume.Labels['app.tier']).toBe('db');
    },
  );

  it('privileged, unconfined paths, a volume mounted through the Mounts API and an anonymous volume', async () => {
    // Created only: this engine cannot start a privileged container (no capabilities to hand out here).
    const vol = await createTestVolume(docker, 'rs');
    await fillRichTree(await mountpointOf(docker, vol));
    const name = await createTestContainer(
      docker,
      'rs',
      {
        Volumes: { '/cache': {} },
        HostConfig: {
          Privileged: true,
          SecurityOpt: ['seccomp=unconfined', 'label=disable'],
          MaskedPaths: [],
          ReadonlyPaths: [],
          Mounts: [{ Type: 'volume', Source: vol, Target: '/data', ReadOnly: true, VolumeOptions: { NoCopy: true } }],
          RestartPolicy: { Name: 'unless-stopped', MaximumRetryCount: 0 },
        } as unknown as Docker.HostConfig,
      },
      false,
    );
    const anon = (await docker.getContainer(name).inspect()).Mounts.find((m) => m.Destination === '/cache')!.Name!;
    cleanupAfter(docker, { volumes: [anon] });
    const dir = join(tmp, '20261125T200003Z');
    await makeFixtureBackup(docker, { dir, containers: [name], volumes: [vol, anon] });
    const [c2, v2, a2] = [testName('rs'), testName('rs'), testName('rs')];
    cleanupAfter(docker, { containers: [c2], volumes: [v2, a2] });
    const result = await startRestore(
      request(dir, {
        containers: [name],
        renames: parseRenames([`${name}:${c2}`, `${vol}:${v2}`, `${anon}:${a2}`]),
        allowPrivileged: true,
      }),
      { docker, localEngine: true, helperLabels: testLabels() },
    ).done;
    expect(result.errors).toEqual([]);
    expect(result.value!.plan.items.find((i) => i.kind === 'container')!.privileges).toEqual([
      'privileged mode (every capability and every host device)',
      'seccomp=unconfined (no system call filter)',
      'label=disable (SELinux separation off)',
      'systempaths=unconfined (/proc and /sys not masked)',
    ]);
    const original = await docker.getContainer(name).inspect();
    const restored = await docker.getContainer(c2).inspect();
    expect(restored.State.Status).toBe('created');
    for (const key of ['Privileged', 'SecurityOpt', 'MaskedPaths', 'ReadonlyPaths', 'RestartPolicy'] as const) {
      expect((restored.HostConfig as Record<string, unknown>)[key], key).toEqual(
        (original.HostConfig as Record<string, unknown>)[key],
      );
    }
    expect(restored.HostConfig.Mounts).toEqual([
      { Type: 'volume', Source: v2, Target: '/data', ReadOnly: true, VolumeOptions: { NoCopy: true } },
    ]);
    expect(restored.Mounts.find((m) => m.Destination === '/cache')!.Name).toBe(a2);
    expect(await describeTree(await mountpointOf(docker, v2))).toEqual(
      await describeTree(await mountpointOf(docker, vol)),
    );
  });
});
