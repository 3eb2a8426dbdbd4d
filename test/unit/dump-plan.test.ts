// Dumps in plans: the backup plan (which container gets which dump, dump-only volumes, stopped
// containers, bad labels), the restore plan (when a dump is loaded, which volume it fills, and
// when it is refused), and the engines' command lines and output parsers.
import { describe, expect, it } from 'vitest';
import { planBackup } from '../../src/backup/plan.js';
import { formatPlan } from '../../src/cli/printers/backup-summary.js';
import { parseConfigObject } from '../../src/config/load.js';
import type { ContainerInfo, Inventory } from '../../src/docker/inventory.js';
import { lineSplitter } from '../../src/dump/engine.js';
import { mongoAuthArgs, mongoConfigBody, parseMongoRestore } from '../../src/dump/mongodb.js';
import { mysqlDumpArgs } from '../../src/dump/mysql.js';
import { describeDump, planDumps } from '../../src/dump/plan-dumps.js';
import { configValue, parseInfo } from '../../src/dump/redis.js';
import { attachDumps } from '../../src/dump/restore-plan.js';
import { onAMount, sqliteBackupArgs } from '../../src/dump/sqlite.js';
import { buildPlan, type EngineSnapshot } from '../../src/restore/plan-build.js';
import { checkRenames, emptyRenames, parseRenames } from '../../src/restore/renames.js';
import type { ContainerInspect } from '../../src/restore/inspect-types.js';
import type { DumpItem, Manifest } from '../../src/store/manifest.js';

const container = (name: string, o: Partial<ContainerInfo> = {}): ContainerInfo => ({
  name,
  id: `id-${name}`,
  image: 'app:1',
  state: 'running',
  status: 'Up',
  created: '',
  labels: {},
  networks: [],
  mounts: [],
  ...o,
});
const vol = (source: string, destination: string) => ({ type: 'volume', source, destination, readOnly: false });

const inv: Inventory = {
  containers: [
    container('pg', {
      image: 'postgres:16',
      mounts: [vol('pgdata', '/var/lib/postgresql/data'), vol('pgconf', '/etc/pg')],
    }),
    container('maria', {
      labels: { 'bbackup.dump': 'mariadb', 'bbackup.dump.only': 'true' },
      mounts: [vol('mysql', '/var/lib/mysql')],
    }),
    container('cache', {
      image: 'redis:7',
      state: 'exited',
      labels: { 'bbackup.dump.only': 'true' },
      mounts: [vol('redisdata', '/data')],
    }),
    container('app', { labels: { 'bbackup.dump': 'sqlite:/srv/app.db' }, mounts: [vol('appdata', '/srv')] }),
    container('broken', { labels: { 'bbackup.dump': 'oracle' }, mounts: [vol('brokendata', '/x')] }),
    container('web', { image: 'nginx', mounts: [vol('uploads', '/u')] }),
  ],
  volumes: ['pgdata', 'pgconf', 'mysql', 'redisdata', 'appdata', 'brokendata', 'uploads'].map((name) => ({
    name,
    driver: 'local',
    mountpoint: `/mp/${name}`,
    labels: {},
    usedBy: [],
  })),
  networks: [],
};
const env = { host: 'h', hostDir: '/s/h', backups: [], localEngine: true, mountpointReadable: () => true };

