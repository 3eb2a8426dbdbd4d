// The TUI's view of dumps: container details, the backup dialog's dump line, the backups
// screen's dump item and the restore dialog's toggle. Pure presenters and flows.
import { describe, expect, it } from 'vitest';
import { dumpRows } from '../../screens/flows/backup.js';
import { restoreRequest, restoreRows } from '../../screens/flows/restore-form.js';
import { itemRowText } from '../../screens/presenters/backups.js';
import { detailLines, dumpText } from '../../screens/presenters/inventory.js';
import type { ContainerInfo } from '../../src/docker/inventory.js';
import type { Manifest } from '../../src/store/manifest.js';

const c = (name: string, o: Partial<ContainerInfo> = {}): ContainerInfo => ({
  name,
  id: `${name}-id-000000`,
  image: 'app',
  state: 'running',
  status: 'Up',
  created: '',
  mounts: [],
  networks: [],
  labels: {},
  ...o,
});

describe('TUI: dumps', () => {
  it.each([
    [c('pg', { image: 'postgres:16' }), 'postgres (image)'],
    [c('m', { labels: { 'bbackup.dump': 'mariadb', 'bbackup.dump.only': 'yes' } }), 'mariadb (label, dump only)'],
    [c('r', { image: 'redis', state: 'exited' }), 'redis (image), not running: skipped'],
    [c('s', { labels: { 'bbackup.dump': 'sqlite:/d/a.db' } }), 'sqlite /d/a.db (label)'],
    [
      c('x', { labels: { 'bbackup.dump': 'bogus' } }),
      expect.stringMatching(/^refused: container x: label bbackup.dump="bogus"/),
    ],
    [c('web', { image: 'nginx' }), undefined],
  ])('dumpText %#', (row, text) => expect(dumpText(row)).toEqual(text));

  it('container details name the dump', () => {
    expect(detailLines(c('pg', { image: 'postgres:16' }))).toContain('dump        postgres (image)');
    expect(detailLines(c('web'))).toContain('dump        -');
  });

  it('the backup dialog lists the dumps of the selected containers', () => {
    const state = {
      inventory: {
        containers: [c('pg', { image: 'postgres' }), c('web'), c('cache', { image: 'redis' })],
        volumes: [],
        networks: [],
      },
      selection: { containers: new Set(['pg', 'web']), volumes: new Set<string>(), networks: new Set<string>() },
    };
    expect(dumpRows({ state } as unknown as Parameters<typeof dumpRows>[0])).toEqual([
      { type: 'info', text: 'database dumps (with volumes): pg postgres (image)' },
    ]);
    state.selection.containers = new Set(['web']);
    expect(dumpRows({ state } as unknown as Parameters<typeof dumpRows>[0])).toEqual([]);
  });

  const m: Manifest = {
    format: 1,
    id: '20261201T000000Z',
    host: 'h',
    created: 'now',
    finished: '',
    tool: { name: 'bbackup', version: 't' },
    status: 'complete',
    scope: { containers: true, volumes: true, networks: true },
    compression: { method: 'zstd', level: 3 },
    encrypted: false,
    errors: [],
    items: [
      { kind: 'container', name: 'pg', id: 'x', image: 'postgres', state: 'running', files: [] },
      {
        kind: 'dump',
        name: 'pg',
        engine: 'postgres',
        tool: 'pg_dumpall',
        dataDir: '/var/lib/postgresql/data',
        only: true,
        bytes: 2048,
        files: [{ path: 'dumps/pg.postgres.zst', size: 300, sha256: 'a' }],
      },
    ],
  };

  it('a dump item on the backups screen', () => {
    expect(itemRowText(m.items[1]!, 200)).toBe(
      'dump      pg  postgres by pg_dumpall  2.0 KB  (data volume not copied)',
    );
  });

  it('the restore dialog offers the dump toggle only when the backup has dumps; off means --no-dump', () => {
    expect(restoreRows(m).some((r) => 'id' in r && r.id === 'dump')).toBe(true);
    expect(restoreRows({ ...m, items: [m.items[0]!] }).some((r) => 'id' in r && r.id === 'dump')).toBe(false);
    const base = { 'container:pg': true, force: false, start: true };
    expect(restoreRequest(m, { ...base, dump: true })).toMatchObject({ containers: ['pg'], dump: true });
    expect(restoreRequest(m, { ...base, dump: false })).toMatchObject({ containers: ['pg'], dump: false });
  });
});
