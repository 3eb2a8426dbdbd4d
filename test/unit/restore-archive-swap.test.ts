// An archive swapped between restore's check and its extraction (a copied backup folder, a disk
// someone else can write): the check passed the first file, tar must never see the second one's
// unchecked entries. The real GNU tar extracts into a folder standing in for a volume (host mode).
import { lstat, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkArchive } from '../../src/restore/archive-check.js';
import { fillVolume, type FillOptions } from '../../src/restore/volume.js';
import type { VolumeItem } from '../../src/store/manifest.js';
import { testDocker } from '../helpers/docker.js';
import { archive, entry, file, symlink } from '../helpers/tar-build.js';

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'bbt-untr-swap-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const item: VolumeItem = {
  kind: 'volume',
  name: 'v',
  driver: 'local',
  labels: {},
  options: {},
  usedBy: [],
  format: 'archive',
  compression: 'none',
  bytes: 1,
  fileCount: 1,
  files: [],
};

async function swapAndRestore(
  name: string,
  checked: Buffer,
  swapped: Buffer,
): Promise<{ error: unknown; target: string }> {
  const source = join(tmp, `${name}.tar`);
  await writeFile(source, checked);
  const first = await checkArchive(source, 'none');
  expect(first.problems).toEqual([]);
  await writeFile(source, swapped); // after the check, before the extraction
  const target = join(tmp, `${name}-volume`);
  await mkdir(target);
  const o: FillOptions = {
    docker: testDocker(),
    item,
    source,
    volume: 'v',
    mode: 'host',
    workerImage: 'unused',
    signal: AbortSignal.timeout(60_000),
    onBytes: () => undefined,
    checkedSha256: first.sha256,
  };
  const error = await fillVolume(o, target).then(
    () => undefined,
    (err: unknown) => err,
  );
  return { error, target };
}

describe('an archive swapped after the preflight', () => {
  it('with a device node and a write through a symlink: refused by the gate, neither lands', async () => {
    const outside = join(tmp, 'outside');
    await mkdir(outside);
    const good = archive(file('data.txt', 'checked'));
    const evil = archive(
      file('data.txt', 'checked'),
      entry({ name: 'sda', type: '3', edit: (h) => h.write('0000010\0', 329, 'latin1') }),
      symlink('l', outside),
      file('l/pwned', 'x'),
    );
    const { error, target } = await swapAndRestore('device', good, evil);
    expect(error).toMatchObject({
      code: 'INTEGRITY',
      message: expect.stringMatching(/entry "sda": character device node/),
    });
    expect(await readdir(target)).toEqual(['data.txt']);
    expect(await readdir(outside)).toEqual([]);
  });

  it('with the same entries but other bytes: the restore fails naming the changed file', async () => {
    const { error } = await swapAndRestore(
      'bytes',
      archive(file('data.txt', 'checked')),
      archive(file('data.txt', 'CHANGED')),
    );
    expect(error).toMatchObject({ code: 'INTEGRITY', message: expect.stringMatching(/changed after it was checked/) });
  });

  it('unchanged: restored, and the symlink stays a symlink', async () => {
    const tar = archive(file('a', 'x'), symlink('l', '/etc'));
    const { error, target } = await swapAndRestore('same', tar, tar);
    expect(error).toBeUndefined();
    expect((await lstat(join(target, 'l'))).isSymbolicLink()).toBe(true);
  });
});
