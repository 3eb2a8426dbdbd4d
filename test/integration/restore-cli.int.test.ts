// `bbackup restore` as a user runs it: a backup made by the real `bbackup backup` (the backup
// engine, tree and archive formats) restored by id and by a copied folder, --dry-run, conflicts,
// missing images, -V (not --version), --json, and the exit codes.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliCommand, runCli } from '../helpers/cli.js';
import { createTestContainer, createTestNetwork, createTestVolume, testDocker } from '../helpers/docker.js';
import { makeFixtureBackup } from '../helpers/fixture-backup.js';
import { testName } from '../helpers/names.js';
import { cleanupAfter } from '../helpers/restore.js';
import { describeTree, fillRichTree, mountpointOf } from '../helpers/volume-data.js';

let tmp: string;
let docker: Docker;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'bbt-rs-cli-'));
  docker = testDocker();
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function config(
  format: 'tree' | 'archive',
  extra = '',
): Promise<{ path: string; store: string; dir: string; env: Record<string, string | undefined> }> {
  const dir = await mkdtemp(join(tmp, 'cfg-'));
  const store = join(dir, 'store');
  const path = join(dir, 'bbackup.yaml');
  const socket = process.env.BBACKUP_TEST_DOCKER_HOST!.replace('unix://', '');
  await writeFile(
    path,
    `docker: {socket: ${socket}}\nbackup:\n  store: ${store}\n  volumes: {format: ${format}}\nlogging: {file: ${join(dir, 'bbackup.log')}}\n${extra.replaceAll('$DIR', dir)}`,
  );
  return { path, store, dir, env: { HOME: dir, BBACKUP_CONFIG: undefined, DOCKER_HOST: undefined } };
}

describe('restore from a backup made by bbackup backup', () => {
  it.each(['tree', 'archive'] as const)(
    '%s format: dry run, restore under new names by id, then by a copied folder',
    async (format) => {
      const cfg = await config(format);
      const v = await createTestVolume(docker, 'rs');
      await fillRichTree(await mountpointOf(docker, v));
      const c = await createTestContainer(docker, 'rs', { Env: ['ROLE=cli'], HostConfig: { Binds: [`${v}:/data`] } });
      const backup = await runCli(['-c', cfg.path, '--json', 'backup', '-C', c], { env: cfg.env });
      expect(backup.exitCode, backup.stderr).toBe(0);
      const id = (JSON.parse(backup.stdout) as { id: string }).id;
      expect(id).toMatch(/^\d{8}T\d{6}Z/);
      const [c2, v2] = [testName('rs'), testName('rs')];
      cleanupAfter(docker, { containers: [c2], volumes: [v2] });

      const dry = await runCli(
        ['-c', cfg.path, 'restore', id, '-C', c, '-r', `${c}:${c2}`, '-r', `${v}:${v2}`, '--dry-run'],
        { env: cfg.env },
      );
      expect(dry.exitCode, dry.stderr).toBe(0);
      expect(dry.stdout).toMatch(new RegExp(`create\\s+volume\\s+${v2}\\s+from ${v}\\s+${format}`));
      expect(dry.stdout).toMatch(
        new RegExp(`create\\s+container\\s+${c2}\\s+from ${c}\\s+bbackup-test-busybox:1, started`),
      );
      expect(dry.stdout).toContain('Nothing was changed (dry run).');
      expect(
        await docker
          .getContainer(c2)
          .inspect()
          .then(
            () => true,
            () => false,
          ),
      ).toBe(false);

      const real = await runCli(['-c', cfg.path, 'restore', id, '-C', c, '-r', `${c}:${c2}`, '-r', `${v}:${v2}`], {
        env: cfg.env,
      });
      expect(real.exitCode, real.stderr).toBe(0);
      expect(real.stdout).toMatch(new RegExp(`ok\\s+volume ${v2}\\s+[\\d.]+ [KM]B\\s+${format}, host`));
      expect(real.stdout).toContain('restore ok: 2 of 2 restored');
      const restored = await docker.getContainer(c2).inspect();
      expect(restored.State.Running).toBe(true);
      expect(restored.Config.Env).toContain('ROLE=cli');
      expect(restored.HostConfig.Binds).toEqual([`${v2}:/data`]);
      const original = await describeTree(await mountpointOf(docker, v));
      expect(await describeTree(await mountpointOf(docker, v2))).toEqual(original);

      // The same backup copied anywhere restores by path; now the targets exist: a conflict, exit 1.
      const copy = join(tmp, `copied-${format}`);
      await execa('cp', ['-a', join(cfg.store, await hostFolder(cfg.store), id), copy]);
      const again = await runCli(['-c', cfg.path, 'restore', copy, '-C', c, '-r', `${c}:${c2}`, '-r', `${v}:${v2}`], {
        env: cfg.env,
      });
      expect(again.exitCode).toBe(1);
      expect(again.stderr).toContain(`container ${c2} already exists (use --force to replace it`);
      expect(again.stderr).toContain('nothing was changed');
      expect((await docker.getContainer(c2).inspect()).Id).toBe(restored.Id);
    },
  );
});

