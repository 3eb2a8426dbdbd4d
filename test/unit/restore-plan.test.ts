// buildPlan: selection, dependencies, conflicts, --force, renames, subnets and images, as tables.
import { describe, expect, it } from 'vitest';
import { buildPlan, type EngineSnapshot, type PlanInput } from '../../src/restore/plan-build.js';
import { checkRenames, emptyRenames, parseRenames } from '../../src/restore/renames.js';
import type { ContainerInspect, NetworkInspect } from '../../src/restore/inspect-types.js';
import type { Manifest } from '../../src/store/manifest.js';

const manifest: Manifest = {
  format: 1,
  id: '20261125T200000Z',
  host: 'h',
  created: '',
  finished: '',
  tool: { name: 'bbackup', version: 't' },
  status: 'complete',
  scope: { containers: true, volumes: true, networks: true },
  compression: { method: 'zstd', level: 3 },
  encrypted: false,
  errors: [],
  items: [
    { kind: 'container', name: 'web', id: 'w'.repeat(64), image: 'nginx:1', state: 'running', files: [] },
    { kind: 'container', name: 'cron', id: 'c'.repeat(64), image: 'busybox:1', state: 'exited', files: [] },
    {
      kind: 'volume',
      name: 'data',
      driver: 'local',
      labels: {},
      options: {},
      usedBy: ['web'],
      format: 'tree',
      bytes: 100,
      fileCount: 2,
      files: [],
    },
    {
      kind: 'volume',
      name: 'logs',
      driver: 'local',
      labels: {},
      options: {},
      usedBy: [],
      format: 'archive',
      compression: 'zstd',
      bytes: 50,
      fileCount: 1,
      files: [],
    },
    { kind: 'network', name: 'front', id: 'n1', driver: 'bridge', files: [] },
  ],
};

const web: ContainerInspect = {
  Id: 'w'.repeat(64),
  Name: '/web',
  Image: 'sha256:1',
  Config: { Image: 'nginx:1' },
  HostConfig: { NetworkMode: 'front', Binds: ['data:/data'] },
  NetworkSettings: { Networks: { front: { IPAMConfig: { IPv4Address: '10.9.0.5' } } } },
  Mounts: [{ Type: 'volume', Name: 'data', Source: '/v', Destination: '/data', RW: true }],
};
const cron: ContainerInspect = {
  Id: 'c'.repeat(64),
  Name: '/cron',
  Image: 'sha256:2',
  Config: { Image: 'busybox:1' },
  HostConfig: { NetworkMode: 'none' },
};
const front: NetworkInspect = {
  Name: 'front',
  Id: 'n1',
  Driver: 'bridge',
  IPAM: { Driver: 'default', Config: [{ Subnet: '10.9.0.0/24' }] },
};

const emptyEngine = (): EngineSnapshot => ({ containers: new Map(), volumes: new Map(), networks: new Map() });

function plan(
  o: {
    req?: Partial<PlanInput['request']>;
    renames?: string[];
    engine?: Partial<EngineSnapshot>;
    images?: Record<string, 'present' | 'id' | 'missing'>;
  } = {},
) {
  return buildPlan({
    backupDir: '/b',
    manifest,
    request: { containers: [], volumes: [], networks: [], all: false, force: false, start: true, ...o.req },
    renames: checkRenames(o.renames ? parseRenames(o.renames) : emptyRenames(), manifest),
    inspects: new Map([
      ['web', web],
      ['cron', cron],
    ]),
    networks: new Map([['front', front]]),
    engine: { ...emptyEngine(), ...o.engine },
    images: new Map(Object.entries(o.images ?? { web: 'present', cron: 'present' })),
  });
}
const summary = (p: ReturnType<typeof plan>) =>
  p.items.map((i) => `${i.action} ${i.kind} ${i.target}${i.why === 'dependency' ? ' (dep)' : ''}`);

