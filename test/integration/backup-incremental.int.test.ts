// The incremental promise (DESIGN §3): a second backup after changing a few files stores hard
// links for everything unchanged (same inode as the parent), adds on disk only what changed,
// and hashes only the changed files (the rest inherit the parent's sha256).
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { readIndex } from '../../src/backup/tree-index.js';
import type { IndexEntry, VolumeItem } from '../../src/store/manifest.js';
import { verifyBackup } from '../../src/store/verify.js';
import { bigFile, makeVolume, runBackup, sh, tempDir, testConfig, volumesOnly } from './backup-helpers.js';

async function indexOf(dir: string, volume: string): Promise<Map<string, IndexEntry>> {
  const map = new Map<string, IndexEntry>();
  for await (const e of readIndex(join(dir, 'volumes', `${volume}.index.jsonl`))) map.set(e.p, e);
  return map;
}

it('second backup hard-links unchanged files, stores only the changes, inherits hashes', async () => {
  const store = await tempDir();
  const vol = await makeVolume('bk-incr');
  // 400 small files in 4 folders + 4 large files of 16 MiB
  sh(`cd '${vol.mountpoint}' && for d in 0 1 2 3; do mkdir -p d$d; for i in $(seq 1 100); do head -c $((1000 + i * 37)) /dev/urandom > d$d/f$i.txt; done; done
`);
  for (const i of [1, 2, 3, 4]) bigFile(`${vol.mountpoint}/big${i}.bin`, 16);
  const config = testConfig(store);
  const first = await runBackup({ volumes: [vol.name], scope: volumesOnly }, config);
  expect(first.result.outcome).toBe('ok');
  if (first.result.value?.dryRun !== false) throw new Error('expected a backup');
  const firstDir = first.result.value.dir;

  // change 3 small files and one large one, add one, delete one
  sh(`cd '${vol.mountpoint}' && echo changed >> d0/f1.txt && echo changed >> d2/f50.txt && head -c 5000 /dev/urandom > d3/f100.txt
      echo new > d1/new.txt && rm d1/f7.txt`);
  bigFile(`${vol.mountpoint}/big4.bin`, 16);
  const second = await runBackup({ volumes: [vol.name], scope: volumesOnly }, config);
  expect(second.result.outcome).toBe('ok');
  if (second.result.value?.dryRun !== false) throw new Error('expected a backup');
  const secondDir = second.result.value.dir;
  const item = second.result.value.manifest.items.find((i): i is VolumeItem => i.kind === 'volume')!;
  expect(item.parent).toBe(first.result.value.id);
  expect(second.result.value.manifest.parent).toBe(first.result.value.id);

  const tree = (dir: string, p: string) => statSync(join(dir, 'volumes', vol.name, p));
  // unchanged: the very same inode as in the parent
  for (const p of ['d0/f2.txt', 'd3/f99.txt', 'big1.bin', 'big3.bin'])
    expect(tree(secondDir, p).ino).toBe(tree(firstDir, p).ino);
  // changed or new: a fresh copy
  for (const p of ['d0/f1.txt', 'd2/f50.txt', 'd3/f100.txt', 'big4.bin'])
    expect(tree(secondDir, p).ino).not.toBe(tree(firstDir, p).ino);
  expect(() => tree(secondDir, 'd1/f7.txt')).toThrow();
  expect(tree(secondDir, 'd1/new.txt').size).toBe(4);

  // on disk, the second backup adds about one large file plus the small changes, not 64 MiB
  const du = sh(`du -s -B1 '${firstDir}' '${secondDir}'`)
    .trim()
    .split('\n')
    .map((l) => Number(l.split('\t')[0]));
  expect(du[0]).toBeGreaterThan(64 * 1024 * 1024);
  expect(du[1]).toBeLessThan(16 * 1024 * 1024 + 4 * 1024 * 1024);
  expect(du[1]).toBeGreaterThan(16 * 1024 * 1024);

  // hashing work proportional to change: the log line says what was hashed
  const hashedLine = second.events.find((e) => e.type === 'log' && /hashed \d+/.test(e.msg));
  expect(hashedLine && hashedLine.type === 'log' ? hashedLine.msg : '').toMatch(/404 files, hashed 5 \(/);
  // inherited hashes are right: they match the parent's, and the whole backup verifies
  const [a, b] = [await indexOf(firstDir, vol.name), await indexOf(secondDir, vol.name)];
  expect(b.get('big1.bin')!.sha256).toBe(a.get('big1.bin')!.sha256);
  expect(b.get('big4.bin')!.sha256).not.toBe(a.get('big4.bin')!.sha256);
  const report = await verifyBackup(secondDir);
  expect(report.problems).toEqual([]);

  // --full copies everything afresh: no shared inodes, no parent
  const full = await runBackup({ volumes: [vol.name], scope: volumesOnly, full: true }, config);
  if (full.result.value?.dryRun !== false) throw new Error('expected a backup');
  expect(tree(full.result.value.dir, 'big1.bin').ino).not.toBe(tree(secondDir, 'big1.bin').ino);
  expect(full.result.value.manifest.parent).toBeUndefined();
});
