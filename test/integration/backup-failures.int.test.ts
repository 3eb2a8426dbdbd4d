// When things break mid-run the backup says what happened, keeps what it could (exit 4) or
// nothing at all (exit 3), and never touches earlier backups: a killed copy engine, a container
// removed while the job runs, and a store that fills up.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startBackup } from '../../src/jobs/backup-job.js';
import { listBackups } from '../../src/store/catalog.js';
import { verifyBackup } from '../../src/store/verify.js';
import { runCli } from '../helpers/cli.js';
import { createTestContainer, testDocker } from '../helpers/docker.js';
import { bigFile, connect, makeVolume, runBackup, sh, tempDir, testConfig, volumesOnly } from './backup-helpers.js';

/** bbcopy (the copy engine) processes whose command line names `needle`, children of this process. */
function copyPids(needle: string): number[] {
  const pids: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
      const ppid = Number(/PPid:\s+(\d+)/.exec(readFileSync(`/proc/${d}/status`, 'utf8'))?.[1]);
      if (cmd[0]?.endsWith('bbcopy') && cmd.some((a) => a.includes(needle)) && ppid === process.pid)
        pids.push(Number(d));
    } catch {
      /* exited meanwhile */
    }
  }
  return pids;
}

async function until<T>(fn: () => T | undefined, what: string, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('a failure in one item', () => {
  it('the copy engine killed: the volume fails with a clear message, the rest is kept, exit-code outcome partial', async () => {
    const store = await tempDir();
    const vol = await makeVolume('bk-kill');
    bigFile(`${vol.mountpoint}/big`, 200);
    const keep = await makeVolume('bk-kill-ok');
    sh(`echo ok > '${keep.mountpoint}/f'`);
    const config = testConfig(store, { volumes: { mode: 'host', concurrency: 1 } });
    const earlier = await runBackup({ volumes: [keep.name], scope: volumesOnly }, config);
    expect(earlier.result.outcome).toBe('ok');

    const docker = await connect(config);
    let killed = 0;
    const job = startBackup(
      { volumes: [vol.name, keep.name], scope: volumesOnly },
      {
        config,
        docker,
        emit: (e) => {
          if (e.type === 'item.start' && e.item === `volume ${vol.name}`) {
            // freeze the job so the copy cannot finish before we kill it
            job.pause();
            void until(() => (copyPids(vol.name).length > 0 ? copyPids(vol.name) : undefined), 'bbcopy').then(
              (pids) => {
                killed = pids.length;
                process.kill(Math.min(...pids), 'SIGKILL');
                job.resume();
              },
            );
          }
        },
      },
    );
    const result = await job.done;
    expect(killed).toBeGreaterThan(0);
    expect(result.outcome).toBe('partial');
    expect(result.errors).toEqual([
      expect.objectContaining({
        item: `volume ${vol.name}`,
        code: 'TOOL_FAILED',
        message: expect.stringMatching(/bbcopy was killed \(SIGKILL\)/),
      }),
    ]);
    if (result.value?.dryRun !== false) throw new Error('expected a backup');
    expect(result.value.manifest.status).toBe('partial');
    expect(result.value.manifest.items.map((i) => i.name)).toEqual([keep.name, 'metadata']);
    // the failed volume left nothing behind in the kept backup, and it verifies
    expect(readdirSync(join(result.value.dir, 'volumes')).sort()).toEqual([keep.name, `${keep.name}.index.jsonl`]);
    expect((await verifyBackup(result.value.dir)).problems).toEqual([]);
    expect(
      (await verifyBackup(earlier.result.value?.dryRun === false ? earlier.result.value.dir : '')).problems,
    ).toEqual([]);
  });

  it('container removed mid-run: that item fails as removed, the others are stored', async () => {
    const docker = testDocker();
    const store = await tempDir();
    const vol = await makeVolume('bk-gone');
    sh(`echo data > '${vol.mountpoint}/f'`);
    const stays = await createTestContainer(docker, 'bk-stays', {
      HostConfig: { NetworkMode: 'none', Binds: [`${vol.name}:/data`] },
    });
    const goes = await createTestContainer(docker, 'bk-goes');
    const config = testConfig(store);
    const conn = await connect(config);
    const job = startBackup(
      { containers: [stays, goes] },
      {
        config,
        docker: conn,
        emit: (e) => {
          if (e.type === 'job.start') {
            job.pause();
            void docker
              .getContainer(goes)
              .remove({ force: true })
              .then(() => job.resume());
          }
        },
      },
    );
    const result = await job.done;
    expect(result.outcome).toBe('partial');
    expect(result.errors).toEqual([
      { item: `container ${goes}`, code: 'NOT_FOUND', message: expect.stringContaining('no longer exists') },
    ]);
    if (result.value?.dryRun !== false) throw new Error('expected a backup');
    expect(result.value.manifest.items.filter((i) => i.kind !== 'image').map((i) => `${i.kind} ${i.name}`)).toEqual([
      `container ${stays}`,
      `volume ${vol.name}`,
      'metadata metadata',
    ]);
    expect(result.value.manifest.errors).toEqual([
      expect.objectContaining({ kind: 'container', name: goes, code: 'NOT_FOUND' }),
    ]);
  });
});

describe('a full store', () => {
  it('fails with a clear message and exit 3, removes the unfinished backup, keeps the earlier ones', async () => {
    const root = await tempDir();
    const store = join(root, 'store');
    sh(`mkdir -p '${store}' && mount -t tmpfs -o size=24m bbt-bk-full-${process.pid} '${store}'`);
    try {
      const vol = await makeVolume('bk-full');
      sh(`head -c 1M /dev/urandom > '${vol.mountpoint}/small'`);
      const cfgPath = join(root, 'bbackup.yaml');
      sh(`printf 'backup:\\n  store: %s\\nretention:\\n  enabled: false\\n' '${store}' > '${cfgPath}'`);
      const first = await runCli(['-c', cfgPath, 'backup', '--volumes-only', '--volumes', vol.name]);
      expect(first.exitCode, first.stderr).toBe(0);
      const host = readdirSync(store)[0]!;
      const before = await listBackups(join(store, host));
      expect(before).toHaveLength(1);

      sh(`head -c 40M /dev/urandom > '${vol.mountpoint}/large'`);
      const second = await runCli(['-c', cfgPath, 'backup', '--volumes-only', '--volumes', vol.name, '--full']);
      expect(second.exitCode).toBe(3);
      expect(second.stderr).toMatch(/no space left/i);
      expect(readdirSync(join(store, host)).filter((n) => n.endsWith('.partial'))).toEqual([]);
      const after = await listBackups(join(store, host));
      expect(after.map((b) => b.id)).toEqual(before.map((b) => b.id));
      expect((await verifyBackup(after[0]!.dir)).problems).toEqual([]);
    } finally {
      sh(`umount '${store}'`);
    }
  });
});
