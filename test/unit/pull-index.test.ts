// What pull accepts from a remote, as pure rules: layout paths, folder names bbackup makes, index
// entries and manifests. Table-driven; the integration test shows the same refusals end to end.
import { describe, expect, it } from 'vitest';
import { checkIndex, isLayoutPath } from '../../src/remote/pull-index.js';
import type { RemoteIndex } from '../../src/remote/packing.js';
import { fromSafeSegment, isSafeSegment, safeSegment } from '../../src/store/layout.js';
import { checkManifest } from '../../src/store/manifest-check.js';

describe('folder names', () => {
  it.each(['web', 'café', 'a/b', '..', '.', '€ x', 'net:1'])(
    'safeSegment(%j) decodes back exactly and is recognised',
    (name) => {
      expect(fromSafeSegment(safeSegment(name))).toBe(name);
      expect(isSafeSegment(safeSegment(name))).toBe(true);
    },
  );
  it.each(['..', '.', '', 'a/b', '%zz', 'A%2Fb', '%2F', 'caf%e9'])('%j is not a name bbackup makes', (seg) => {
    expect(isSafeSegment(seg)).toBe(false);
  });
});

describe('layout paths', () => {
  it.each([
    'manifest.json',
    'metadata.tar.zst',
    'metadata.tar',
    'containers/web/inspect.json',
    'containers/web/logs.txt',
    'networks/net%3a1.json',
    'volumes/db.tar.zst',
    'volumes/db.tar.gz',
    'volumes/db.tar',
    'volumes/db.index.jsonl',
    'volumes/x.tar.tar.zst',
    'retention.json',
    'remote-index.json',
    'dumps/db.postgres.zst',
    'dumps/my.db.sqlite.zst',
    'dumps/caf%c3%a9.redis.zst',
    'images/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.tar.zst',
    'images/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.tar',
    'projects/shop/compose.yaml',
    'projects/shop/.env',
  ])('accepts %s', (p) => expect(isLayoutPath(p)).toBe(true));
  it.each([
    '../x',
    '/etc/passwd',
    'containers/../x/inspect.json',
    'containers/%2e%2e/../inspect.json',
    'containers/web/other.txt',
    'containers/web',
    'networks/..json',
    'volumes/db',
    'volumes/db/file',
    'volumes/.tar.zst',
    'volumes/%2Fx.tar',
    'volumes/db.zip',
    'metadata.tar.xz',
    'x/manifest.json',
    'manifest.json/',
    './manifest.json',
    '',
    'dumps/db.oracle.zst',
    'dumps/db.postgres',
    'dumps/.postgres.zst',
    'dumps/../x.postgres.zst',
    'dumps/a/b.redis.zst',
    'images/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.tar.xz',
    'images/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.tar.zst',
    'images/../aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.tar.zst',
    'projects/shop/..',
    'projects/../compose.yaml',
    'projects/shop/sub/compose.yaml',
  ])('refuses %j', (p) => expect(isLayoutPath(p)).toBe(false));
});