describe('backup plan: dumps', () => {
  it('detects by image and label, leaves dump-only data volumes out, skips a stopped server, refuses a bad label', () => {
    const plan = planBackup({}, inv, parseConfigObject({}), env);
    expect(
      plan.dumps.map((d) => [d.container, d.engine, d.detectedBy, d.skipsVolumes, d.skip ?? '', d.error ?? '']),
    ).toEqual([
      ['app', 'sqlite', 'label', [], '', ''],
      ['broken', 'postgres', 'label', [], '', expect.stringMatching(/container broken: label bbackup.dump="oracle"/)],
      [
        'cache',
        'redis',
        'image',
        [],
        expect.stringMatching(/container is exited: no dump; its volume files are at rest/),
        '',
      ],
      ['maria', 'mariadb', 'label', ['mysql'], '', ''],
      ['pg', 'postgres', 'image', [], '', ''],
    ]);
    // maria's data volume is replaced by its dump; the stopped cache keeps its volume copy
    expect(plan.volumes.map((v) => v.name)).toEqual([
      'appdata',
      'brokendata',
      'pgconf',
      'pgdata',
      'redisdata',
      'uploads',
    ]);
  });

  it('a volume named in the request is copied even when its container is dump-only', () => {
    const plan = planBackup({ containers: ['maria'], volumes: ['mysql'] }, inv, parseConfigObject({}), env);
    expect(plan.volumes.map((v) => v.name)).toEqual(['mysql']);
    expect(plan.dumps[0]!.skipsVolumes).toEqual([]);
  });

  it('--config-only takes no dumps; --volumes-only does', () => {
    expect(
      planBackup(
        { containers: ['pg'], scope: { containers: true, volumes: false, networks: true } },
        inv,
        parseConfigObject({}),
        env,
      ).dumps,
    ).toEqual([]);
    expect(
      planBackup(
        { containers: ['pg'], scope: { containers: false, volumes: true, networks: false } },
        inv,
        parseConfigObject({}),
        env,
      ).dumps.map((d) => d.container),
    ).toEqual(['pg']);
  });

  it('detection by environment needs the env the job reads', () => {
    const envOnly = [container('custom', { image: 'myorg/db:1' })];
    expect(planDumps(envOnly, undefined, new Set()).dumps).toEqual([]);
    expect(
      planDumps(envOnly, new Map([['custom', ['PG_MAJOR=15']]]), new Set()).dumps.map(
        (d) => `${d.engine} ${d.detectedBy}`,
      ),
    ).toEqual(['postgres environment']);
  });

  it('the dry-run table shows each dump', () => {
    const text = formatPlan(planBackup({}, inv, parseConfigObject({}), env));
    expect(text).toMatch(/dump\s+maria\s+mariadb \(label\), dump only: volume mysql not copied/);
    expect(text).toMatch(/dump\s+pg\s+postgres \(image\)/);
    expect(text).toMatch(/dump\s+cache\s+redis \(image\): skipped, container is exited/);
    expect(text).toMatch(/dump\s+app\s+sqlite \/srv\/app.db \(label\)/);
  });

  it.each([
    [
      {
        container: 'a',
        engine: 'postgres',
        detectedBy: 'image',
        only: false,
        state: 'running',
        dataDir: '/d',
        skipsVolumes: [],
      },
      'postgres (image)',
    ],
    [
      {
        container: 'a',
        engine: 'redis',
        detectedBy: 'label',
        only: true,
        state: 'running',
        dataDir: '/d',
        skipsVolumes: ['r'],
      },
      'redis (label), dump only: volume r not copied',
    ],
  ] as const)('describeDump %#', (d, text) =>
    expect(describeDump({ ...d, skipsVolumes: [...d.skipsVolumes] })).toBe(text),
  );
});

const dumpItem = (name: string, o: Partial<DumpItem> = {}): DumpItem => ({
  kind: 'dump',
  name,
  engine: 'postgres',
  tool: 'pg_dumpall',
  dataDir: '/var/lib/postgresql/data',
  only: false,
  bytes: 1234,
  files: [{ path: `dumps/${name}.${o.engine ?? 'postgres'}.zst`, size: 100, sha256: 'a'.repeat(64) }],
  ...o,
});
const manifest = (items: Manifest['items']): Manifest => ({
  format: 1,
  id: '20261201T000000Z',
  host: 'h',
  created: '',
  finished: '',
  tool: { name: 'bbackup', version: 't' },
  status: 'complete',
  scope: { containers: true, volumes: true, networks: true },
  compression: { method: 'zstd', level: 3 },
  encrypted: false,
  errors: [],
  items,
});
const inspect = (
  name: string,
  mounts: { name?: string; type?: string; source?: string; dest: string }[],
  image = 'postgres:16',
): ContainerInspect => ({
  Id: name.padEnd(64, '0'),
  Name: `/${name}`,
  Image: 'sha256:1',
  Config: { Image: image },
  HostConfig: { NetworkMode: 'none' },
  Mounts: mounts.map((m) => ({
    Type: m.type ?? 'volume',
    Name: m.name,
    Source: m.source ?? '/v',
    Destination: m.dest,
    RW: true,
  })),
});

function restorePlan(o: {
  items: Manifest['items'];
  inspects: Record<string, ContainerInspect>;
  containers?: string[];
  volumes?: string[];
  renames?: string[];
  engine?: Partial<EngineSnapshot>;
  start?: boolean;
  force?: boolean;
  dump?: boolean;
}) {
  const m = manifest(o.items);
  const engine: EngineSnapshot = { containers: new Map(), volumes: new Map(), networks: new Map(), ...o.engine };
  const inspects = new Map(Object.entries(o.inspects));
  const plan = buildPlan({
    backupDir: '/b',
    manifest: m,
    request: {
      containers: o.containers ?? ['db'],
      volumes: o.volumes ?? [],
      networks: [],
      all: false,
      force: o.force ?? false,
      start: o.start ?? true,
    },
    renames: checkRenames(o.renames ? parseRenames(o.renames) : emptyRenames(), m),
    inspects,
    networks: new Map(),
    engine,
    images: new Map([...inspects.keys()].map((k) => [k, 'present'])),
  });
  return attachDumps(plan, { dump: o.dump ?? true, inspects, engine });
}

