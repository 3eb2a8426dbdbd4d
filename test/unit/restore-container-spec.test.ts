// Container create options from a saved inspect: image defaults are not pinned, renames reach every
// reference, daemon-added noise is dropped, static addresses follow the network rules.
import { describe, expect, it } from 'vitest';
import {
  buildContainerSpec,
  listDiff,
  mapDiff,
  renameBind,
  type SpecContext,
} from '../../src/restore/container-spec.js';
import type { ContainerConfig, ContainerInspect } from '../../src/restore/inspect-types.js';
import { emptyRenames, parseRenames, renameLookup } from '../../src/restore/renames.js';

const ID = 'abcdef0123456789'.repeat(4);
const IMAGE: ContainerConfig = {
  Env: ['PATH=/usr/bin:/bin'],
  Cmd: ['/bin/sh'],
  Entrypoint: null,
  WorkingDir: '',
  User: '',
  Labels: { 'org.image': 'busybox' },
  ExposedPorts: { '80/tcp': {} },
  Volumes: { '/image-vol': {} },
  StopSignal: 'SIGTERM',
};

function inspect(
  over: {
    Config?: Partial<ContainerConfig>;
    HostConfig?: ContainerInspect['HostConfig'];
    Networks?: NonNullable<ContainerInspect['NetworkSettings']>['Networks'];
    Mounts?: ContainerInspect['Mounts'];
  } = {},
): ContainerInspect {
  return {
    Id: ID,
    Name: '/web',
    Image: 'sha256:feed',
    Config: { ...IMAGE, Hostname: ID.slice(0, 12), Image: 'busybox:1', Labels: { ...IMAGE.Labels }, ...over.Config },
    HostConfig: { NetworkMode: 'none', MaskedPaths: ['/proc/kcore'], ReadonlyPaths: ['/proc/sys'], ...over.HostConfig },
    NetworkSettings: { Networks: over.Networks ?? {} },
    Mounts: over.Mounts ?? [],
  };
}

const ctx = (over: Partial<SpecContext> = {}): SpecContext => ({
  target: 'web2',
  rename: renameLookup(emptyRenames()),
  image: IMAGE,
  imageRef: 'busybox:1',
  restoredVolumes: new Set(),
  dropStaticIp: new Map(),
  idToName: new Map(),
  ...over,
});

describe('image defaults are not pinned', () => {
  it('a container that only uses its image defaults passes none of them', () => {
    const { create } = buildContainerSpec(inspect(), ctx());
    for (const key of [
      'Env',
      'Cmd',
      'Entrypoint',
      'WorkingDir',
      'User',
      'Labels',
      'ExposedPorts',
      'Volumes',
      'StopSignal',
      'Hostname',
      'Healthcheck',
    ])
      expect(create).not.toHaveProperty(key);
    expect(create).toMatchObject({ name: 'web2', Image: 'busybox:1' });
  });

  it('only what the user set on top of the image is passed', () => {
    const { create } = buildContainerSpec(
      inspect({
        Config: {
          Env: ['PATH=/usr/bin:/bin', 'MODE=prod'],
          Labels: { 'org.image': 'busybox', role: 'web' },
          ExposedPorts: { '80/tcp': {}, '9090/tcp': {} },
          WorkingDir: '/srv',
          User: '1000',
          StopSignal: 'SIGINT',
          Hostname: 'web-host',
          Volumes: { '/image-vol': {}, '/cache': {} },
        },
      }),
      ctx(),
    );
    expect(create).toMatchObject({
      Env: ['MODE=prod'],
      Labels: { role: 'web' },
      ExposedPorts: { '9090/tcp': {} },
      WorkingDir: '/srv',
      User: '1000',
      StopSignal: 'SIGINT',
      Hostname: 'web-host',
      Volumes: { '/cache': {} },
    });
  });

  it('an overridden image label value is passed', () => {
    expect(buildContainerSpec(inspect({ Config: { Labels: { 'org.image': 'mine' } } }), ctx()).create.Labels).toEqual({
      'org.image': 'mine',
    });
  });

  it.each([
    { name: 'same cmd and entrypoint: neither', cfg: {}, want: {} },
    { name: 'own cmd only', cfg: { Cmd: ['sleep', '1'] }, want: { Cmd: ['sleep', '1'] } },
    {
      name: 'own entrypoint: cmd travels with it',
      cfg: { Entrypoint: ['/init'], Cmd: ['/bin/sh'] },
      want: { Entrypoint: ['/init'], Cmd: ['/bin/sh'] },
    },
    {
      name: 'own entrypoint, no cmd',
      cfg: { Entrypoint: ['/init'], Cmd: null },
      want: { Entrypoint: ['/init'], Cmd: [] },
    },
  ])('$name', ({ cfg, want }) => {
    const { create } = buildContainerSpec(inspect({ Config: cfg }), ctx());
    expect({ Entrypoint: create.Entrypoint, Cmd: create.Cmd }).toEqual({
      Entrypoint: undefined,
      Cmd: undefined,
      ...want,
    });
  });

  it('without image data (image gone) everything recorded is passed', () => {
    const { create } = buildContainerSpec(inspect(), ctx({ image: undefined }));
    expect(create).toMatchObject({ Env: ['PATH=/usr/bin:/bin'], Cmd: ['/bin/sh'] });
  });
});

