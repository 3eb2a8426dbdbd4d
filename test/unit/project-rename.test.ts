// --project-rename and the TUI's project grouping as tables (issue 16): new names for a project's
// objects, the refusals, the labels and aliases that follow, and the containers pane's rows.
import { describe, expect, it } from 'vitest';
import type { ContainerInfo } from '../../src/docker/inventory.js';
import {
  expandProjectRenames,
  parseProjectRenames,
  projectObjectName,
  projectRenameSandbox,
  type ProjectMembers,
} from '../../src/restore/project-rename.js';
import { emptyRenames } from '../../src/restore/renames.js';
import { groupContainers, rowContainers } from '../../screens/presenters/inventory.js';

describe('projectObjectName', () => {
  it.each([
    { name: 'shop-web-1', sep: '-' as const, out: 'copy-web-1' },
    { name: 'shop_data', sep: '_' as const, out: 'copy_data' },
    { name: 'shop_default', sep: '_' as const, out: 'copy_default' },
    // no Compose prefix: one is added
    { name: 'pgdata', sep: '_' as const, out: 'copy_pgdata' },
    { name: 'shopping-1', sep: '-' as const, out: 'copy-shopping-1' },
  ])('$name', ({ name, sep, out }) => {
    expect(projectObjectName(name, 'shop', 'copy', sep)).toBe(out);
  });
});

describe('parseProjectRenames', () => {
  it('reads OLD:NEW pairs', () => {
    expect(parseProjectRenames(['shop:copy', 'blog:blog2'])).toEqual({ shop: 'copy', blog: 'blog2' });
  });
  it.each([
    { specs: ['shop'], error: /expected OLD:NEW/ },
    { specs: ['shop:a:b'], error: /expected OLD:NEW/ },
    { specs: ['shop:Copy'], error: /not a valid Compose project name/ },
    { specs: ['shop:a', 'shop:b'], error: /renamed twice/ },
  ])('refuses $specs', ({ specs, error }) => {
    expect(() => parseProjectRenames(specs)).toThrow(error);
  });
});

describe('expandProjectRenames', () => {
  const members = (p: string): ProjectMembers =>
    p === 'shop'
      ? { containers: ['shop-web-1', 'shop-db-1'], volumes: ['shop_data'], networks: ['shop_default'] }
      : { containers: [], volumes: [], networks: [] };
  it('renames every object of the project, keeps explicit renames of others', () => {
    const explicit = { ...emptyRenames(), volume: { other: 'other2' } };
    expect(expandProjectRenames({ shop: 'copy' }, members, explicit)).toEqual({
      container: { 'shop-web-1': 'copy-web-1', 'shop-db-1': 'copy-db-1' },
      volume: { other: 'other2', shop_data: 'copy_data' },
      network: { shop_default: 'copy_default' },
    });
  });
  it('refuses a project the backup does not hold, and a double rename', () => {
    expect(() => expandProjectRenames({ blog: 'b' }, members, emptyRenames())).toThrow(
      /holds nothing of Compose project blog/,
    );
    const explicit = { ...emptyRenames(), volume: { shop_data: 'mine' } };
    expect(() => expandProjectRenames({ shop: 'copy' }, members, explicit)).toThrow(
      /volume shop_data is renamed both by --rename \(mine\) and by --project-rename shop:copy/,
    );
  });
});

describe('projectRenameSandbox', () => {
  it('the project label and container-name aliases follow; other labels and service aliases stay', () => {
    const sb = projectRenameSandbox({ shop: 'copy' });
    const spec = {
      create: {
        name: 'copy-web-1',
        HostConfig: {},
        Labels: { 'com.docker.compose.project': 'shop', 'com.docker.compose.service': 'web' },
        NetworkingConfig: { EndpointsConfig: { copy_default: { Aliases: ['web', 'shop-web-1'] } } },
      },
      connect: [{ network: 'copy_back', config: { Aliases: ['shop-web-1', 'api'] } }],
      notes: [],
    };
    sb.container(spec);
    expect(spec.create.Labels).toEqual({ 'com.docker.compose.project': 'copy', 'com.docker.compose.service': 'web' });
    expect(spec.create.NetworkingConfig.EndpointsConfig.copy_default.Aliases).toEqual(['web', 'copy-web-1']);
    expect(spec.connect[0]!.config.Aliases).toEqual(['copy-web-1', 'api']);
    const net: Record<string, unknown> = { Labels: { 'com.docker.compose.project': 'shop', x: '1' } };
    sb.network(net);
    expect(net.Labels).toEqual({ 'com.docker.compose.project': 'copy', x: '1' });
    expect(sb.labels({ 'com.docker.compose.project': 'blog' })).toEqual({ 'com.docker.compose.project': 'blog' });
  });
});

describe('groupContainers (TUI containers pane)', () => {
  const c = (name: string, project?: string): ContainerInfo => ({
    name,
    id: name,
    image: 'img',
    state: 'running',
    status: '',
    created: '',
    labels: project ? { 'com.docker.compose.project': project } : {},
    networks: [],
    mounts: [],
  });
  const list = [c('z-web', 'shop'), c('alone'), c('a-db', 'shop'), c('blog-1', 'blog')];
  const shape = (rows: ReturnType<typeof groupContainers>) =>
    rows.map((r) =>
      r.kind === 'project' ? `${r.collapsed ? '+' : '-'}${r.project}` : `${r.project ? '  ' : ''}${r.container.name}`,
    );
  it('containers outside projects first, then each project (by name) with its containers under it', () => {
    expect(shape(groupContainers(list, new Set()))).toEqual([
      'alone',
      '-blog',
      '  blog-1',
      '-shop',
      '  z-web',
      '  a-db',
    ]);
  });
  it('a folded project hides its containers; its row still stands for all of them', () => {
    const rows = groupContainers(list, new Set(['shop']));
    expect(shape(rows)).toEqual(['alone', '-blog', '  blog-1', '+shop']);
    expect(rowContainers(rows[3]!)).toEqual(['z-web', 'a-db']);
  });
});
