// The job API the TUI and the scheduler drive: same-second ids, pause (the running copy engine
// really stops), skip of the running item, hooks around each volume (their restore always runs),
// leftover helpers of dead runs cleaned (never a live run's), throttled progress with a rate.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { startBackup } from '../../src/jobs/backup-job.js';
import type { EngineEvent } from '../../src/events.js';
import { BUSYBOX_IMAGE } from '../helpers/names.js';
import { createTestContainer, createTestNetwork, testDocker, testLabels } from '../helpers/docker.js';
import { bigFile, connect, makeVolume, runBackup, sh, tempDir, testConfig, volumesOnly } from './backup-helpers.js';

/** bbcopy (the copy engine) processes started by this process. */
function copyChildren(): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8');
        return (
          cmd.split('\0')[0]!.endsWith('/bbcopy') &&
          /PPid:\s+(\d+)/.exec(readFileSync(`/proc/${d}/status`, 'utf8'))?.[1] === String(process.pid)
        );
      } catch {
        return false;
      }
    })
    .map(Number);
}
const procState = (pid: number) => readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '')[0];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('backup job', () => {
  it('two runs started in the same second get distinct ids', async () => {
    const store = await tempDir();
    const vol = await makeVolume('bk-ids');
    sh(`echo x > '${vol.mountpoint}/f'`);
    const config = testConfig(store);
    const now = () => new Date('2026-11-25T20:00:00.250Z');
    const [a, b] = await Promise.all([
      runBackup({ volumes: [vol.name], scope: volumesOnly, wait: true }, config, { now }),
      runBackup({ volumes: [vol.name], scope: volumesOnly, wait: true }, config, { now }),
    ]);
    const c = await runBackup({ volumes: [vol.name], scope: volumesOnly }, config, { now });
    const ids = [a, b, c].map((r) =>
      r.result.value?.dryRun === false ? r.result.value.id : r.result.errors[0]?.message,
    );
    expect(ids.slice(0, 2).sort()).toEqual(['20261125T200000Z', '20261125T200000Z-2']);
    expect(ids[2]).toBe('20261125T200000Z-3');
  });

  it('pause stops the running copy engine and resume finishes the backup; progress is throttled and has a rate', async () => {
    const store = await tempDir();
    const vol = await makeVolume('bk-pause');
    bigFile(`${vol.mountpoint}/big`, 300);
    const config = testConfig(store, { volumes: { mode: 'host' } });
    const events: { at: number; e: EngineEvent }[] = [];
    let stoppedSeen = false;
    const job = startBackup(
      { volumes: [vol.name], scope: volumesOnly },
      {
        config,
        docker: await connect(config),
        emit: (e) => {
          events.push({ at: Date.now(), e });
          if (e.type === 'item.progress' && e.bytes > 0 && !job.paused && !stoppedSeen) {
            job.pause();
            void (async () => {
              await sleep(200);
              const pids = copyChildren();
              stoppedSeen = pids.length > 0 && pids.every((p) => procState(p) === 'T');
              job.resume();
            })();
          }
        },
      },
    );
    const result = await job.done;
    expect(result.outcome).toBe('ok');
    expect(stoppedSeen).toBe(true);
    const types = events.map((x) => x.e.type);
    expect(types).toContain('job.paused');
    expect(types.indexOf('job.resumed')).toBeGreaterThan(types.indexOf('job.paused'));
    const progress = events.filter((x) => x.e.type === 'item.progress');
    expect(progress.some((x) => x.e.type === 'item.progress' && x.e.rate !== undefined && x.e.rate > 0)).toBe(true);
    for (let i = 1; i < progress.length; i++) expect(progress[i]!.at - progress[i - 1]!.at).toBeGreaterThanOrEqual(90);
  });

  it('skip ends the running volume as skipped (partial), the hook restore runs every time', async () => {
    const store = await tempDir();
    const slow = await makeVolume('bk-skip');
    bigFile(`${slow.mountpoint}/big`, 300);
    const fine = await makeVolume('bk-skip-ok');
    sh(`echo ok > '${fine.mountpoint}/f'`);
    const config = testConfig(store, { volumes: { mode: 'host', concurrency: 1 } });
    const calls: string[] = [];
    const job = startBackup(
      { volumes: [slow.name, fine.name], scope: volumesOnly },
      {
        config,
        docker: await connect(config),
        hooks: {
          beforeVolume: async (v, containers, signal) => {
            calls.push(`before ${v.name} ${containers.length} ${signal.aborted}`);
            return async () => void calls.push(`restore ${v.name}`);
          },
        },
        emit: (e) => {
          if (e.type === 'item.progress' && e.item === `volume ${slow.name}` && e.bytes > 0)
            job.skip(`volume ${slow.name}`);
        },
      },
    );
    const result = await job.done;
    expect(result.outcome).toBe('partial');
    expect(result.errors).toEqual([{ item: `volume ${slow.name}`, code: 'SKIPPED', message: 'skipped by user' }]);
    expect(calls).toEqual([
      `before ${slow.name} 0 false`,
      `restore ${slow.name}`,
      `before ${fine.name} 0 false`,
      `restore ${fine.name}`,
    ]);
    if (result.value?.dryRun !== false) throw new Error('expected a backup');
    expect(readdirSync(`${result.value.dir}/volumes`).sort()).toEqual([fine.name, `${fine.name}.index.jsonl`]);
  });

  it("saves each container's full inspect and its last log lines (stdout+stderr, timestamps), and the networks used", async () => {
    const docker = testDocker();
    const store = await tempDir();
    const talker = await createTestContainer(docker, 'bk-talk', {
      Cmd: [
        'sh',
        '-c',
        'for i in 1 2 3 4 5; do echo out$i; echo err$i >&2; done; trap "exit 0" TERM; while true; do sleep 1; done',
      ],
    });
    const net = await createTestNetwork(docker, 'bk-net');
    const onNet = await createTestContainer(docker, 'bk-onnet', { HostConfig: { NetworkMode: net } }, false);
    // wait until the engine holds all 10 lines, however slow the machine
    for (let text = ''; !(text.includes('out5') && text.includes('err5')); await sleep(100)) {
      text = String(await docker.getContainer(talker).logs({ stdout: true, stderr: true, follow: false }));
    }
    // 10 lines were written; stdout and stderr are interleaved by the engine in no fixed order.
    const config = testConfig(store, { logs: { lines: 6 } });
    const { result } = await runBackup({ containers: [talker, onNet] }, config);
    expect(result.errors).toEqual([]);
    if (result.value?.dryRun !== false) throw new Error('expected a backup');
    const dir = result.value.dir;
    const inspect = JSON.parse(readFileSync(`${dir}/containers/${talker}/inspect.json`, 'utf8')) as {
      Name: string;
      Config: { Cmd: string[] };
    };
    expect(inspect.Name).toBe(`/${talker}`);
    const logs = readFileSync(`${dir}/containers/${talker}/logs.txt`, 'utf8').trim().split('\n');
    expect(logs).toHaveLength(6);
    for (const line of logs) expect(line).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z (out|err)[1-5]$/);
    // 6 of 10 lines, 5 per stream: both streams must be there.
    expect(logs.some((l) => / err\d$/.test(l)) && logs.some((l) => / out\d$/.test(l))).toBe(true);
    expect(logs.some((l) => l.endsWith('err5'))).toBe(true);
    expect(JSON.parse(readFileSync(`${dir}/networks/${net}.json`, 'utf8'))).toMatchObject({
      Name: net,
      Internal: true,
    });
    const items = result.value.manifest.items.map((i) => `${i.kind} ${i.name}`);
    // the test busybox image was built here (no RepoDigests): backup.images local saves it too
    const busybox = (await testDocker().getImage(BUSYBOX_IMAGE).inspect()).Id;
    expect(items).toEqual([
      `container ${onNet}`,
      `container ${talker}`,
      `network ${net}`,
      `image ${busybox}`,
      'metadata metadata',
    ]);
    // the metadata archive holds the definitions and a manifest copy
    const listing = sh(`tar --zstd -tf '${dir}/metadata.tar.zst'`);
    expect(listing).toContain(`containers/${talker}/logs.txt`);
    expect(listing).toContain(`networks/${net}.json`);
    expect(listing).toContain('manifest.json');
  });

  it("removes helper containers of dead runs on this host, never a live run's", async () => {
    const docker = testDocker();
    const store = await tempDir();
    const vol = await makeVolume('bk-helpers');
    const make = async (owner: string) =>
      docker.createContainer({
        Image: BUSYBOX_IMAGE,
        Cmd: ['true'],
        Labels: testLabels({ 'bbackup.helper': '1', 'bbackup.owner': owner }),
        HostConfig: { NetworkMode: 'none' },
      });
    const dead = await make(`${hostname()}:${2 ** 22 + 4321}`);
    const live = await make(`${hostname()}:${process.pid}`);
    const elsewhere = await make(`some-other-machine:${2 ** 22 + 4321}`);
    try {
      const { result } = await runBackup(
        { volumes: [vol.name], scope: volumesOnly },
        testConfig(store, { volumes: { mode: 'worker' } }),
      );
      expect(result.outcome).toBe('ok');
      const left = (await docker.listContainers({ all: true, filters: { label: ['bbackup.helper=1'] } })).map(
        (c) => c.Id,
      );
      expect(left).not.toContain(dead.id);
      expect(left).toContain(live.id);
      expect(left).toContain(elsewhere.id);
    } finally {
      for (const c of [dead, live, elsewhere]) await c.remove({ force: true }).catch(() => undefined);
    }
  });
});
