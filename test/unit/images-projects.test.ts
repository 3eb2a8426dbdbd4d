// Pure parts of issue 16 as tables: which images a backup saves, what a Compose project brings
// along, where project files go on restore, which image a restore loads from the backup, and the
// manifest check for the new item kinds.
import { describe, expect, it } from 'vitest';
import { planImages, type ImageFacts } from '../../src/backup/image-plan.js';
import { planBackup } from '../../src/backup/plan.js';
import { planProjects } from '../../src/backup/project-plan.js';
import { parseConfigObject } from '../../src/config/load.js';
import type { ContainerInfo, Inventory } from '../../src/docker/inventory.js';
import { buildPlan } from '../../src/restore/plan-build.js';
import { emptyRenames } from '../../src/restore/renames.js';
import { planProjectFiles } from '../../src/restore/project-files.js';
import type { ContainerInspect } from '../../src/restore/inspect-types.js';
import { checkManifest } from '../../src/store/manifest-check.js';
import type { Manifest, ManifestItem } from '../../src/store/manifest.js';

const H = (c: string) => `sha256:${c.repeat(64)}`;
const facts = new Map<string, ImageFacts>([
  [H('a'), { tags: ['app:1'], repoDigests: [], size: 10 }],
  [H('b'), { tags: ['nginx:1'], repoDigests: ['nginx@sha256:x'], size: 20 }],
]);
const c = (name: string, imageId?: string, labels: Record<string, string> = {}): ContainerInfo => ({
  name,
  id: name,
  image: '',
  imageId,
  state: 'running',
  status: '',
  created: '',
  labels,
  networks: [],
  mounts: [],
});

describe('planImages', () => {
  it.each([
    { mode: 'none' as const, saved: [], notes: 0 },
    { mode: 'local' as const, saved: [H('a'), H('c')], notes: 1 },
    { mode: 'all' as const, saved: [H('a'), H('b'), H('c')], notes: 0 },
  ])('$mode', ({ mode, saved, notes }) => {
    // c: an image the engine no longer knows is still planned, so its export failure is reported
    const r = planImages(
      [c('web', H('a')), c('api', H('a')), c('proxy', H('b')), c('gone', H('c')), c('odd')],
      mode,
      facts,
    );
    expect(r.images.map((i) => i.id)).toEqual(saved);
    expect(r.notes).toHaveLength(notes);
    if (mode !== 'none')
      expect(r.images[0]).toEqual({ id: H('a'), tags: ['app:1'], usedBy: ['web', 'api'], bytes: 10 });
  });
});

describe('Compose projects in the backup plan', () => {
  const P = 'com.docker.compose.project';
  const labels = (p: string) => ({
    [P]: p,
    [`${P}.config_files`]: '/srv/shop/compose.yaml,override.yaml',
    [`${P}.working_dir`]: '/srv/shop',
  });
  const inv: Inventory = {
    containers: [
      {
        ...c('shop-web-1', H('a'), labels('shop')),
        networks: ['shop_default'],
        mounts: [{ type: 'volume', source: 'shop_data', destination: '/d', readOnly: false }],
      },
      c('other', H('a')),
    ],
    volumes: [
      { name: 'shop_data', driver: 'local', mountpoint: '/m/1', labels: { [P]: 'shop' }, usedBy: ['shop-web-1'] },
      { name: 'shop_unused', driver: 'local', mountpoint: '/m/2', labels: { [P]: 'shop' }, usedBy: [] },
      { name: 'loose', driver: 'local', mountpoint: '/m/3', labels: {}, usedBy: [] },
    ],
    networks: [
      {
        name: 'shop_default',
        id: 'n',
        driver: 'bridge',
        scope: 'local',
        internal: false,
        subnets: [],
        labels: { [P]: 'shop' },
        containers: ['shop-web-1'],
        builtin: false,
      },
      {
        name: 'shop_back',
        id: 'n2',
        driver: 'bridge',
        scope: 'local',
        internal: false,
        subnets: [],
        labels: { [P]: 'shop' },
        containers: [],
        builtin: false,
      },
    ],
  };
  const env = {
    host: 'h',
    hostDir: '/s/h',
    backups: [],
    localEngine: true,
    mountpointReadable: () => true,
    images: facts,
  };
  it('-P selects its containers, every volume and network labelled with it, and the files its labels name', () => {
    const plan = planBackup({ projects: ['shop'] }, inv, parseConfigObject({}), env);
    expect(plan.containers.map((x) => x.name)).toEqual(['shop-web-1']);
    expect(plan.volumes.map((x) => x.name)).toEqual(['shop_data', 'shop_unused']);
    expect(plan.networks.map((x) => x.name)).toEqual(['shop_back', 'shop_default']);
    expect(plan.projects).toEqual([
      {
        name: 'shop',
        workingDir: '/srv/shop',
        files: ['/srv/shop/compose.yaml', '/srv/shop/override.yaml', '/srv/shop/.env'],
      },
    ]);
    expect(plan.images.map((i) => i.usedBy)).toEqual([['shop-web-1']]);
    expect(plan.group).toBe('project:shop');
  });
  it('an unknown project is refused with the projects that exist', () => {
    expect(() => planBackup({ projects: ['nope'] }, inv, parseConfigObject({}), env)).toThrow(
      /no containers of Compose project nope.*projects here: shop/,
    );
  });
  it('config-only still saves images and project files; volumes-only neither', () => {
    const volumesOnly = planBackup(
      { projects: ['shop'], scope: { containers: false, volumes: true, networks: false } },
      inv,
      parseConfigObject({}),
      env,
    );
    expect([volumesOnly.images, volumesOnly.projects]).toEqual([[], []]);
  });
  it('planProjects: relative config files resolve against the working dir; no working dir, no .env', () => {
    expect(planProjects(['x'], [c('a', undefined, { [P]: 'x', [`${P}.config_files`]: '/abs/c.yml' })])).toEqual([
      { name: 'x', workingDir: undefined, files: ['/abs/c.yml'] },
    ]);
  });
});

