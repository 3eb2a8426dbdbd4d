// One pass per byte (README "The copy engine"): the sha256 the backup records while it copies
// (tree: the index bbcopy writes; archive: the stored file hashed as it is written) equals a fresh
// sha256 of every stored file, for full and incremental trees and for archives, in host, worker
// and stream mode. Incremental runs read only what changed: the rest is hard-linked to the parent
// snapshot and keeps the parent's proven hash; stream mode takes every hash from the stream itself.
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EngineEvent } from '../../src/events.js';
import type { IndexEntry, Manifest } from '../../src/store/manifest.js';
import { bigFile, makeVolume, runBackup, sh, tempDir, testConfig, volumesOnly } from './backup-helpers.js';

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

function fill(mountpoint: string): void {
  sh(`cd '${mountpoint}'
    mkdir -p docs/deep empty
    for i in $(seq 1 40); do printf 'note %s\\n' "$i" > "docs/n$i.txt"; done
    printf 'same size A' > docs/deep/x && printf 'kept' > docs/deep/y
    ln docs/deep/y docs/deep/y-link
    truncate -s 8M sparse && printf 'tail' >> sparse
    ln -s docs/n1.txt link && mkfifo fifo`);
  bigFile(`${mountpoint}/big.bin`, 3);
}

/** Every file the manifest names and every file the tree indexes: the recorded hash vs a fresh one. */
function checkStored(dir: string, manifest: Manifest): { files: number } {
  let files = 0;
  for (const item of manifest.items) {
    for (const f of item.files) {
      expect({ path: f.path, size: statSync(join(dir, f.path)).size, sha256: sha256(join(dir, f.path)) }).toEqual({
        path: f.path,
        size: f.size,
        sha256: f.sha256,
      });
      files++;
    }
    if (item.kind !== 'volume' || item.format !== 'tree') continue;
    const lines = readFileSync(join(dir, 'volumes', `${item.name}.index.jsonl`), 'utf8')
      .split('\n')
      .filter(Boolean);
    for (const e of lines.map((l) => JSON.parse(l) as IndexEntry).filter((x) => x.t === 'f')) {
      const path = join(dir, 'volumes', item.name, e.p);
      expect({ p: e.p, size: statSync(path).size, sha256: sha256(path) }).toEqual({
        p: e.p,
        size: e.size,
        sha256: e.sha256,
      });
      files++;
    }
  }
  return { files };
}

/** bbcopy's own account of a tree volume, from the engine's debug line. */
function copyStats(events: EngineEvent[], volume: string): { files: number; hashed: number; linked: number } {
  const line = events.find(
    (e): e is Extract<EngineEvent, { type: 'log' }> =>
      e.type === 'log' && e.msg.startsWith(`volume ${volume}: `) && e.msg.includes(' hashed '),
  );
  const m = /: (\d+) files, hashed (\d+) .* linked (\d+) to the parent/.exec(line?.msg ?? '');
  if (!m) throw new Error(`no copy summary for ${volume} in the events`);
  return { files: Number(m[1]), hashed: Number(m[2]), linked: Number(m[3]) };
}

const backupValue = (r: Awaited<ReturnType<typeof runBackup>>) => {
  expect(r.result.errors).toEqual([]);
  if (r.result.value?.dryRun !== false) throw new Error('expected a backup');
  return r.result.value;
};

describe.each(['host', 'worker', 'stream'] as const)('one pass per byte in %s mode', (mode) => {
  it('tree, full then incremental: every recorded sha256 equals a fresh one; unchanged files are neither read nor copied', async () => {
    const store = await tempDir('bbt-spd-');
    const vol = await makeVolume(`spd-tree-${mode}`);
    fill(vol.mountpoint);
    const config = testConfig(store, { volumes: { mode } });
    const full = await runBackup({ volumes: [vol.name], scope: volumesOnly }, config);
    const first = backupValue(full);
    expect(checkStored(first.dir, first.manifest).files).toBeGreaterThan(45);
    const f = copyStats(full.events, vol.name);
    expect(f.linked).toBe(0);
    // stream mode hashed every file as the stream passed: bbcopy read none of them again;
    // elsewhere each file was read once (the second name of docs/deep/y is a link, not a read)
    expect(f.hashed).toBe(mode === 'stream' ? 0 : f.files - 1);

    // change two files (one with the same size), add one
    sh(
      `cd '${vol.mountpoint}' && printf 'same size B' > docs/deep/x && touch -d '2001-01-01' docs/deep/x && echo changed >> docs/n7.txt && echo new > added`,
    );
    const inc = await runBackup({ volumes: [vol.name], scope: volumesOnly }, config);
    const second = backupValue(inc);
    expect(second.manifest.parent).toBe(first.manifest.id);
    checkStored(second.dir, second.manifest);
    const i = copyStats(inc.events, vol.name);
    expect(i.files).toBe(f.files + 1);
    // hard links inside the volume are one file for the parent link (docs/deep/y + y-link)
    expect(i.linked).toBe(f.files - 2 - 1);
    expect(i.hashed).toBe(mode === 'stream' ? 0 : 3);
    const tree = (dir: string, p: string) => statSync(join(dir, 'volumes', vol.name, p));
    expect(tree(second.dir, 'big.bin').ino).toBe(tree(first.dir, 'big.bin').ino);
    expect(tree(second.dir, 'docs/deep/y-link').ino).toBe(tree(first.dir, 'docs/deep/y').ino);
    expect(tree(second.dir, 'docs/deep/x').ino).not.toBe(tree(first.dir, 'docs/deep/x').ino);
  });

  it('archive: the stored archive hashes to the manifest sha256', async () => {
    const store = await tempDir('bbt-spd-');
    const vol = await makeVolume(`spd-arch-${mode}`);
    fill(vol.mountpoint);
    const r = await runBackup(
      { volumes: [vol.name], scope: volumesOnly },
      testConfig(store, { volumes: { mode, format: 'archive' } }),
    );
    const v = backupValue(r);
    const item = v.manifest.items.find((x) => x.kind === 'volume')!;
    expect(item.files[0]!.path).toMatch(/\.tar\.zst$/);
    expect(checkStored(v.dir, v.manifest).files).toBe(v.manifest.items.reduce((n, x) => n + x.files.length, 0));
  });
});
