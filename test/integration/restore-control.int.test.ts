// Pause, skip and cancel of a restore job against the real engine: nothing starts while paused, a
// skipped or cancelled volume leaves no half-filled volume behind, and a container that needs a
// skipped volume is skipped too.
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineEvent } from '../../src/events.js';
import { parseRenames } from '../../src/restore/renames.js';
import { startRestore } from '../../src/restore/restore-job.js';
import { createTestVolume, testDocker, testLabels } from '../helpers/docker.js';
import { makeFixtureBackup } from '../helpers/fixture-backup.js';
import { BUSYBOX_IMAGE, testName } from '../helpers/names.js';
import { cleanupAfter, request } from '../helpers/restore.js';
import { mountpointOf } from '../helpers/volume-data.js';

let tmp: string;
let docker: Docker;
let backup: { dir: string; c: string; v: string };
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'bbt-rs-'));
  docker = testDocker();
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
  if (backup) {
    await docker
      .getContainer(backup.c)
      .remove({ force: true })
      .catch(() => undefined);
    await docker
      .getVolume(backup.v)
      .remove()
      .catch(() => undefined);
  }
});

const exists = (kind: 'volume' | 'container', name: string) =>
  (kind === 'volume' ? docker.getVolume(name).inspect() : docker.getContainer(name).inspect()).then(
    () => true,
    () => false,
  );

/** A container with a 600 MB volume (random data: a restore of it takes long enough to act on). */
async function bigBackup(): Promise<{ dir: string; c: string; v: string }> {
  // Made once for the file (beforeAll), so removed in afterAll rather than per test.
  const [v, c] = [testName('rs'), testName('rs')];
  await docker.createVolume({ Name: v, Labels: testLabels() });
  const mp = await mountpointOf(docker, v);
  for (const n of [1, 2, 3])
    await execa('dd', ['if=/dev/urandom', `of=${join(mp, `big${n}.bin`)}`, 'bs=1M', 'count=200', 'status=none']);
  await docker.createContainer({
    name: c,
    Image: BUSYBOX_IMAGE,
    Cmd: ['true'],
    Labels: testLabels(),
    HostConfig: { NetworkMode: 'none', Binds: [`${v}:/data`] },
  });
  const dir = join(tmp, `20261125T23000${Math.floor(Math.random() * 10)}Z`);
  await makeFixtureBackup(docker, { dir, containers: [c], volumes: [v] });
  return { dir, c, v };
}

function restoreAs(b: { dir: string; c: string; v: string }, events: EngineEvent[]) {
  const [c2, v2] = [testName('rs'), testName('rs')];
  cleanupAfter(docker, { containers: [c2], volumes: [v2] });
  const job = startRestore(
    request(b.dir, { containers: [b.c], renames: parseRenames([`${b.c}:${c2}`, `${b.v}:${v2}`]), verify: false }),
    {
      docker,
      localEngine: true,
      helperLabels: testLabels(),
      emit: (e) => events.push(e),
    },
  );
  return { job, c2, v2 };
}

const firstProgress = (events: EngineEvent[], item: string) =>
  new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      if (events.some((e) => e.type === 'item.progress' && e.item === item && e.bytes > 0)) {
        clearInterval(timer);
        resolve();
      }
    }, 5);
  });

describe('large archives stream', () => {
  it.each(['host', 'stream'] as const)(
    '%s mode: 300 MB of tar through the decompressor, nothing held in memory',
    async (mode) => {
      const v = await createTestVolume(docker, 'rs');
      const mp = await mountpointOf(docker, v);
      // Compressible but not zero (tar --sparse would turn zeros into holes): a small archive, a big stream.
      await execa('sh', ['-c', `head -c 314572800 /dev/zero | tr '\\0' 'a' > '${join(mp, 'big.txt')}'`]);
      const dir = join(tmp, '20261125T231000Z');
      await makeFixtureBackup(docker, { dir, volumes: [v], format: 'archive', compression: 'zstd' });
      const v2 = testName('rs');
      cleanupAfter(docker, { volumes: [v2] });
      const before = process.memoryUsage().rss;
      let peak = before;
      const tick = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
      const result = await startRestore(request(dir, { volumes: [v], renames: parseRenames([`${v}:${v2}`]) }), {
        docker,
        localEngine: true,
        volumeMode: mode,
        helperLabels: testLabels(),
      }).done.finally(() => clearInterval(tick));
      expect(result.errors).toEqual([]);
      const st = await stat(join(await mountpointOf(docker, v2), 'big.txt'));
      expect(st.size).toBe(314572800);
      expect(peak - before).toBeLessThan(100 * 1024 * 1024);
    },
  );
});

describe('restore job control', () => {
  beforeAll(async () => {
    backup = await bigBackup();
  });

  it('paused: nothing is created until resumed', async () => {
    const events: EngineEvent[] = [];
    const { job, v2, c2 } = restoreAs(backup, events);
    job.pause();
    expect(job.paused).toBe(true);
    await new Promise((r) => setTimeout(r, 800));
    expect(await exists('volume', v2)).toBe(false);
    expect(events.some((e) => e.type === 'job.paused')).toBe(true);
    job.resume();
    const result = await job.done;
    expect(result.outcome).toBe('ok');
    expect(await exists('container', c2)).toBe(true);
  });

  it('skip the running volume: it is removed, its container is skipped, outcome partial', async () => {
    const events: EngineEvent[] = [];
    const { job, v2, c2 } = restoreAs(backup, events);
    await firstProgress(events, `volume ${v2}`);
    job.skip();
    const result = await job.done;
    expect(result.outcome).toBe('partial');
    const skipped = events
      .filter((e) => e.type === 'item.skipped')
      .map((e) => `${(e as { item: string }).item}: ${(e as { reason: string }).reason}`);
    expect(skipped).toEqual([
      `volume ${v2}: skipped by user`,
      `container ${c2}: needs volume ${v2}, which was not restored`,
    ]);
    expect(await exists('volume', v2)).toBe(false);
    expect(await exists('container', c2)).toBe(false);
  });

  it('cancel mid-volume: outcome cancelled, nothing half-made left', async () => {
    const events: EngineEvent[] = [];
    const { job, v2, c2 } = restoreAs(backup, events);
    await firstProgress(events, `volume ${v2}`);
    job.cancel();
    const result = await job.done;
    expect(result.outcome).toBe('cancelled');
    expect(events.at(-1)).toMatchObject({ type: 'job.end', outcome: 'cancelled' });
    expect(await exists('volume', v2)).toBe(false);
    expect(await exists('container', c2)).toBe(false);
  });
});