async function hostFolder(store: string): Promise<string> {
  return (await readdir(store)).find((d) => !d.startsWith('.'))!;
}

describe('incremental snapshots', () => {
  it('a second (hard-linked) snapshot restores the volume as it was at that backup, hard links inside it kept', async () => {
    const cfg = await config('tree');
    const v = await createTestVolume(docker, 'rs');
    const mp = await mountpointOf(docker, v);
    await fillRichTree(mp);
    const c = await createTestContainer(docker, 'rs', { HostConfig: { Binds: [`${v}:/data`] } }, false);
    const first = await runCli(['-c', cfg.path, '--json', 'backup', '-C', c], { env: cfg.env });
    expect(first.exitCode, first.stderr).toBe(0);
    await writeFile(join(mp, 'etc/app.conf'), 'changed for the second backup\n');
    await writeFile(join(mp, 'new-file.txt'), 'only in the second backup');
    const second = await runCli(['-c', cfg.path, '--json', 'backup', '-C', c], { env: cfg.env });
    expect(second.exitCode, second.stderr).toBe(0);
    const id = (JSON.parse(second.stdout) as { id: string }).id;
    const expected = await describeTree(mp);
    await writeFile(join(mp, 'etc/app.conf'), 'changed after the second backup\n');
    const v2 = testName('rs');
    cleanupAfter(docker, { volumes: [v2] });
    const r = await runCli(['-c', cfg.path, 'restore', id, '-V', v, '-r', `${v}:${v2}`], { env: cfg.env });
    expect(r.exitCode, r.stderr).toBe(0);
    const got = await describeTree(await mountpointOf(docker, v2));
    expect(got).toEqual(expected);
    expect(got['etc/data-hardlink.bin']!.hardLinkGroup).toBe('data.bin');
  });
});

describe('networks saved by bbackup backup', () => {
  it('--all with renames: the renamed network is created and joined, with its alias, without the static address', async () => {
    const cfg = await config('tree');
    const net = await createTestNetwork(docker, 'rs', {
      IPAM: { Driver: 'default', Config: [{ Subnet: '10.232.44.0/24' }] },
      Labels: { tier: 'back' },
    });
    const c = await createTestContainer(
      docker,
      'rs',
      {
        HostConfig: { NetworkMode: net },
        NetworkingConfig: {
          EndpointsConfig: { [net]: { Aliases: ['api'], IPAMConfig: { IPv4Address: '10.232.44.9' } } },
        },
      },
      false,
    );
    const backup = await runCli(['-c', cfg.path, '--json', 'backup', '-C', c], { env: cfg.env });
    expect(backup.exitCode, backup.stderr).toBe(0);
    const id = (JSON.parse(backup.stdout) as { id: string }).id;
    const [net2, c2] = [testName('rs'), testName('rs')];
    cleanupAfter(docker, { containers: [c2], networks: [net2] });
    const r = await runCli(['-c', cfg.path, 'restore', id, '--all', '-r', `${net}:${net2}`, '-r', `${c}:${c2}`], {
      env: cfg.env,
    });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`create\\s+network\\s+${net2}\\s+from ${net}`));
    expect(r.stdout).toContain(`subnet not fixed: 10.232.44.0/24 overlaps 10.232.44.0/24 of network ${net}`);
    const n2 = (await docker.getNetwork(net2).inspect()) as { Labels: Record<string, string>; Internal: boolean };
    expect(n2.Labels.tier).toBe('back');
    expect(n2.Internal).toBe(true);
    const restored = await docker.getContainer(c2).inspect();
    expect(Object.keys(restored.NetworkSettings.Networks)).toEqual([net2]);
    expect(restored.NetworkSettings.Networks[net2]!.Aliases).toContain('api');
    expect(restored.NetworkSettings.Networks[net2]!.IPAMConfig ?? null).toBeNull();
  });
});

