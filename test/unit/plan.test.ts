import { describe, expect, it } from 'vitest';
import { planBackup, type PlanEnv } from '../../src/backup/plan.js';
import type { BackupRequest } from '../../src/backup/types.js';
import { parseConfigObject } from '../../src/config/load.js';
import type { Inventory } from '../../src/docker/inventory.js';
import type { CatalogEntry } from '../../src/store/catalog.js';
import type { Manifest, VolumeItem } from '../../src/store/manifest.js';

const inv: Inventory = {
  containers: [
    {
      name: 'web',
      id: 'c1',
      image: 'nginx',
      state: 'running',
      status: 'Up',
      created: '',
      labels: {},
      networks: ['front', 'bridge'],
      mounts: [
        { type: 'volume', source: 'uploads', destination: '/u', readOnly: false },
        { type: 'bind', source: '/etc/x', destination: '/x', readOnly: true },
      ],
    },
    {
      name: 'db',
      id: 'c2',
      image: 'pg',
      state: 'exited',
      status: 'Exited',
      created: '',
      labels: {},
      networks: ['back'],
      mounts: [{ type: 'volume', source: 'pgdata', destination: '/var/lib/pg', readOnly: false }],
    },
  ],
  volumes: [
    { name: 'pgdata', driver: 'local', mountpoint: '/mp/pgdata', size: 1000, labels: {}, usedBy: ['db'] },
    { name: 'uploads', driver: 'local', mountpoint: '/mp/uploads', size: 50, labels: {}, usedBy: ['web'] },
    { name: 'loose', driver: 'local', mountpoint: '/mp/loose', labels: {}, usedBy: [] },
  ],
  networks: [
    {
      name: 'bridge',
      id: 'n0',
      driver: 'bridge',
      scope: 'local',
      internal: false,
      subnets: [],
      labels: {},
      containers: ['web'],
      builtin: true,
    },
    {
      name: 'front',
      id: 'n1',
      driver: 'bridge',
      scope: 'local',
      internal: false,
      subnets: [],
      labels: {},
      containers: ['web'],
      builtin: false,
    },
    {
      name: 'back',
      id: 'n2',
      driver: 'bridge',
      scope: 'local',
      internal: true,
      subnets: [],
      labels: {},
      containers: ['db'],
      builtin: false,
    },
    {
      name: 'spare',
      id: 'n3',
      driver: 'bridge',
      scope: 'local',
      internal: true,
      subnets: [],
      labels: {},
      containers: [],
      builtin: false,
    },
  ],
};

const volumeItem = (name: string, format: 'tree' | 'archive' = 'tree'): VolumeItem => ({
  kind: 'volume',
  name,
  driver: 'local',
  labels: {},
  options: {},
  usedBy: [],
  format,
  bytes: 7,
  fileCount: 1,
  files: [],
});
const backup = (id: string, items: VolumeItem[], errors: Manifest['errors'] = []): CatalogEntry => ({
  id,
  dir: `/s/h/${id}`,
  manifest: {
    format: 1,
    id,
    host: 'h',
    created: '',
    finished: '',
    tool: { name: 'bbackup', version: '0' },
    status: errors.length ? 'partial' : 'complete',
    scope: { containers: true, volumes: true, networks: true },
    compression: { method: 'zstd', level: 3 },
    encrypted: false,
    items,
    errors,
  },
});

const env = (over: Partial<PlanEnv> = {}): PlanEnv => ({
  host: 'h',
  hostDir: '/s/h',
  backups: [],
  localEngine: true,
  mountpointReadable: () => true,
  ...over,
});
const config = (raw: Record<string, unknown> = {}) =>
  parseConfigObject({
    backup: { backup_sets: { app: { containers: ['db'], volumes: ['loose'], networks: ['spare'] } }, ...raw },
  });
const names = (xs: { name: string }[]) => xs.map((x) => x.name);

