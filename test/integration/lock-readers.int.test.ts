// Readers against the real engine: a worker-mode restore in progress (paused after its checks)
// while `bbackup rotate` would remove its backup: the backup stays, shown as in use, and the
// restore brings back the right data; the next rotation removes it. And a helper whose source
// folder vanished fails with a clear error instead of restoring an empty volume.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EngineEvent } from '../../src/events.js';
import { parseRenames } from '../../src/restore/renames.js';
import { startRestore, type RestoreDeps } from '../../src/restore/restore-job.js';
import { runCli } from '../helpers/cli.js';
import { testDocker, testLabels } from '../helpers/docker.js';
import { testName, WORKER_IMAGE } from '../helpers/names.js';
import { cleanupAfter, request } from '../helpers/restore.js';
import { mountpointOf } from '../helpers/volume-data.js';
import { makeVolume, runBackup, sh, tempDir, testConfig, volumesOnly } from './backup-helpers.js';

interface Decision {
  id: string;
  keep: boolean;
  reasons: string[];
}

/** Start a worker-mode restore of `volume` from `dir` into a new volume, paused once its checks are done. */
async function pausedRestore(dir: string, volume: string, extra: Partial<RestoreDeps> = {}) {
  const docker = testDocker();
  const target = testName('lock');
  cleanupAfter(docker, { volumes: [target] });
  let checked!: () => void;
  const ready = new Promise<void>((r) => (checked = r));
  const events: EngineEvent[] = [];
  const job = startRestore(request(dir, { volumes: [volume], renames: parseRenames([`${volume}:${target}`]) }), {
    docker,
    localEngine: true,
    volumeMode: 'worker',
    workerImage: WORKER_IMAGE,
    helperLabels: testLabels(),
    ...extra,
    emit: (e) => {
      events.push(e);
      if (e.type === 'item.done' && e.item === 'verify backup') checked();
    },
  });
  job.pause(); // the gate closes before the first item: the job waits there, its backup checked
  await ready;
  return { job, target, events };
}

async function twoBackups(area: string) {
  const store = await tempDir('bbt-lock-');
  const config = testConfig(store, { volumes: { mode: 'host' } });
  const vol = await makeVolume(area);
  sh(`printf old-data > '${vol.mountpoint}/f'; mkdir -p '${vol.mountpoint}/d'; printf deep > '${vol.mountpoint}/d/g'`);
  const old = await runBackup({ volumes: [vol.name], scope: volumesOnly }, config, {
    now: () => new Date('2020-01-01T00:00:00Z'),
  });
  sh(`printf new-data > '${vol.mountpoint}/f'`);
  const fresh = await runBackup({ volumes: [vol.name], scope: volumesOnly }, config);
  const value = (r: typeof old) => (r.result.value?.dryRun === false ? r.result.value : undefined)!;
  return { store, vol, old: value(old), fresh: value(fresh) };
}

describe('readers and rotation', () => {
  it(
    'a restore in progress keeps its backup through `bbackup rotate` and restores the right data',
    { timeout: 300_000 },
    async () => {
      const { store, vol, old, fresh } = await twoBackups('lock');
      const cfg = join(store, 'rotate.yaml');
      writeFileSync(
        cfg,
        `backup:\n  store: ${store}\nretention:\n  last: 1\n  daily: 0\n  weekly: 0\n  monthly: 0\n  yearly: 0\n`,
      );

      const { job, target } = await pausedRestore(old.dir, vol.name, { store });
      const rotate = await runCli(['-c', cfg, '--json', 'rotate']);
      expect(rotate.exitCode, rotate.stderr).toBe(0);
      const decisions = (
        JSON.parse(rotate.stdout) as { reports: { plan: { decisions: Decision[] } }[] }
      ).reports.flatMap((r) => r.plan.decisions);
      expect(decisions.find((d) => d.id === old.id)).toMatchObject({
        keep: true,
        reasons: [`in use by restore pid ${process.pid}`],
      });
      expect(existsSync(join(old.dir, 'manifest.json'))).toBe(true);

      job.resume();
      const result = await job.done;
      expect(result.outcome, JSON.stringify(result.errors)).toBe('ok');
      const restored = await mountpointOf(testDocker(), target);
      expect(readFileSync(join(restored, 'f'), 'utf8')).toBe('old-data');
      expect(readFileSync(join(restored, 'd/g'), 'utf8')).toBe('deep');

      // the reader is gone: the next rotation removes the old backup, keeps the newest
      const again = await runCli(['-c', cfg, '--json', 'rotate']);
      expect(again.exitCode, again.stderr).toBe(0);
      expect(existsSync(old.dir)).toBe(false);
      expect(existsSync(fresh.dir)).toBe(true);
    },
  );

  it(
    'a helper whose source folder vanished fails clearly instead of restoring an empty volume',
    { timeout: 300_000 },
    async () => {
      const { old, vol } = await twoBackups('lock');
      // no store given: nothing protects this backup (like a copy on a USB disk that was unplugged)
      const { job, events } = await pausedRestore(old.dir, vol.name);
      await rm(old.dir, { recursive: true, force: true });
      job.resume();
      const result = await job.done;
      expect(result.outcome).toBe('failed');
      expect(result.errors.map((e) => e.message).join('\n')).toMatch(/the backup files .* are gone/);
      expect(events.some((e) => e.type === 'item.done' && e.item.startsWith('volume'))).toBe(false);
      expect(existsSync(old.dir)).toBe(false); // Docker did not create the source folder empty
    },
  );
});