const pgBackup = (extra: Partial<DumpItem> = {}) => ({
  items: [
    { kind: 'container', name: 'db', id: 'db'.padEnd(64, '0'), image: 'postgres:16', state: 'running', files: [] },
    {
      kind: 'volume',
      name: 'pgdata',
      driver: 'local',
      labels: {},
      options: {},
      usedBy: ['db'],
      format: 'tree',
      bytes: 500,
      fileCount: 9,
      files: [],
    },
    dumpItem('db', extra),
  ] as Manifest['items'],
  inspects: { db: inspect('db', [{ name: 'pgdata', dest: '/var/lib/postgresql/data' }]) },
});
const line = (p: ReturnType<typeof restorePlan>) =>
  p.items.map(
    (i) =>
      `${i.action} ${i.kind} ${i.target}${i.dump ? ` [load ${i.dump.engine} ${i.dump.when} fresh=${i.dump.freshVolumes.join(',')}]` : ''}${i.dumpFills ? ` [empty for ${i.dumpFills}]` : ''}`,
  );

describe('restore plan: dumps', () => {
  it('the data volume is created empty and the dump loaded after start', () => {
    const p = restorePlan(pgBackup());
    expect(line(p)).toEqual([
      'create volume pgdata [empty for db]',
      'create container db [load postgres after-start fresh=pgdata]',
    ]);
    expect(p.items[1]!.detail).toContain('then its postgres dump is loaded');
    expect(p.items[1]!.dump!.file).toBe('dumps/db.postgres.zst');
    expect(p.warnings).toEqual([]);
  });

  it('a renamed restore loads into the new container and its new volume only', () => {
    const p = restorePlan({
      ...pgBackup(),
      renames: ['db:db2', 'pgdata:pgdata2'],
      engine: {
        containers: new Map([['db', { state: 'running' }]]),
        volumes: new Map([['pgdata', { usedBy: ['db'] }]]),
      },
    });
    expect(line(p)).toEqual([
      'create volume pgdata2 [empty for db2]',
      'create container db2 [load postgres after-start fresh=pgdata2]',
    ]);
  });

  it.each<{ name: string; o: Partial<Parameters<typeof restorePlan>[0]>; warning: RegExp }>([
    {
      name: 'the original volume is reused: never loaded into',
      o: { renames: ['db:db2'], engine: { volumes: new Map([['pgdata', { usedBy: ['db'] }]]) } },
      warning: /container db2: its postgres dump is not loaded: volume pgdata exists and is used as it is/,
    },
    {
      name: '--no-start',
      o: { start: false },
      warning: /container db is not started .*: its postgres dump is not loaded; the data comes from the volume copy/,
    },
  ])('$name', ({ o, warning }) => {
    const p = restorePlan({ ...pgBackup(), ...o });
    expect(p.items.some((i) => i.dump || i.dumpFills)).toBe(false);
    expect(p.warnings.join('\n')).toMatch(warning);
  });

  it('--no-dump: files only, with a note; dump-only backups warn that the data is missing', () => {
    const p = restorePlan({ ...pgBackup({ only: true }), dump: false });
    expect(p.items.some((i) => i.dump || i.dumpFills)).toBe(false);
    expect(p.items[1]!.notes).toContain(
      'its postgres dump is not loaded (--no-dump): the data comes from the volume copy',
    );
    expect(p.warnings.join()).toMatch(
      /data volume was not backed up \(bbackup.dump.only\), and --no-dump leaves it without its postgres data/,
    );
  });

  it('dump only: the volume is not in the backup and not on the engine, so Docker makes it empty: loaded', () => {
    const b = pgBackup({ only: true });
    const p = restorePlan({ ...b, items: b.items.filter((i) => i.kind !== 'volume') });
    expect(line(p)).toEqual(['create container db [load postgres after-start fresh=]']);
  });

  it('a bind-mounted data folder is never loaded into', () => {
    const p = restorePlan({
      ...pgBackup(),
      inspects: { db: inspect('db', [{ type: 'bind', source: '/srv/pg', dest: '/var/lib/postgresql/data' }]) },
    });
    expect(p.warnings.join()).toMatch(/bind mount of \/srv\/pg/);
    expect(p.items.some((i) => i.dump)).toBe(false);
  });

  it('redis: its volume is restored from files and the snapshot put in place before start', () => {
    const b = pgBackup({
      engine: 'redis',
      tool: 'redis-cli BGSAVE',
      dataDir: '/data',
      path: '/data/dump.rdb',
      files: [{ path: 'dumps/db.redis.zst', size: 1, sha256: 'b'.repeat(64) }],
    });
    b.inspects.db = inspect('db', [{ name: 'pgdata', dest: '/data' }], 'redis:7');
    expect(line(restorePlan(b))).toEqual([
      'create volume pgdata',
      'create container db [load redis before-start fresh=]',
    ]);
  });

  it.each<[string, Partial<DumpItem>]>([
    ['unknown engine', { engine: 'oracle' as DumpItem['engine'] }],
    [
      'a path that climbs',
      { engine: 'sqlite', path: '/data/../etc/passwd', files: [{ path: 'dumps/db.sqlite.zst', size: 1, sha256: 'c' }] },
    ],
    ['a file not where the layout puts it', { files: [{ path: '../../etc/shadow', size: 1, sha256: 'c' }] }],
  ])('a manifest entry that is not trustworthy is not loaded: %s', (_n, bad) => {
    const p = restorePlan(pgBackup(bad));
    expect(p.items.some((i) => i.dump)).toBe(false);
    expect(p.warnings.join()).toMatch(/its dump in the manifest is not usable/);
  });
});

