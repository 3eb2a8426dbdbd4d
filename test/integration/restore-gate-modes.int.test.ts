// The archive gate in the two modes where another tar extracts: `worker` (GNU tar in a helper
// container, fed on stdin) and `stream` (the engine's own extraction, putArchive). An archive
// swapped after the preflight with a device node and a write through a symlink is refused before
// tar or the engine sees those entries; the volume holds neither; no helper is left. The same
// archive unchanged restores in both modes.
import { lstat, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HELPER_LABEL } from '../../src/restore/helper.js';
import { checkArchive } from '../../src/restore/archive-check.js';
import { fillVolume } from '../../src/restore/volume.js';
import type { VolumeItem } from '../../src/store/manifest.js';
import { createTestVolume, testDocker, testLabels } from '../helpers/docker.js';
import { TEST_LABEL, testRunId, WORKER_IMAGE } from '../helpers/names.js';
import { cleanupAfter } from '../helpers/restore.js';
import { mountpointOf } from '../helpers/volume-data.js';
import { archive, entry, file, symlink } from '../helpers/tar-build.js';

let tmp: string;
let docker: Docker;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'bbt-untr-modes-'));
  docker = testDocker();
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
const good = archive(entry({ name: './', type: '5', mode: 0o755 }), file('data.txt', 'checked'), symlink('l', '/etc'));
const evil = archive(
  entry({ name: './', type: '5', mode: 0o755 }),
  file('data.txt', 'checked'),
  entry({ name: 'sda', type: '3', edit: (h) => h.write('0000010\0', 329, 'latin1') }),
  symlink('l', '/etc'),
  file('l/pwned', 'x'),
);

async function restoreSwapped(mode: 'worker' | 'stream', swapTo: Buffer): Promise<{ error: unknown; volume: string }> {
  const source = join(tmp, `${mode}-${swapTo === good ? 'good' : 'evil'}.tar`);
  await writeFile(source, good);
  const first = await checkArchive(source, 'none');
  expect(first.problems).toEqual([]);
  await writeFile(source, swapTo);
  const volume = await createTestVolume(docker, 'untr');
  cleanupAfter(docker, { volumes: [volume] });
  const error = await fillVolume(
    {
      docker,
      item,
      source,
      volume,
      mode,
      workerImage: WORKER_IMAGE,
      helperLabels: testLabels(),
      signal: AbortSignal.timeout(300_000),
      onBytes: () => undefined,
      checkedSha256: first.sha256,
    },
    undefined,
  ).then(
    () => undefined,
    (err: unknown) => err,
  );
  return { error, volume };
}

const helpersLeft = async () =>
  (await docker.listContainers({ all: true, filters: { label: [HELPER_LABEL, `${TEST_LABEL}=${testRunId()}`] } }))
    .length;

describe.each(['worker', 'stream'] as const)('%s mode', (mode) => {
  it('an archive swapped after the check: refused by the gate, no device node, nothing through the symlink', async () => {
    const { error, volume } = await restoreSwapped(mode, evil);
    expect(error).toMatchObject({
      code: 'INTEGRITY',
      message: expect.stringMatching(/entry "sda": character device node/),
    });
    const mp = await mountpointOf(docker, volume);
    expect(await readdir(mp)).not.toContain('sda');
    expect(await readdir(mp)).not.toContain('pwned');
    expect(await helpersLeft()).toBe(0);
  });

  it('the same archive unchanged restores', async () => {
    const { error, volume } = await restoreSwapped(mode, good);
    expect(error).toBeUndefined();
    const mp = await mountpointOf(docker, volume);
    expect((await readdir(mp)).sort()).toEqual(['data.txt', 'l']);
    expect((await lstat(join(mp, 'l'))).isSymbolicLink()).toBe(true);
  });
});
