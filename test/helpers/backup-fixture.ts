// A small backup that follows the on-disk contract (DESIGN §3, src/store/manifest.ts) without a
// Docker engine: for remote and retention tests that need many backups quickly. Real backups
// from the engine are used where the whole chain matters (test/integration/remote-*.int.test.ts).
import { createHash, randomBytes } from 'node:crypto';
import { chown, lchown, link, mkdir, readFile, symlink, utimes, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { writeTreeIndex } from './tree-index.js';
import { backupDir, rel } from '../../src/store/layout.js';
import { MANIFEST_FORMAT, type Manifest } from '../../src/store/manifest.js';

export interface FixtureOptions {
  store: string;
  host: string;
  id: string;
  /** bytes of the big random file in the volume */
  bigBytes?: number;
  /** hard-link the volume's big file to this earlier backup's (incremental) */
  linkTo?: string;
  status?: 'complete' | 'partial';
  /** retention group recorded in the manifest (none: as written before groups existed) */
  group?: string;
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

export async function makeFixtureBackup(o: FixtureOptions): Promise<{ dir: string; manifest: Manifest }> {
  const dir = backupDir(o.store, o.host, o.id);
  const put = async (relPath: string, data: Buffer) => {
    const p = join(dir, relPath);
    await mkdir(dirname(p), { recursive: true });
    await writeFile(p, data);
    return { path: relPath, size: data.length, sha256: sha(data) };
  };
  const inspect = await put(
    rel.containerInspect('web'),
    Buffer.from(JSON.stringify({ Name: '/web', Id: 'abc', Config: { Image: 'busybox' } })),
  );
  const logs = await put(rel.containerLogs('web'), Buffer.from('2026-11-24T23:00:00Z hello\n'));
  const net = await put(rel.network('appnet'), Buffer.from(JSON.stringify({ Name: 'appnet', Driver: 'bridge' })));
  const tree = join(dir, rel.volumeTree('data'));
  await mkdir(join(tree, 'sub', 'empty'), { recursive: true });
  const big = join(tree, 'big.bin');
  if (o.linkTo) await link(join(backupDir(o.store, o.host, o.linkTo), rel.volumeTree('data'), 'big.bin'), big);
  else await writeFile(big, randomBytes(o.bigBytes ?? 256 * 1024));
  await writeFile(join(tree, 'sub', 'a.txt'), `file of ${o.id}\n`, { mode: 0o640 });
  await chown(join(tree, 'sub', 'a.txt'), 1234, 5678);
  await symlink('sub/a.txt', join(tree, 'link'));
  await lchown(join(tree, 'link'), 1234, 5678);
  await link(join(tree, 'sub', 'a.txt'), join(tree, 'hard'));
  await utimes(join(tree, 'sub', 'a.txt'), 1_700_000_000.123456, 1_700_000_000.123456);
  const bigData = await readFile(big);
  // the real index of the tree (pull compares an unpacked tree with it, entry by entry)
  await writeTreeIndex(tree, join(dir, rel.volumeIndex('data')));
  const index = await put(rel.volumeIndex('data'), await readFile(join(dir, rel.volumeIndex('data'))));
  const meta = await put(rel.metadata('.zst'), randomBytes(1024));
  const manifest: Manifest = {
    format: MANIFEST_FORMAT,
    id: o.id,
    host: o.host,
    created: new Date().toISOString(),
    finished: new Date().toISOString(),
    tool: { name: 'bbackup', version: 'test' },
    status: o.status ?? 'complete',
    scope: { containers: true, volumes: true, networks: true },
    ...(o.group ? { group: o.group } : {}),
    compression: { method: 'zstd', level: 3 },
    encrypted: false,
    items: [
      { kind: 'container', name: 'web', id: 'abc', image: 'busybox', state: 'running', files: [inspect, logs] },
      { kind: 'network', name: 'appnet', id: 'n1', driver: 'bridge', files: [net] },
      {
        kind: 'volume',
        name: 'data',
        driver: 'local',
        labels: {},
        options: {},
        usedBy: ['web'],
        format: 'tree',
        bytes: bigData.length + 20,
        fileCount: 2,
        files: [index],
        parent: o.linkTo,
      },
      { kind: 'metadata', name: 'metadata', files: [meta] },
    ],
    errors: [],
  };
  await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2));
  return { dir, manifest };
}