describe('engine command lines and output parsers', () => {
  it('mysqldump: one transaction, routines, events; all databases as root, else the user database', () => {
    expect(mysqlDumpArgs({ creds: { user: 'root', password: 'x' } })).toEqual([
      '--user=root',
      '--single-transaction',
      '--routines',
      '--events',
      '--triggers',
      '--hex-blob',
      '--default-character-set=utf8mb4',
      '--all-databases',
      '--flush-privileges',
    ]);
    expect(mysqlDumpArgs({ creds: { user: 'app', database: 'shop' } }).slice(-2)).toEqual(['--databases', 'shop']);
    expect(mysqlDumpArgs({ creds: { user: 'root', password: 'secret' } }).join(' ')).not.toContain('secret');
  });

  it('mongodb: the password goes in a --config file, never in argv', () => {
    expect(mongoAuthArgs('root', '/tmp/x.yaml')).toEqual([
      '--username',
      'root',
      '--authenticationDatabase',
      'admin',
      '--config=/tmp/x.yaml',
    ]);
    expect(mongoAuthArgs(undefined, undefined)).toEqual([]);
    expect(mongoConfigBody('p"a\\ss')).toBe('password: "p\\"a\\\\ss"\n');
    expect(
      parseMongoRestore(
        '2026-12-01T00:00:00.000+0000\t12 document(s) restored successfully. 1 document(s) failed to restore.',
      ),
    ).toEqual({ restored: 12, failed: 1 });
    expect(parseMongoRestore('restoring users')).toBeUndefined();
  });

  it('redis: INFO and CONFIG GET replies', () => {
    const info = parseInfo(
      '# Persistence\r\nloading:0\r\nrdb_bgsave_in_progress:1\r\nrdb_last_bgsave_status:ok\r\nrdb_saves:4\r\n',
    );
    expect([
      info.get('rdb_bgsave_in_progress'),
      info.get('rdb_saves'),
      info.get('rdb_last_bgsave_status'),
      info.has('# Persistence'),
    ]).toEqual(['1', '4', 'ok', false]);
    expect(configValue('dir\n/data\n')).toBe('/data');
    expect(configValue('')).toBe('');
  });

  it('sqlite: a read-only .backup, and which paths a helper can reach', () => {
    expect(sqliteBackupArgs('/data/app.db', '/tmp/b.db')).toEqual([
      '-readonly',
      '-bail',
      '-cmd',
      '.timeout 30000',
      '/data/app.db',
      ".backup '/tmp/b.db'",
    ]);
    expect(onAMount('/data/app.db', [{ destination: '/data' }])).toBe(true);
    expect(onAMount('/data2/app.db', [{ destination: '/data' }])).toBe(false);
    expect(onAMount('/app.db', [])).toBe(false);
  });

  it('lineSplitter joins lines split across chunks', () => {
    const lines: string[] = [];
    const feed = lineSplitter((l) => lines.push(l));
    for (const c of ['COPY 1', '2\nSET\nCO', 'PY 7\n', 'tail']) feed(c);
    expect(lines).toEqual(['COPY 12', 'SET', 'COPY 7']);
  });
});