describe('restore command line', () => {
  it('-V selects volumes, --json prints one document, a missing image refuses with the pull command (exit 1)', async () => {
    const cfg = await config('tree');
    const v = await createTestVolume(docker, 'rs');
    await writeFile(join(await mountpointOf(docker, v), 'x.txt'), 'volume data');
    const c = await createTestContainer(docker, 'rs', { HostConfig: { Binds: [`${v}:/data`] } }, false);
    const dir = join(tmp, '20261125T220000Z');
    await makeFixtureBackup(docker, { dir, containers: [c], volumes: [v] });
    const v2 = testName('rs');
    cleanupAfter(docker, { volumes: [v2] });

    const json = await runCli(['-c', cfg.path, '--json', 'restore', dir, '-V', v, '--rename', `volume:${v}:${v2}`], {
      env: cfg.env,
    });
    expect(json.exitCode, json.stderr).toBe(0);
    const doc = JSON.parse(json.stdout) as { outcome: string; restored: { kind: string; target: string }[] };
    expect(doc.outcome).toBe('ok');
    expect(doc.restored).toEqual([{ kind: 'volume', source: v, target: v2 }]);
    expect(await readFile(join(await mountpointOf(docker, v2), 'x.txt'), 'utf8')).toBe('volume data');

    // The image is gone (edit the saved definition to name an image the engine never had).
    const inspectPath = join(dir, 'containers', c, 'inspect.json');
    const saved = JSON.parse(await readFile(inspectPath, 'utf8')) as { Config: { Image: string }; Image: string };
    saved.Config.Image = 'registry.example/bbt-rs-gone:7';
    saved.Image = `sha256:${'0'.repeat(64)}`;
    await writeFile(inspectPath, JSON.stringify(saved));
    const c3 = testName('rs');
    const missing = await runCli(
      ['-c', cfg.path, 'restore', dir, '-C', c, '-r', `${c}:${c3}`, '-r', `${v}:${testName('rs')}`],
      { env: cfg.env },
    );
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toContain(
      'needs image registry.example/bbt-rs-gone:7, which is not on the engine: run `docker pull registry.example/bbt-rs-gone:7`',
    );
    expect(missing.stderr).toContain('nothing was restored');
    expect(
      await docker
        .getContainer(c3)
        .inspect()
        .then(
          () => true,
          () => false,
        ),
    ).toBe(false);

    const dry = await runCli(['-c', cfg.path, 'restore', dir, '--all', '--dry-run'], { env: cfg.env });
    expect(dry.exitCode).toBe(1);
    expect(dry.stdout).toContain('Missing images (1, not in the backup: pull them first):');
    expect(dry.stdout).toContain(`Conflicts (2):`);
    expect(dry.stdout).toContain('This restore would be refused; nothing would be changed.');

    const usage = await runCli(['-c', cfg.path, 'restore', dir], { env: cfg.env });
    expect(usage.exitCode).toBe(1);
    expect(usage.stderr).toContain(
      'nothing to restore: name containers (-C), volumes (-V), networks (-N), or use --all',
    );
    const unknown = await runCli(['-c', cfg.path, 'restore', '20200101T000000Z', '--all'], { env: cfg.env });
    expect(unknown.exitCode).toBe(1);
    expect(unknown.stderr).toMatch(
      /no backup 20200101T000000Z for host .* \(list them with: bbackup list-backups; a folder in the current directory is given as .\/20200101T000000Z\)/,
    );
  });
});