describe('selection and order', () => {
  it('a container brings its volumes and networks, in the order networks, volumes, containers', () => {
    expect(summary(plan({ req: { containers: ['web'] } }))).toEqual([
      'create network front (dep)',
      'create volume data (dep)',
      'create container web',
    ]);
  });
  it('--all restores everything the backup holds; running containers are started, others not', () => {
    const p = plan({ req: { all: true } });
    expect(summary(p)).toEqual([
      'create network front',
      'create volume data',
      'create volume logs',
      'create container web',
      'create container cron',
    ]);
    expect(p.items.filter((i) => i.container).map((i) => [i.target, i.container!.start])).toEqual([
      ['web', true],
      ['cron', false],
    ]);
    expect(plan({ req: { all: true, start: false } }).items.find((i) => i.target === 'web')!.container!.start).toBe(
      false,
    );
  });
  it.each([
    { req: {}, error: /nothing to restore/ },
    { req: { volumes: ['nope'] }, error: /holds no volume named nope; it holds data, logs/ },
  ])('refuses $req', ({ req, error }) => expect(() => plan({ req })).toThrow(error));
  it('a rename of something not in the backup is refused', () =>
    expect(() => plan({ req: { all: true }, renames: ['typo:x'] })).toThrow(
      /holds no container, volume or network named typo/,
    ));
  it('two objects renamed onto one name are refused', () =>
    expect(() => plan({ req: { all: true }, renames: ['volume:data:logs'] })).toThrow(
      /volumes data and logs would both be restored as logs/,
    ));
});

describe('conflicts and --force', () => {
  const engine: Partial<EngineSnapshot> = {
    containers: new Map([['web', { state: 'running' }]]),
    volumes: new Map([
      ['data', { usedBy: ['web'] }],
      ['logs', { usedBy: ['other'] }],
    ]),
    networks: new Map([['front', { containers: ['web'], subnets: ['10.9.0.0/24'] }]]),
  };
  it('without --force an existing named object is a conflict; existing dependencies are reused', () => {
    const p = plan({ req: { containers: ['web'] }, engine });
    expect(summary(p)).toEqual(['reuse network front (dep)', 'reuse volume data (dep)', 'conflict container web']);
    expect(p.conflicts.map((c) => c.message)).toEqual([
      'container web already exists (use --force to replace it, or --rename web:NEW to restore beside it)',
    ]);
  });
  it('--force replaces only what was named', () => {
    const p = plan({ req: { containers: ['web'], force: true }, engine });
    expect(summary(p)).toEqual(['reuse network front (dep)', 'reuse volume data (dep)', 'replace container web']);
    expect(p.conflicts).toEqual([]);
  });
  it('a volume in use by a container that stays cannot be replaced, even with --force', () => {
    const p = plan({ req: { volumes: ['logs'], force: true }, engine });
    expect(p.conflicts.map((c) => c.message)).toEqual([
      'volume logs cannot be replaced: it is used by containers other (remove them or restore under another name with --rename)',
    ]);
  });
  it('a volume whose only user is replaced too can be replaced', () => {
    expect(plan({ req: { containers: ['web'], volumes: ['data'], force: true }, engine }).conflicts).toEqual([]);
  });
  it('a rename restores beside the existing objects', () => {
    const p = plan({
      req: { containers: ['web'], volumes: ['data'], networks: ['front'] },
      engine,
      renames: ['web:web2', 'data:data2', 'front:front2'],
    });
    expect(summary(p)).toEqual(['create network front2', 'create volume data2', 'create container web2']);
    const net = p.items[0]!;
    expect(net.network).toEqual({
      fixedSubnet: false,
      dropStaticIp: "the network's subnet could not be kept (10.9.0.0/24 overlaps 10.9.0.0/24 of network front)",
    });
    expect(net.notes[0]).toMatch(
      /^subnet not fixed: 10\.9\.0\.0\/24 overlaps .* of network front; the engine picks a free one$/,
    );
  });
  it('a renamed network whose subnet is free keeps it, but not its static addresses', () => {
    const p = plan({ req: { networks: ['front'] }, renames: ['front:front2'] });
    expect(p.items[0]!.network).toEqual({ fixedSubnet: true, dropStaticIp: 'network renamed to front2' });
  });
});

describe('images', () => {
  it('a missing image is reported with the command that fetches it', () => {
    const p = plan({ req: { containers: ['web'] }, images: { web: 'missing' } });
    expect(p.missingImages.map((m) => m.message)).toEqual([
      'container web needs image nginx:1, which is not on the engine: run `docker pull nginx:1` (or `docker load -i FILE` for an image built locally), then restore again',
    ]);
  });
  it('when only the image id is left the container is created from it, with a note', () => {
    const item = plan({ req: { containers: ['web'] }, images: { web: 'id' } }).items.at(-1)!;
    expect(item.container!.imageRef).toBe('sha256:1');
    expect(item.notes[0]).toContain('image tag nginx:1 is gone');
  });
});
