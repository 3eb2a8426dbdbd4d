// Container labels around a real backup on the real engine, run through the real CLI
// (`bbackup schedule run`): bbackup.stop stops a running container during its volume's copy and
// starts it again (after success, failure and cancel), leaves a stopped one stopped;
// bbackup.exec.pre's dump lands in the backup; a failing pre-hook fails the item with its output.
import { execa } from 'execa';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createTestContainer, createTestVolume, runInBusybox, testDocker } from '../helpers/docker.js';
import { cliCommand, runCli } from '../helpers/cli.js';
import { testName } from '../helpers/names.js';
import { isRunning, tempDir, watchEvents, writeConfig } from './ops-fixtures.js';

const docker = testDocker();
const ENGINE = process.env.BBACKUP_TEST_DOCKER_HOST!;

async function setup(area: string, extra: Record<string, unknown> = {}, store?: string) {
  const dir = await tempDir(area);
  const base = testName(`ops-${area}`);
  const volume = await createTestVolume(docker, `ops-${area}`);
  await runInBusybox(
    docker,
    'echo hello > /data/a.txt && mkdir -p /data/sub && head -c 100000 /dev/urandom > /data/sub/r.bin',
    [`${volume}:/data`],
  );
  const configFor = (containers: string[]) =>
    writeConfig(dir, {
      backup: { store: store ?? join(dir, 'store') },
      docker: { socket: ENGINE.replace(/^unix:\/\//, '') },
      logging: { level: 'debug', file: join(dir, 'bbackup.log') },
      hooks: { timeout: 60 },
      schedule: { job: { cron: '0 3 * * *', containers } },
      ...extra,
    });
  return { dir, base, volume, configFor };
}

const runSchedule = (config: string) =>
  runCli(['-c', config, '--json', 'schedule', 'run', 'job'], { env: { BBACKUP_CONFIG: undefined } });

describe('container labels around a backup', () => {
  it('stops a labelled running container during the copy, starts it after; a stopped one stays stopped; the pre-hook dump is in the backup', async () => {
    const { dir, base, volume, configFor } = await setup('hooks');
    const running = await createTestContainer(docker, 'x', {
      name: `${base}-a-running`,
      Labels: {
        'bbackup.stop': 'true',
        'bbackup.exec.pre': '["sh","-c","echo dump-of-$(hostname) > /data/dump.sql"]',
        'bbackup.exec.post': 'touch /tmp/post-hook-ran',
      },
      HostConfig: { Binds: [`${volume}:/data`] },
    });
    const stopped = await createTestContainer(
      docker,
      'x',
      {
        name: `${base}-b-stopped`,
        Labels: { 'bbackup.stop': 'true', 'bbackup.exec.pre': 'false' },
        HostConfig: { Binds: [`${volume}:/data`] },
      },
      false,
    );
    const config = await configFor([running, stopped]);
    const watch = await watchEvents(docker, [running, stopped]);

    const r = await runSchedule(config);
    watch.stop();
    expect(r.exitCode, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as { status: string; backupId: string; host: string };
    expect(result.status).toBe('ok');

    // the running container went down and came back, once; the stopped one was never started
    const seq = watch.events
      .filter((e) => e.name === running && ['exec_start', 'die', 'start'].includes(e.status))
      .map((e) => e.status);
    expect(seq).toEqual(['exec_start', 'die', 'start', 'exec_start']);
    expect(watch.events.filter((e) => e.name === stopped).map((e) => e.status)).not.toContain('start');
    expect(await isRunning(docker, running)).toBe(true);
    expect((await docker.getContainer(stopped).inspect()).State.Status).toBe('created');

    // the dump the pre-hook wrote is in the snapshot; the post-hook ran after the restart
    const id = (await docker.getContainer(running).inspect()).Config.Hostname;
    const dump = await readFile(
      join(dir, 'store', result.host, result.backupId, 'volumes', volume, 'dump.sql'),
      'utf8',
    );
    expect(dump).toBe(`dump-of-${id}\n`);
    const post = await execa('docker', ['-H', ENGINE, 'exec', running, 'ls', '/tmp/post-hook-ran'], { reject: false });
    expect(post.exitCode, post.stderr).toBe(0);
    const log = await readFile(join(dir, 'bbackup.log'), 'utf8');
    expect(log).toContain(`container ${stopped} is not running: its pre-hook is skipped`);
  });

  it('starts the container again when the backup fails (store full) and when it is cancelled', async () => {
    const mnt = await tempDir('full');
    await execa('mount', ['-t', 'tmpfs', '-o', 'size=600k', 'tmpfs', mnt]);
    try {
      const { base, volume, configFor } = await setup('fail', {}, mnt);
      await runInBusybox(docker, 'head -c 3000000 /dev/urandom > /data/big.bin', [`${volume}:/data`]);
      const c = await createTestContainer(docker, 'x', {
        name: `${base}-a`,
        Labels: { 'bbackup.stop': 'true' },
        HostConfig: { Binds: [`${volume}:/data`] },
      });
      const watch = await watchEvents(docker, [c]);
      const r = await runSchedule(await configFor([c]));
      watch.stop();
      expect([3, 4], r.stderr).toContain(r.exitCode);
      expect(r.stderr).toMatch(/no space left|DISK|No space/i);
      expect(watch.events.map((e) => e.status).filter((s) => s === 'die' || s === 'start')).toEqual(['die', 'start']);
      expect(await isRunning(docker, c)).toBe(true);
    } finally {
      await execa('umount', [mnt]);
    }

    // cancel: SIGTERM while the labelled container is stopped and the next pre-hook is still busy
    const { base, volume, configFor } = await setup('cancel');
    const a = await createTestContainer(docker, 'x', {
      name: `${base}-a-stop`,
      Labels: { 'bbackup.stop': 'true' },
      HostConfig: { Binds: [`${volume}:/data`] },
    });
    const b = await createTestContainer(docker, 'x', {
      name: `${base}-b-slow`,
      Labels: { 'bbackup.exec.pre': 'sleep 60' },
      HostConfig: { Binds: [`${volume}:/data`] },
    });
    const config = await configFor([a, b]);
    const cli = cliCommand();
    const child = execa(cli.file, [...cli.args, '-c', config, 'schedule', 'run', 'job'], {
      cwd: cli.cwd,
      reject: false,
      env: { NO_COLOR: '1' },
    });
    const deadline = Date.now() + 60_000;
    while (await isRunning(docker, a)) {
      if (Date.now() > deadline) throw new Error('the labelled container was never stopped');
      await new Promise((r) => setTimeout(r, 100));
    }
    child.kill('SIGTERM');
    const r = await child;
    expect(`exit ${r.exitCode} signal ${r.signal}\n${String(r.stderr)}`).toMatch(/^exit 5 /);
    expect(await isRunning(docker, a)).toBe(true);

    // cancel while rsync copies the volume of the stopped container (execa children are running)
    const big = await setup('cancel-copy');
    await runInBusybox(
      docker,
      'dd if=/dev/zero of=/data/zeros bs=1M count=1500 2>/dev/null; head -c 50000000 /dev/urandom > /data/random',
      [`${big.volume}:/data`],
    );
    const c = await createTestContainer(docker, 'x', {
      name: `${big.base}-a`,
      Labels: { 'bbackup.stop': 'true' },
      HostConfig: { Binds: [`${big.volume}:/data`] },
    });
    const copying = execa(cli.file, [...cli.args, '-c', await big.configFor([c]), 'schedule', 'run', 'job'], {
      cwd: cli.cwd,
      reject: false,
      env: { NO_COLOR: '1' },
    });
    while (await isRunning(docker, c)) await new Promise((res) => setTimeout(res, 50));
    await new Promise((res) => setTimeout(res, 400));
    copying.kill('SIGTERM');
    const rc = await copying;
    expect(`exit ${rc.exitCode} signal ${rc.signal}\n${String(rc.stderr)}`).toMatch(/^exit 5 /);
    expect(await isRunning(docker, c)).toBe(true);
  });

  it('a failing pre-hook fails that item with its output; the container is not left stopped', async () => {
    const { base, volume, configFor } = await setup('prefail');
    const c = await createTestContainer(docker, 'x', {
      name: `${base}-a`,
      Labels: {
        'bbackup.stop': 'true',
        'bbackup.exec.pre': '["sh","-c","echo cannot dump: disk on fire >&2; exit 7"]',
      },
      HostConfig: { Binds: [`${volume}:/data`] },
    });
    const r = await runSchedule(await configFor([c]));
    expect(r.exitCode, r.stderr).toBe(4);
    expect(r.stderr).toContain('cannot dump: disk on fire');
    expect(r.stderr).toMatch(/pre-hook \["sh","-c",.*\] exited 7/);
    const result = JSON.parse(r.stdout) as { status: string; backupId: string };
    expect(result.status).toBe('partial');
    expect(await isRunning(docker, c)).toBe(true);

    // a pre-hook that hangs: timed out, the item fails, its process is killed (local engine)
    const other = await createTestVolume(docker, 'ops-prefail');
    const slow = await createTestContainer(docker, 'x', {
      name: `${base}-b`,
      Labels: { 'bbackup.exec.pre': '["sh","-c","echo dumping; exec sleep 120"]', 'bbackup.exec.timeout': '1' },
      HostConfig: { Binds: [`${other}:/data`] },
    });
    const t = await runSchedule(await configFor([slow]));
    expect(t.exitCode, t.stderr).toBe(4);
    expect(t.stderr, t.stderr).toMatch(
      /pre-hook \["sh","-c","echo dumping; exec sleep 120"\] timed out after 1 s\n\s*dumping/,
    );
    const ps = await execa('docker', ['-H', ENGINE, 'exec', slow, 'ps'], { reject: false });
    expect(ps.stdout).not.toContain('sleep 120');
  });

  it('global hooks run around `bbackup backup` with the run in their environment; the run is notified; a failing pre-hook stops the run', async () => {
    const { dir, volume, configFor } = await setup('global');
    const c = await createTestContainer(docker, 'ops-global', { HostConfig: { Binds: [`${volume}:/data`] } });
    const reports: {
      event: string;
      status: string;
      backup_id: string | null;
      errors: { item: string; message: string }[];
    }[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString('utf8')));
      req.on('end', () => {
        reports.push(JSON.parse(body));
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    onTestFinished(() => new Promise<void>((r) => server.close(() => r())));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const dump = (file: string) => [
      'sh',
      '-c',
      `env | grep ^BBACKUP_ | grep -v ^BBACKUP_REPORT | sort > ${join(dir, file)}`,
    ];
    const config = await configFor([c]);
    const base = JSON.parse(await readFile(config, 'utf8')) as Record<string, unknown>;
    await writeFile(
      config,
      JSON.stringify({
        ...base,
        hooks: { pre: [dump('pre.env')], post: [dump('post.env'), ['true']] },
        notifications: { webhooks: [{ url, on: 'always' }] },
      }),
    );

    const r = await runCli(['-c', config, '--json', 'backup', '-C', c], { env: { BBACKUP_CONFIG: undefined } });
    expect(r.exitCode, r.stderr).toBe(0);
    const { id, host } = JSON.parse(r.stdout) as { id: string; host: string };
    const pre = await readFile(join(dir, 'pre.env'), 'utf8');
    expect(pre).toContain('BBACKUP_EVENT=pre\n');
    expect(pre).toContain(`BBACKUP_HOST=${host}\n`);
    expect(pre).not.toContain('BBACKUP_BACKUP_ID');
    const post = await readFile(join(dir, 'post.env'), 'utf8');
    expect(post).toContain('BBACKUP_EVENT=post\n');
    expect(post).toContain(`BBACKUP_BACKUP_ID=${id}\n`);
    expect(post).toContain(`BBACKUP_BACKUP_DIR=${join(dir, 'store', host, id)}\n`);
    expect(post).toContain('BBACKUP_STATUS=ok\n');
    expect(post).toMatch(/BBACKUP_ITEMS_OK=[2-9]\n/);
    expect(reports.map((x) => [x.event, x.status, x.backup_id])).toEqual([['backup.finished', 'ok', id]]);

    // a failing pre-hook: nothing is backed up, post-hooks still run, the failure is reported
    await writeFile(
      config,
      JSON.stringify({
        ...base,
        hooks: { pre: [['sh', '-c', 'echo mount of /srv missing >&2; exit 2']], post: [dump('post2.env')] },
        notifications: { webhooks: [{ url, on: 'failure' }] },
      }),
    );
    const f = await runCli(['-c', config, 'backup', '-C', c], { env: { BBACKUP_CONFIG: undefined } });
    expect(f.exitCode).toBe(3);
    expect(f.stderr).toContain('pre-hook ["sh","-c","echo mount of /srv missing >&2; exit 2"] exited 2');
    expect(f.stderr).toContain('mount of /srv missing');
    expect(await readFile(join(dir, 'post2.env'), 'utf8')).toContain('BBACKUP_STATUS=failed\n');
    expect(reports).toHaveLength(2);
    expect(reports[1]).toMatchObject({ event: 'backup.finished', status: 'failed', backup_id: null });
    expect(reports[1]!.errors[0]!.item).toBe('hooks.pre');
    expect((await readdir(join(dir, 'store', host))).filter((n) => /^\d{8}T/.test(n))).toEqual([id]);
  });

  it('a run killed outright (SIGKILL) while a container is stopped: the next run on that host starts it again', async () => {
    const { dir, base, volume, configFor } = await setup('crash');
    const a = await createTestContainer(docker, 'x', {
      name: `${base}-a-stop`,
      Labels: { 'bbackup.stop': 'true' },
      HostConfig: { Binds: [`${volume}:/data`] },
    });
    const b = await createTestContainer(docker, 'x', {
      name: `${base}-b-slow`,
      Labels: { 'bbackup.exec.pre': 'sleep 60' },
      HostConfig: { Binds: [`${volume}:/data`] },
    });
    const config = await configFor([a, b]);
    const cli = cliCommand();
    const child = execa(cli.file, [...cli.args, '-c', config, 'schedule', 'run', 'job'], {
      cwd: cli.cwd,
      reject: false,
      env: { NO_COLOR: '1' },
    });
    const deadline = Date.now() + 60_000;
    while (await isRunning(docker, a)) {
      if (Date.now() > deadline) throw new Error('the labelled container was never stopped');
      await new Promise((r) => setTimeout(r, 100));
    }
    child.kill('SIGKILL');
    await child;
    expect(await isRunning(docker, a)).toBe(false);
    const host = (await docker.info()).Name as string;
    const journal = JSON.parse(await readFile(join(dir, 'store', host, '.stopped-containers.json'), 'utf8')) as {
      stopped: { container: string }[];
    };
    expect(journal.stopped.map((e) => e.container)).toEqual([a]);

    // the next run (of another container, on the same host) repairs it first
    const other = await createTestContainer(docker, 'x', { name: `${base}-c-other` });
    const r = await runSchedule(await configFor([other]));
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toContain(`container ${a} was stopped by a backup run that died`);
    expect(await isRunning(docker, a)).toBe(true);
    expect(JSON.parse(await readFile(join(dir, 'store', host, '.stopped-containers.json'), 'utf8'))).toEqual({
      stopped: [],
    });
  });
});
