// Durability (issue 10, item 4; src/store/durable.ts): the flush of a finished backup runs before
// the rename that completes it, a failed flush fails the backup clearly and leaves no backup that
// looks complete, and with the real flush a backup completes and verifies. The flush is injected
// through BackupDeps.syncStore (a dependency, not a mock of the filesystem): the spy looks at the
// store as the flush sees it, then runs the real syncfs.
import { access, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { syncFilesystem } from '../../src/store/durable.js';
import { hostDir as hostDirOf } from '../../src/store/layout.js';
import { verifyBackup } from '../../src/store/verify.js';
import { createTestVolume, testDocker } from '../helpers/docker.js';
import { bigFile, connect, runBackup, sh, tempDir, testConfig, volumesOnly } from './backup-helpers.js';

const docker = testDocker();
const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

async function filledVolume(): Promise<string> {
  const name = await createTestVolume(docker, 'dur');
  const { Mountpoint } = (await docker.getVolume(name).inspect()) as { Mountpoint: string };
  sh(`mkdir -p '${Mountpoint}/sub' && printf hello > '${Mountpoint}/sub/a'`);
  bigFile(join(Mountpoint, 'big'), 8);
  return name;
}

describe.each(['tree', 'archive'] as const)('the flush before completion (%s)', (format) => {
  it('runs on the whole .partial folder, before the rename, and the backup completes and verifies', async () => {
    const store = await tempDir('bbt-dur-');
    const volume = await filledVolume();
    const config = testConfig(store, { volumes: { mode: 'host', format } });
    const host = hostDirOf(store, (await connect(config)).hostName);
    const seen: { dir: string; entries: string[]; finalIds: string[] }[] = [];
    const { result } = await runBackup({ volumes: [volume], scope: volumesOnly }, config, {
      syncStore: async (dir, signal) => {
        seen.push({
          dir,
          entries: (await readdir(dir)).sort(),
          finalIds: (await readdir(host)).filter((n) => /^\d{8}T\d{6}Z(-\d+)?$/.test(n)),
        });
        await syncFilesystem(dir, signal);
      },
    });
    expect(result.errors).toEqual([]);
    if (result.value?.dryRun !== false) throw new Error('expected a backup');
    const { id, dir } = result.value;
    // once, on <id>.partial, with everything already written, and <id> not there yet
    expect(seen).toEqual([
      { dir: join(host, `${id}.partial`), entries: ['manifest.json', 'metadata.tar.zst', 'volumes'], finalIds: [] },
    ]);
    expect(await exists(join(host, `${id}.partial`))).toBe(false);
    expect((await verifyBackup(dir)).problems).toEqual([]);
  });
});

describe('a flush that fails', () => {
  it('fails the backup with a clear DISK error, leaves no backup and no .partial, and keeps earlier backups', async () => {
    const store = await tempDir('bbt-dur-');
    const volume = await filledVolume();
    const config = testConfig(store, { volumes: { mode: 'host', format: 'tree' } });
    const earlier = await runBackup({ volumes: [volume], scope: volumesOnly }, config);
    if (earlier.result.value?.dryRun !== false) throw new Error('expected a backup');
    const host = hostDirOf(store, earlier.result.value.manifest.host);
    const before = (await readdir(host)).sort();

    const { result, events } = await runBackup({ volumes: [volume], scope: volumesOnly }, config, {
      now: () => new Date(Date.now() + 5_000), // another second: another id
      syncStore: async () => {
        throw Object.assign(new Error('EIO: i/o error, syncfs'), { code: 'EIO' });
      },
    });
    expect(result.outcome).toBe('failed');
    expect(result.errors).toEqual([
      {
        item: 'backup',
        code: 'DISK',
        message: expect.stringMatching(
          /^could not flush backup \d{8}T\d{6}Z to disk, so it was not completed: EIO: i\/o error, syncfs; the unfinished backup was removed, earlier backups are untouched$/,
        ),
      },
    ]);
    expect(events.find((e) => e.type === 'job.end')).toMatchObject({ outcome: 'failed' });
    expect((await readdir(host)).sort()).toEqual(before);
    expect((await verifyBackup(earlier.result.value.dir)).problems).toEqual([]);
  });

  it('syncFilesystem itself reports a failing sync as DISK, naming the folder', async () => {
    const missing = join(await tempDir('bbt-dur-'), 'gone');
    await expect(syncFilesystem(missing, AbortSignal.timeout(10_000))).rejects.toMatchObject({
      code: 'DISK',
      message: expect.stringContaining(`could not flush ${missing} to disk (sync -f)`),
    });
  });
});
