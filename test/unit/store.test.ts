import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { allocateBackup } from '../../src/store/allocate.js';
import { compareIds, diskUsage, listBackups, removePartials } from '../../src/store/catalog.js';
import { writeManifest } from '../../src/store/write-manifest.js';
import type { Manifest } from '../../src/store/manifest.js';

const dirs: string[] = [];
const tmp = async () => {
  const d = await mkdtemp(join(tmpdir(), 'bbt-bk-unit-'));
  dirs.push(d);
  return d;
};
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

const manifest = (id: string): Manifest => ({
  format: 1,
  id,
  host: 'h',
  created: '',
  finished: '',
  tool: { name: 'bbackup', version: '0' },
  status: 'complete',
  scope: { containers: true, volumes: true, networks: true },
  compression: { method: 'zstd', level: 3 },
  encrypted: false,
  items: [],
  errors: [],
});

describe('backup ids', () => {
  it.each([
    ['20260101T000000Z', '20260101T000001Z', -1],
    ['20260101T000000Z', '20260101T000000Z-2', -1],
    ['20260101T000000Z-9', '20260101T000000Z-10', -1],
    ['20260101T000000Z-3', '20260101T000000Z-3', 0],
  ])('%s vs %s', (a, b, sign) => {
    expect(Math.sign(compareIds(a, b))).toBe(sign);
    expect(Math.sign(compareIds(b, a))).toBe(-sign || 0);
  });

  it('allocates -2, -3 within one second, also past a finished backup', async () => {
    const host = await tmp();
    const now = new Date('2026-11-25T20:00:00.900Z');
    const a = await allocateBackup(host, now);
    const b = await allocateBackup(host, now);
    await mkdir(join(host, '20261125T200000Z-3'));
    const c = await allocateBackup(host, now);
    expect([a.id, b.id, c.id]).toEqual(['20261125T200000Z', '20261125T200000Z-2', '20261125T200000Z-4']);
    expect(c.partial).toBe(join(host, '20261125T200000Z-4.partial'));
  });
});

describe('catalog', () => {
  it('lists folders with a manifest in id order, flags damaged ones, never .partial; removePartials cleans', async () => {
    const host = await tmp();
    for (const id of ['20260102T000000Z', '20260101T000000Z-2', '20260101T000000Z']) {
      await mkdir(join(host, id));
      await writeManifest(join(host, id), manifest(id));
    }
    await mkdir(join(host, '20260103T000000Z'));
    await writeFile(join(host, '20260103T000000Z', 'manifest.json'), '{ broken');
    await mkdir(join(host, '20260104T000000Z.partial'));
    await mkdir(join(host, 'not-a-backup'));
    const list = await listBackups(host);
    expect(list.map((b) => b.id)).toEqual([
      '20260101T000000Z',
      '20260101T000000Z-2',
      '20260102T000000Z',
      '20260103T000000Z',
    ]);
    expect(list[3]!.damaged).toMatch(/damaged/);
    expect(await removePartials(host)).toEqual(['20260104T000000Z.partial']);
    expect((await readdir(host)).sort()).not.toContain('20260104T000000Z.partial');
    expect(await listBackups(join(host, 'missing'))).toEqual([]);
  });

  it('disk usage counts a hard-linked file once, and only in the first backup that holds it', async () => {
    const host = await tmp();
    await mkdir(join(host, 'a'));
    await mkdir(join(host, 'b'));
    await writeFile(join(host, 'a', 'big'), Buffer.alloc(1 << 20, 1));
    const { link } = await import('node:fs/promises');
    await link(join(host, 'a', 'big'), join(host, 'a', 'big2'));
    await link(join(host, 'a', 'big'), join(host, 'b', 'big'));
    const seen = new Set<string>();
    const a = await diskUsage(join(host, 'a'), seen);
    const b = await diskUsage(join(host, 'b'), seen);
    expect(a.size).toBeGreaterThanOrEqual(1 << 20);
    expect(a.size).toBeLessThan(2 << 20);
    expect(b.size).toBeGreaterThanOrEqual(1 << 20);
    expect(b.added).toBeLessThan(64 * 1024);
  });
});