describe('index entries', () => {
  const index = (files: RemoteIndex['files']): RemoteIndex => ({
    format: 1,
    id: 'i',
    host: 'h',
    uploaded: '',
    encrypted: false,
    files,
  });
  const f = (path: string, more: Partial<RemoteIndex['files'][number]> = {}) => ({
    path,
    stored: path,
    size: 1,
    storedSize: 1,
    ...more,
  });
  const rules = { encrypted: false, listed: new Set<string>() };
  it.each([
    { files: [f('volumes/db.tar.zst', { unpackTo: 'volumes/db' })], bad: undefined },
    { files: [f('volumes/db.tar.zst', { unpackTo: 'volumes/other' })], bad: /not that volume's tree folder/ },
    { files: [f('volumes/db.tar.zst', { unpackTo: '../db' })], bad: /not that volume's tree folder/ },
    { files: [f('volumes/db.index.jsonl', { unpackTo: 'volumes/db' })], bad: /not that volume's tree folder/ },
    { files: [f('networks/n.json'), f('networks/n.json')], bad: /twice/ },
    { files: [f('networks/n.json', { stored: 'networks/m.json' })], bad: /under another name/ },
    { files: [f('../x')], bad: /not a path of the backup layout/ },
  ])('$files.0.path $files.0.unpackTo', ({ files, bad }) => {
    const run = () => checkIndex(index(files), 'r', rules);
    if (bad) expect(run).toThrow(bad);
    else expect(run).not.toThrow();
  });
  it('on an encrypted backup every file but the sidecar must be .age', () => {
    expect(() => checkIndex(index([f('networks/n.json')]), 'r', { ...rules, encrypted: true })).toThrow(
      /stored unencrypted/,
    );
    expect(() =>
      checkIndex(index([f('networks/n.json', { stored: 'networks/n.json.age' }), f('retention.json')]), 'r', {
        ...rules,
        encrypted: true,
      }),
    ).not.toThrow();
  });
});

describe('manifests from elsewhere', () => {
  const sha = 'a'.repeat(64);
  const base = () => ({
    format: 1,
    id: '20261201T000000Z',
    host: 'h',
    status: 'complete',
    errors: [],
    items: [
      { kind: 'container', name: 'web', files: [{ path: 'containers/web/inspect.json', size: 1, sha256: sha }] },
      {
        kind: 'volume',
        name: 'db',
        format: 'archive',
        bytes: 1,
        files: [{ path: 'volumes/db.tar.zst', size: 1, sha256: sha }],
      },
      {
        kind: 'dump',
        name: 'pg',
        engine: 'postgres',
        tool: 'pg_dumpall',
        dataDir: '/var/lib/postgresql/data',
        only: false,
        bytes: 1,
        files: [{ path: 'dumps/pg.postgres.zst', size: 1, sha256: sha }],
      },
    ],
  });
  it('a good one passes', () =>
    expect(checkManifest(base(), 'x', { id: '20261201T000000Z', host: 'h' }).id).toBe('20261201T000000Z'));
  it.each([
    {
      edit: (m: ReturnType<typeof base>) => void (m.items[0]!.files[0]!.path = 'volumes/db.tar.zst'),
      bad: /not where the layout keeps its files/,
    },
    {
      edit: (m: ReturnType<typeof base>) => void (m.items[1]!.files[0]!.path = '../../etc/cron.d/x'),
      bad: /not where the layout keeps its files/,
    },
    {
      edit: (m: ReturnType<typeof base>) => void (m.items[1]!.files[0]!.sha256 = 'nope'),
      bad: /sha256 missing or malformed/,
    },
    {
      edit: (m: ReturnType<typeof base>) => void ((m.items[1] as Record<string, unknown>).format = 'zip'),
      bad: /format "zip"/,
    },
    { edit: (m: ReturnType<typeof base>) => void m.items.push(m.items[0]!), bad: /listed twice/ },
    { edit: (m: ReturnType<typeof base>) => void (m.id = '../x'), bad: /not a backup id/ },
    {
      edit: (m: ReturnType<typeof base>) => void ((m.items[2] as Record<string, unknown>).engine = 'oracle'),
      bad: /engine "oracle"/,
    },
    {
      edit: (m: ReturnType<typeof base>) => void (m.items[2]!.files[0]!.path = 'dumps/pg.redis.zst'),
      bad: /not where the layout keeps its files/,
    },
    {
      edit: (m: ReturnType<typeof base>) => void ((m.items[2] as Record<string, unknown>).dataDir = 'data'),
      bad: /must be absolute paths/,
    },
    { edit: (m: ReturnType<typeof base>) => void (m.host = 'other'), bad: /belongs to host other/ },
  ])('refuses: $bad', ({ edit, bad }) => {
    const m = base();
    edit(m);
    expect(() => checkManifest(m, 'x', { id: m.id === '../x' ? undefined : '20261201T000000Z', host: 'h' })).toThrow(
      bad,
    );
  });
});