describe('Ctrl-C', () => {
  it('SIGINT during a volume: exit 5, the half-filled volume is gone', async () => {
    const cfg = await config('tree');
    const v = await createTestVolume(docker, 'rs');
    const mp = await mountpointOf(docker, v);
    // enough that the copy is still running when the test finds it (it is then held there)
    for (const n of [1, 2])
      await execa('dd', ['if=/dev/urandom', `of=${join(mp, `big${n}.bin`)}`, 'bs=1M', 'count=64', 'status=none']);
    const dir = join(tmp, '20261125T224000Z');
    await makeFixtureBackup(docker, { dir, volumes: [v] });
    const v2 = testName('rs');
    cleanupAfter(docker, { volumes: [v2] });
    const { file, args, cwd } = cliCommand();
    const child = execa(file, [...args, '-c', cfg.path, 'restore', dir, '-V', v, '-r', `${v}:${v2}`, '--no-verify'], {
      cwd,
      env: { ...cfg.env, NO_COLOR: '1' },
      reject: false,
    });
    // The copy into the new volume is held (SIGSTOP) while bbackup gets its SIGINT: the cancel
    // reaches a copy in progress however fast the machine is. bbackup's cancel sends the copy's
    // process group SIGCONT and SIGTERM.
    let copier: number | undefined;
    while (copier === undefined && child.exitCode === null) {
      copier = await childCopier(child.pid!);
      if (copier === undefined) await new Promise((r) => setTimeout(r, 10));
    }
    expect(copier, 'the restore copied the volume with bbcopy').toBeDefined();
    process.kill(copier!, 'SIGSTOP');
    expect(await exists(docker.getVolume(v2))).toBe(true);
    child.kill('SIGINT');
    const r = await child;
    expect(r.exitCode, String(r.stderr)).toBe(5);
    expect(String(r.stdout)).toContain('restore cancelled');
    expect(await exists(docker.getVolume(v2))).toBe(false);
  });
});

const exists = (what: { inspect(): Promise<unknown> }) =>
  what.inspect().then(
    () => true,
    () => false,
  );

/** The pid of the `bbcopy restore` process `parent` runs, if any. */
async function childCopier(parent: number): Promise<number | undefined> {
  for (const pid of (await readdir('/proc')).filter((d) => /^\d+$/.test(d))) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[1]) !== parent) continue;
    const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0');
    if (argv[0]?.endsWith('bbcopy') && argv[1] === 'restore') return Number(pid);
  }
  return undefined;
}

describe('restore --from-remote', () => {
  it('pulls a backup the local store no longer has, then restores it', async () => {
    const cfg = await config('tree', 'remotes:\n  offsite: {type: local, path: $DIR/offsite}\n');
    const v = await createTestVolume(docker, 'rs');
    await fillRichTree(await mountpointOf(docker, v));
    const backup = await runCli(
      [
        '-c',
        cfg.path,
        '--json',
        'backup',
        '--volumes-only',
        '-C',
        await createTestContainer(docker, 'rs', { HostConfig: { Binds: [`${v}:/data`] } }, false),
        '-r',
        'offsite',
      ],
      { env: cfg.env },
    );
    expect(backup.exitCode, backup.stderr).toBe(0);
    const id = (JSON.parse(backup.stdout) as { id: string }).id;
    await rm(join(cfg.store, await hostFolder(cfg.store), id), { recursive: true });
    const v2 = testName('rs');
    cleanupAfter(docker, { volumes: [v2] });
    const r = await runCli(['-c', cfg.path, 'restore', id, '--from-remote', 'offsite', '-V', v, '-r', `${v}:${v2}`], {
      env: cfg.env,
    });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain(`backup ${id} from remote offsite is in`);
    expect(await describeTree(await mountpointOf(docker, v2))).toEqual(
      await describeTree(await mountpointOf(docker, v)),
    );
  });
});