describe('host config and renames', () => {
  const renames = renameLookup(parseRenames(['data:data2', 'db:db2', 'net1:net9']));
  it('renames volumes in binds and mounts, containers in volumes-from, links and container: modes', () => {
    const { create } = buildContainerSpec(
      inspect({
        HostConfig: {
          NetworkMode: 'net1',
          Binds: ['data:/data:ro', '/srv/host:/host:rw', 'other:/o'],
          Mounts: [
            { Type: 'volume', Source: 'data', Target: '/m' },
            { Type: 'tmpfs', Target: '/t' },
          ],
          VolumesFrom: ['db:ro'],
          Links: ['/db:/web/database'],
          PidMode: `container:${'f'.repeat(64)}`,
          RestartPolicy: { Name: 'always', MaximumRetryCount: 0 },
          MaskedPaths: ['/proc/kcore'],
          ReadonlyPaths: ['/proc/sys'],
        },
      }),
      ctx({ rename: renames, idToName: new Map([['f'.repeat(64), 'db']]) }),
    );
    expect(create.HostConfig).toMatchObject({
      NetworkMode: 'net9',
      Binds: ['data2:/data:ro', '/srv/host:/host:rw', 'other:/o'],
      Mounts: [
        { Type: 'volume', Source: 'data2', Target: '/m' },
        { Type: 'tmpfs', Target: '/t' },
      ],
      VolumesFrom: ['db2:ro'],
      Links: ['db2:database'],
      PidMode: 'container:db2',
      RestartPolicy: { Name: 'always', MaximumRetryCount: 0 },
    });
    // the daemon's default masked/read-only path lists are not pinned; an explicit empty list (unconfined) is
    expect(create.HostConfig).not.toHaveProperty('MaskedPaths');
    expect(
      buildContainerSpec(inspect({ HostConfig: { MaskedPaths: [], ReadonlyPaths: [] } }), ctx()).create.HostConfig,
    ).toMatchObject({ MaskedPaths: [], ReadonlyPaths: [] });
  });

  it('an anonymous volume the backup holds is mounted by (new) name', () => {
    const anon = 'a'.repeat(64);
    const { create, notes } = buildContainerSpec(
      inspect({ Mounts: [{ Type: 'volume', Name: anon, Source: '/x', Destination: '/cache', RW: true }] }),
      ctx({ restoredVolumes: new Set([anon]), rename: renameLookup(parseRenames([`${anon}:cache2`])) }),
    );
    expect(create.HostConfig.Binds).toEqual(['cache2:/cache']);
    expect(notes[0]).toContain('mounted by name');
  });

  it.each([
    { a: 'vol:/d', want: 'v2:/d' },
    { a: '/host:/d:ro', want: '/host:/d:ro' },
    { a: 'vol:/d:ro,z', want: 'v2:/d:ro,z' },
  ])('renameBind $a', ({ a, want }) => expect(renameBind(a, (n) => (n === 'vol' ? 'v2' : n))).toBe(want));
});

describe('networks', () => {
  const networks = {
    front: { Aliases: ['web', ID.slice(0, 12)], IPAMConfig: { IPv4Address: '10.1.0.10' }, NetworkID: 'x' },
    back: { Aliases: ['web-b'], IPAMConfig: null, NetworkID: 'y' },
  };
  it('the primary network goes into create, the others are joined after; the short-id alias is dropped', () => {
    const spec = buildContainerSpec(inspect({ HostConfig: { NetworkMode: 'front' }, Networks: networks }), ctx());
    expect(spec.create.NetworkingConfig).toEqual({
      EndpointsConfig: { front: { Aliases: ['web'], IPAMConfig: { IPv4Address: '10.1.0.10' } } },
    });
    expect(spec.connect).toEqual([{ network: 'back', config: { Aliases: ['web-b'] } }]);
  });

  it('a static address is dropped (with a note) when the plan says so', () => {
    const spec = buildContainerSpec(
      inspect({ HostConfig: { NetworkMode: 'front' }, Networks: networks }),
      ctx({
        dropStaticIp: new Map([['front', 'network renamed to front2']]),
        rename: renameLookup(parseRenames(['front:front2'])),
      }),
    );
    expect(spec.create.NetworkingConfig).toEqual({ EndpointsConfig: { front2: { Aliases: ['web'] } } });
    expect(spec.create.HostConfig.NetworkMode).toBe('front2');
    expect(spec.notes).toEqual(['static address 10.1.0.10 on network front dropped: network renamed to front2']);
  });
});

describe('diff helpers', () => {
  it('listDiff keeps entries the image lacks', () => expect(listDiff(['A=1', 'B=2'], ['A=1'])).toEqual(['B=2']));
  it('mapDiff is undefined when nothing differs', () => expect(mapDiff({ a: '1' }, { a: '1' })).toBeUndefined());
});
