// Local rotation on real folders: hard-linked incremental snapshots share their big file, so the
// quota counts it once (by inode); the dry run and the real run agree; removal leaves no folder
// that looks like a backup, and .partial work is neither counted nor touched.
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rotateLocal } from '../../src/jobs/rotate.js';
import { hostDir } from '../../src/store/layout.js';
import type { RetentionPolicy } from '../../src/store/retention.js';
import { inodeSizes } from '../../src/store/retention-sizes.js';
import { makeFixtureBackup } from '../helpers/backup-fixture.js';

const MiB = 1 << 20;
const ids = ['20261120T030000Z', '20261121T030000Z', '20261122T030000Z'];
const NONE: RetentionPolicy = { last: 0, daily: 0, weekly: 0, monthly: 0, yearly: 0 };
let store: string;
beforeAll(async () => {
  store = await mkdtemp(join(tmpdir(), 'bbt-rm-retl-'));
});
afterAll(async () => rm(store, { recursive: true, force: true }));

async function history(host: string): Promise<string> {
  await makeFixtureBackup({ store, host, id: ids[0]!, bigBytes: 8 * MiB });
  await makeFixtureBackup({ store, host, id: ids[1]!, linkTo: ids[0] });
  await makeFixtureBackup({ store, host, id: ids[2]!, linkTo: ids[1] });
  const folder = hostDir(store, host);
  await mkdir(join(folder, '20261123T030000Z.partial'));
  await writeFile(join(folder, '20261123T030000Z.partial', 'big'), Buffer.alloc(20 * MiB, 1));
  return folder;
}

describe('local rotation with hard-linked snapshots', () => {
  it('inodeSizes sees the shared big file as one inode', async () => {
    const folder = await history('h-inodes');
    const maps = await Promise.all(ids.map((id) => inodeSizes(join(folder, id))));
    const union = new Map(maps.flatMap((m) => [...m]));
    const total = [...union.values()].reduce((a, b) => a + b, 0);
    const naive = maps.reduce((a, m) => a + [...m.values()].reduce((x, y) => x + y, 0), 0);
    expect(total).toBeLessThan(9 * MiB + 400 * 1024); // 8 MiB once, plus small files and folders
    expect(naive).toBeGreaterThan(24 * MiB); // what counting each snapshot separately would say
  });

  it('a quota the snapshots fit only when links count once removes nothing', async () => {
    const folder = await history('h-fit');
    const r = await rotateLocal(
      folder,
      'h-fit',
      { ...NONE, daily: 7, maxBytes: 10 * MiB },
      { dryRun: false, signal: AbortSignal.timeout(30_000) },
    );
    expect(r.removed).toEqual([]);
    expect(r.plan.bytesBefore).toBeLessThan(10 * MiB); // the 20 MiB .partial is not counted
  });

  it('over quota: removes oldest first, exactly as the dry run said, never the newest; .partial untouched', async () => {
    const folder = await history('h-over');
    const policy = { ...NONE, daily: 7, maxBytes: 1 * MiB };
    const dry = await rotateLocal(folder, 'h-over', policy, { dryRun: true, signal: AbortSignal.timeout(30_000) });
    expect(dry.plan.remove.sort()).toEqual([ids[0], ids[1]]);
    expect(dry.plan.overQuota).toBe(true); // the newest alone holds the 8 MiB file
    expect(dry.removed).toEqual([]);
    expect((await readdir(folder)).sort()).toEqual([...ids, '20261123T030000Z.partial']);
    const real = await rotateLocal(folder, 'h-over', policy, { dryRun: false, signal: AbortSignal.timeout(30_000) });
    expect(real.removed.sort()).toEqual(dry.plan.remove.sort());
    expect((await readdir(folder)).sort()).toEqual([ids[2], '20261123T030000Z.partial']);
    // the kept snapshot still has its (formerly shared) big file
    expect((await inodeSizes(join(folder, ids[2]!))).size).toBeGreaterThan(5);
  });

  it('leftovers of killed runs (.removing-*, .pull-*) count in the quota while they exist; they are not touched', async () => {
    const folder = await history('h-left');
    await mkdir(join(folder, '.removing-20261101T030000Z'));
    await writeFile(join(folder, '.removing-20261101T030000Z', 'big'), Buffer.alloc(6 * MiB, 1));
    await mkdir(join(folder, '.pull-20261102T030000Z-abcdef'));
    await writeFile(join(folder, '.pull-20261102T030000Z-abcdef', 'big'), Buffer.alloc(6 * MiB, 2));
    // the snapshots alone fit in 12 MiB; with the 12 MiB of leftovers they do not
    const policy = { ...NONE, daily: 7, maxBytes: 12 * MiB };
    const r = await rotateLocal(folder, 'h-left', policy, { dryRun: false, signal: AbortSignal.timeout(30_000) });
    expect(r.plan.leftoverBytes).toBeGreaterThanOrEqual(12 * MiB);
    expect(r.plan.bytesBefore).toBeGreaterThan(20 * MiB);
    expect(r.removed.sort()).toEqual([ids[0], ids[1]]); // oldest first; the newest stays
    expect(r.plan.overQuota).toBe(true);
    expect((await readdir(folder)).sort()).toEqual([
      '.pull-20261102T030000Z-abcdef',
      '.removing-20261101T030000Z',
      ids[2],
      '20261123T030000Z.partial',
    ]);
  });
});