const manifest = (items: ManifestItem[]): Manifest => ({
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
const sha = 'f'.repeat(64);
const image = (path = `images/${'a'.repeat(64)}.tar.zst`): ManifestItem => ({
  kind: 'image',
  name: H('a'),
  tags: ['app:1'],
  usedBy: ['web'],
  bytes: 10,
  compression: 'zstd',
  files: [{ path, size: 1, sha256: sha }],
});
const project = (path: string): ManifestItem => ({
  kind: 'project',
  name: 'shop',
  sources: [{ path, original: '/srv/shop/x' }],
  files: [{ path, size: 1, sha256: sha }],
});

describe('manifest check: images and projects', () => {
  it.each([
    { name: 'image at its place', item: image(), ok: true },
    { name: 'image file elsewhere', item: image('images/../containers/web/inspect.json'), ok: false },
    { name: 'image file of another id', item: image(`images/${'b'.repeat(64)}.tar.zst`), ok: false },
    { name: 'project file', item: project('projects/shop/compose.yaml'), ok: true },
    { name: 'project dotenv', item: project('projects/shop/.env'), ok: true },
    { name: 'project file climbing out', item: project('projects/shop/../../x'), ok: false },
    { name: 'project file in a subfolder', item: project('projects/shop/a/b.yml'), ok: false },
    { name: 'project file of another project', item: project('projects/other/compose.yaml'), ok: false },
  ])('$name', ({ item, ok }) => {
    const run = () => checkManifest(manifest([item]), 'x');
    if (ok) expect(run).not.toThrow();
    else expect(run).toThrow(/not where the layout keeps/);
  });
});

describe('restore: project files and images from the backup', () => {
  it('--compose-dir puts each project file in DIR/<project>/ under its own name', () => {
    expect(planProjectFiles(manifest([project('projects/shop/compose.yaml')]), '/restore')).toEqual([
      {
        project: 'shop',
        dir: '/restore/shop',
        files: [{ from: 'projects/shop/compose.yaml', to: '/restore/shop/compose.yaml' }],
      },
    ]);
    expect(() => planProjectFiles(manifest([project('projects/shop/..')]), '/restore')).toThrow(/not/);
  });
  const web: ContainerInspect = {
    Id: 'w',
    Name: '/web',
    Image: H('a'),
    Config: { Image: 'app:1' },
    HostConfig: { NetworkMode: 'none' },
  };
  const m = manifest([
    { kind: 'container', name: 'web', id: 'w', image: 'app:1', state: 'running', files: [] },
    image(),
  ]);
  const plan = (state: 'present' | 'id' | 'missing', items = m) =>
    buildPlan({
      backupDir: '/b',
      manifest: items,
      request: { containers: ['web'], volumes: [], networks: [], all: false, force: false, start: true },
      renames: emptyRenames(),
      inspects: new Map([['web', web]]),
      networks: new Map(),
      engine: { containers: new Map(), volumes: new Map(), networks: new Map() },
      images: new Map([['web', state]]),
    });
  it.each([
    { state: 'missing' as const, loads: [H('a')], pull: 0 },
    { state: 'present' as const, loads: [], pull: 0 },
    { state: 'id' as const, loads: [], pull: 0 },
  ])('engine image $state', ({ state, loads, pull }) => {
    const p = plan(state);
    expect(p.images.map((i) => i.id)).toEqual(loads);
    expect(p.missingImages).toHaveLength(pull);
    if (loads.length) expect(p.images[0]).toEqual({ id: H('a'), tags: ['app:1'], usedBy: ['web'], bytes: 1 });
  });
  it('an image neither on the engine nor in the backup must be pulled', () => {
    const p = plan('missing', manifest([m.items[0]!]));
    expect(p.images).toEqual([]);
    expect(p.missingImages.map((x) => x.name)).toEqual(['app:1']);
  });
});