describe('planBackup selection', () => {
  it.each<{ name: string; req: BackupRequest; containers: string[]; volumes: string[]; networks: string[] }>([
    {
      name: 'everything by default',
      req: {},
      containers: ['db', 'web'],
      volumes: ['loose', 'pgdata', 'uploads'],
      networks: ['back', 'front'],
    },
    {
      name: 'one container and its volume and networks',
      req: { containers: ['web'] },
      containers: ['web'],
      volumes: ['uploads'],
      networks: ['front'],
    },
    {
      name: 'a backup set adds its extras',
      req: { backupSet: 'app' },
      containers: ['db'],
      volumes: ['loose', 'pgdata'],
      networks: ['back', 'spare'],
    },
    {
      name: 'config only',
      req: { containers: ['db'], scope: { containers: true, volumes: false, networks: true } },
      containers: ['db'],
      volumes: [],
      networks: ['back'],
    },
    {
      name: 'volumes only',
      req: { containers: ['db'], scope: { containers: false, volumes: true, networks: false } },
      containers: [],
      volumes: ['pgdata'],
      networks: [],
    },
    { name: 'just named volumes', req: { volumes: ['loose'] }, containers: [], volumes: ['loose'], networks: [] },
    {
      name: 'no networks',
      req: { containers: ['web'], scope: { containers: true, volumes: true, networks: false } },
      containers: ['web'],
      volumes: ['uploads'],
      networks: [],
    },
  ])('$name', ({ req, containers, volumes, networks }) => {
    const plan = planBackup(req, inv, config(), env());
    expect(names(plan.containers)).toEqual(containers);
    expect(names(plan.volumes)).toEqual(volumes);
    expect(names(plan.networks)).toEqual(networks);
  });

  it('networks: all saves every non-builtin network', () => {
    const plan = planBackup({ containers: ['web'] }, inv, config({ networks: 'all' }), env());
    expect(names(plan.networks)).toEqual(['back', 'front', 'spare']);
  });

  it.each([
    [{ containers: ['nope'] }, /no such container on this engine: nope/],
    [{ volumes: ['nope', 'nada'] }, /no such volumes on this engine: nope, nada/],
    [{ backupSet: 'missing' }, /unknown backup set "missing"; configured sets: app/],
  ])('refuses %j', (req, message) => {
    expect(() => planBackup(req, inv, config(), env())).toThrow(message);
  });

  it('warns when nothing is left to do', () => {
    const plan = planBackup(
      { containers: ['web'], scope: { containers: false, volumes: false, networks: false } },
      inv,
      config(),
      env(),
    );
    expect(plan.warnings).toEqual([expect.stringContaining('nothing to back up')]);
  });
});

describe('planBackup volumes', () => {
  it('parent = newest backup holding the volume as a complete tree', () => {
    const backups = [
      backup('20260101T000000Z', [volumeItem('pgdata'), volumeItem('uploads')]),
      backup(
        '20260102T000000Z',
        [volumeItem('pgdata')],
        [{ kind: 'volume', name: 'pgdata', code: 'TOOL_FAILED', message: 'x' }],
      ),
      backup('20260103T000000Z', [volumeItem('uploads', 'archive')]),
    ];
    const plan = planBackup({}, inv, config(), env({ backups }));
    const byName = Object.fromEntries(plan.volumes.map((v) => [v.name, v]));
    expect(byName.pgdata!.parent).toBe('20260101T000000Z');
    expect(byName.uploads!.parent).toBe('20260101T000000Z');
    expect(byName.loose!.parent).toBeUndefined();
    expect(byName.loose!.estimatedBytes).toBe(undefined);
    expect(byName.pgdata!.estimatedBytes).toBe(1000);
    expect(plan.parent).toBe('20260101T000000Z');
    expect(plan.estimatedBytes).toBe(1050);
  });

  it('full (or incremental disabled) plans no parent', () => {
    const backups = [backup('20260101T000000Z', [volumeItem('pgdata')])];
    expect(planBackup({ full: true }, inv, config(), env({ backups })).volumes.every((v) => !v.parent)).toBe(true);
    expect(
      planBackup({}, inv, parseConfigObject({ incremental: { enabled: false } }), env({ backups })).volumes.every(
        (v) => !v.parent,
      ),
    ).toBe(true);
  });

  it.each([
    ['auto', true, true, 'host'],
    ['auto', true, false, 'worker'],
    ['auto', false, true, 'stream'],
    ['worker', true, true, 'worker'],
    ['host', true, false, 'host'],
  ] as const)('mode %s (local %s, readable %s) -> %s', (mode, localEngine, readable, expected) => {
    const plan = planBackup(
      { volumes: ['loose'] },
      inv,
      config({ volumes: { mode } }),
      env({ localEngine, mountpointReadable: () => readable }),
    );
    expect(plan.volumes[0]!.mode).toBe(expected);
  });

  it('the hosts entry volume_mode wins; compression defaults per method', () => {
    const plan = planBackup(
      { volumes: ['loose'], compression: { method: 'gzip' } },
      inv,
      config({ volumes: { mode: 'host' } }),
      env({ volumeMode: 'worker' }),
    );
    expect(plan.volumes[0]!.mode).toBe('worker');
    expect(plan.compression).toEqual({ method: 'gzip', level: 6 });
    expect(
      planBackup({ volumes: ['loose'], compression: { method: 'none' } }, inv, config(), env()).compression,
    ).toEqual({ method: 'none', level: 0 });
    expect(
      planBackup({ volumes: ['loose'] }, inv, config({ compression: { method: 'zstd', level: 9 } }), env()).compression,
    ).toEqual({ method: 'zstd', level: 9 });
  });
});
