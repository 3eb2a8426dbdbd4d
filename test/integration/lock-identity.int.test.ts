// Run identity against the real engine: a recycled pid (this pid with another start time, or pid 1
// as for a daemon in a restarted container) never passes for the live run that recorded it. The
// helper sweep removes such a run's helpers and the stopped-containers journal starts what it left
// down; a live run's helpers stay; helpers are named after the run id.
import { writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { removeStaleHelpers } from '../../src/docker/helpers.js';
import { recoverStopped } from '../../src/hooks/stopped-journal.js';
import { currentRun, readStartTime } from '../../src/process-identity.js';
import { createTestContainer, testDocker } from '../helpers/docker.js';
import { makeVolume, runBackup, tempDir, testConfig, volumesOnly } from './backup-helpers.js';

const bump = (t: string | undefined) => String(Number(t ?? '0') + 1);
const recycledSelf = () => ({ ...currentRun(), runId: 'before-restart', startTime: bump(currentRun().startTime) });
const recycledPid1 = () => ({ ...currentRun(), runId: 'old-daemon', pid: 1, startTime: bump(readStartTime(1)) });

describe('run identity', () => {
  it("the helper sweep removes helpers of recycled pids, never a live run's", async () => {
    const docker = testDocker();
    const make = (labels: Record<string, string>) =>
      createTestContainer(docker, 'lock', { Labels: { 'bbackup.helper': '1', ...labels } }, false);
    const ofSelf = await make({
      'bbackup.owner': `${hostname()}:${process.pid}`,
      'bbackup.owner.run': JSON.stringify(recycledSelf()),
    });
    const ofPid1 = await make({
      'bbackup.owner': `${hostname()}:1`,
      'bbackup.owner.run': JSON.stringify(recycledPid1()),
    });
    const live = await make({
      'bbackup.owner': `${hostname()}:${process.pid}`,
      'bbackup.owner.run': JSON.stringify(currentRun()),
    });
    const oldFormatLive = await make({ 'bbackup.owner': `${hostname()}:${process.pid}` }); // cannot be proven dead: kept
    const removed = await removeStaleHelpers(docker);
    expect(removed).toEqual(expect.arrayContaining([ofSelf, ofPid1]));
    expect(removed).not.toContain(live);
    expect(removed).not.toContain(oldFormatLive);
  });

  it('a container left stopped by a run whose pid was recycled is started again', async () => {
    const docker = testDocker();
    const dir = await tempDir('bbt-lock-');
    const down = await createTestContainer(docker, 'lock', {}, false);
    const path = join(dir, '.stopped-containers.json');
    writeFileSync(
      path,
      JSON.stringify({
        stopped: [
          {
            container: down,
            pid: process.pid,
            machine: hostname(),
            stopped: new Date().toISOString(),
            run: recycledSelf(),
          },
        ],
      }),
    );
    expect(await recoverStopped(docker, path)).toEqual([down]);
    expect((await docker.getContainer(down).inspect()).State.Running).toBe(true);
  });

  it('helpers are named after the run id', async () => {
    const docker = testDocker();
    const vol = await makeVolume('lock');
    const events = await docker.getEvents({
      filters: { type: ['container'], event: ['create'], label: ['bbackup.helper=1'] },
    });
    const names: string[] = [];
    events.on('data', (b: Buffer) =>
      names.push(
        ...b
          .toString('utf8')
          .trim()
          .split('\n')
          .map((l) => (JSON.parse(l) as { Actor: { Attributes: { name: string } } }).Actor.Attributes.name),
      ),
    );
    const { result } = await runBackup(
      { volumes: [vol.name], scope: volumesOnly },
      testConfig(await tempDir('bbt-lock-'), { volumes: { mode: 'worker' } }),
    );
    expect(result.outcome).toBe('ok');
    // the create event was sent before the backup ended; wait for it to arrive here
    for (let i = 0; i < 400 && !names.some((n) => n.includes(currentRun().runId)); i++)
      await new Promise((r) => setTimeout(r, 25));
    (events as unknown as { destroy(): void }).destroy();
    expect(names.filter((n) => n.includes(currentRun().runId))).toEqual([
      expect.stringMatching(new RegExp(`^bbackup-helper-${currentRun().runId}-\\d+$`)),
    ]);
  });
});
