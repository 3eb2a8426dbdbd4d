// Restore never grants privileges a backup folder asks for unless the operator allows them: a
// real backup copied elsewhere and edited to be privileged (capability, host bind, security
// option) is refused by path without --allow-privileged, creating nothing, and restored with it;
// a backup's own container that mounts the Docker socket restores by id with the flag. And
// `restore ID` never reads a folder of that name in the current directory. Real engine, real CLI.
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../../src/store/manifest.js';
import { runCli } from '../helpers/cli.js';
import { createTestContainer, createTestVolume, testDocker } from '../helpers/docker.js';
import { testName } from '../helpers/names.js';
import { cleanupAfter } from '../helpers/restore.js';
import { mountpointOf } from '../helpers/volume-data.js';

let tmp: string;
let docker: Docker;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'bbt-rsec-'));
  docker = testDocker();
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const SOCKET = process.env.BBACKUP_TEST_DOCKER_HOST!.replace('unix://', '');
const exists = (kind: 'container' | 'volume', name: string) =>
  (kind === 'container' ? docker.getContainer(name) : docker.getVolume(name)).inspect().then(
    () => true,
    () => false,
  );

async function setup(): Promise<{ config: string; store: string; env: Record<string, string | undefined> }> {
  const dir = await mkdtemp(join(tmp, 'cfg-'));
  const store = join(dir, 'store');
  const config = join(dir, 'bbackup.yaml');
  await writeFile(
    config,
    `docker: {socket: ${SOCKET}}\nbackup: {store: ${store}}\nretention: {enabled: false}\nlogging: {file: ${join(dir, 'bbackup.log')}}\n`,
  );
  return { config, store, env: { HOME: dir, BBACKUP_CONFIG: undefined, DOCKER_HOST: undefined } };
}

async function backup(
  cfg: Awaited<ReturnType<typeof setup>>,
  containers: string[],
): Promise<{ id: string; dir: string }> {
  const r = await runCli(['-c', cfg.config, '--json', 'backup', '-C', ...containers], { env: cfg.env });
  expect(r.exitCode, r.stderr).toBe(0);
  const id = (JSON.parse(r.stdout) as { id: string }).id;
  const host = (await readdir(cfg.store)).find((d) => !d.startsWith('.'))!;
  return { id, dir: join(cfg.store, host, id) };
}

/** What someone with write access to a copied backup folder does: edit inspect.json, fix the manifest. */
async function makePrivileged(
  dir: string,
  container: string,
  edit: (hc: Record<string, unknown>) => void,
): Promise<void> {
  const rel = `containers/${container}/inspect.json`;
  const path = join(dir, rel);
  const doc = JSON.parse(await readFile(path, 'utf8')) as
    { HostConfig: Record<string, unknown> }[] | { HostConfig: Record<string, unknown> };
  edit((Array.isArray(doc) ? doc[0]! : doc).HostConfig);
  const text = JSON.stringify(doc);
  await writeFile(path, text);
  const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as Manifest;
  for (const item of manifest.items) {
    for (const f of item.files) {
      if (f.path !== rel) continue;
      f.size = Buffer.byteLength(text);
      f.sha256 = createHash('sha256').update(text).digest('hex');
    }
  }
  await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest));
}

describe('privileges in a backup', () => {
  it('an edited copy is refused by path without --allow-privileged (nothing created) and restored with it; the Docker socket agent restores by id with the flag', async () => {
    const cfg = await setup();
    const v = await createTestVolume(docker, 'rsec');
    await writeFile(join(await mountpointOf(docker, v), 'data.txt'), 'volume data');
    const plain = await createTestContainer(
      docker,
      'rsec',
      { HostConfig: { NetworkMode: 'none', Binds: [`${v}:/data`] } },
      false,
    );
    const agent = await createTestContainer(
      docker,
      'rsec',
      { HostConfig: { NetworkMode: 'none', Binds: [`${SOCKET}:/var/run/docker.sock:ro`] } },
      false,
    );
    const made = await backup(cfg, [plain, agent]);

    const hostDir = await mkdtemp(join(tmp, 'hostdir-'));
    const copy = join(tmp, 'usb', made.id);
    await mkdir(join(tmp, 'usb'), { recursive: true });
    await execa('cp', ['-a', made.dir, copy]);
    await makePrivileged(copy, plain, (hc) => {
      hc.CapAdd = ['NET_ADMIN'];
      hc.Binds = [...(hc.Binds as string[]), `${hostDir}:/hostdir`];
      hc.SecurityOpt = ['seccomp=unconfined'];
    });
    const [c2, v2] = [testName('rsec'), testName('rsec')];
    cleanupAfter(docker, { containers: [c2], volumes: [v2] });
    const args = ['-c', cfg.config, 'restore', copy, '-C', plain, '-r', `${plain}:${c2}`, '-r', `${v}:${v2}`];
    const privileges = [
      `container ${c2}: capability NET_ADMIN`,
      `container ${c2}: host path ${hostDir} mounted at /hostdir`,
      `container ${c2}: seccomp=unconfined (no system call filter)`,
    ];

    const dry = await runCli([...args, '--dry-run'], { env: cfg.env });
    expect(dry.exitCode, dry.stderr).toBe(1);
    expect(dry.stdout).toContain('PRIVILEGES on this host (3, refused without --allow-privileged):');
    for (const p of privileges) expect(dry.stdout).toContain(`  ! ${p}`);
    expect(dry.stdout).toContain('This restore would be refused; nothing would be changed.');
    const json = await runCli([...args, '--dry-run', '--json'], { env: cfg.env });
    const doc = JSON.parse(json.stdout) as {
      runnable: boolean;
      privileges: string[];
      plan: { items: { kind: string; privileges: string[] }[] };
    };
    expect(doc.runnable).toBe(false);
    expect(doc.privileges).toEqual(privileges);
    expect(doc.plan.items.find((i) => i.kind === 'volume')!.privileges).toEqual([]);

    const refused = await runCli(args, { env: cfg.env });
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain(
      `refused: restoring from backup ${made.id} would grant these privileges on this host; nothing was changed:`,
    );
    for (const p of privileges) expect(refused.stderr).toContain(p);
    expect(refused.stderr).toContain('--allow-privileged');
    expect(await exists('container', c2)).toBe(false);
    expect(await exists('volume', v2)).toBe(false);

    const allowed = await runCli([...args, '--allow-privileged'], { env: cfg.env });
    expect(allowed.exitCode, allowed.stderr + allowed.stdout).toBe(0);
    expect(allowed.stdout).toContain('PRIVILEGES on this host (3, allowed by --allow-privileged):');
    const restored = await docker.getContainer(c2).inspect();
    expect(restored.HostConfig.CapAdd).toEqual(['NET_ADMIN']);
    expect(restored.HostConfig.Binds).toEqual([`${v2}:/data`, `${hostDir}:/hostdir`]);
    expect(restored.HostConfig.SecurityOpt).toEqual(['seccomp=unconfined']);
    expect(await readFile(join(await mountpointOf(docker, v2), 'data.txt'), 'utf8')).toBe('volume data');

    // The backup's own agent: by id, refused without the flag, restored with it.
    const a2 = testName('rsec');
    cleanupAfter(docker, { containers: [a2] });
    const agentArgs = ['-c', cfg.config, 'restore', made.id, '-C', agent, '-r', `${agent}:${a2}`];
    const noFlag = await runCli(agentArgs, { env: cfg.env });
    expect(noFlag.exitCode).toBe(1);
    expect(noFlag.stderr).toContain(`container ${a2}: host path ${SOCKET} mounted at /var/run/docker.sock (read-only)`);
    expect(await exists('container', a2)).toBe(false);
    const withFlag = await runCli([...agentArgs, '--allow-privileged'], { env: cfg.env });
    expect(withFlag.exitCode, withFlag.stderr).toBe(0);
    expect((await docker.getContainer(a2).inspect()).HostConfig.Binds).toEqual([`${SOCKET}:/var/run/docker.sock:ro`]);
  });
});

describe('restore ID and the current directory', () => {
  it('an id is looked up in the store only, never in a folder of that name in the cwd; a path must look like one', async () => {
    const cfg = await setup();
    const plain = await createTestContainer(docker, 'rsec', {}, false);
    const made = await backup(cfg, [plain]);
    // A folder in the cwd named like an id that the store does not hold, holding a real backup.
    const cwd = await mkdtemp(join(tmp, 'cwd-'));
    const lookalike = '20200101T000000Z';
    await execa('cp', ['-a', made.dir, join(cwd, lookalike)]);
    const c2 = testName('rsec');
    cleanupAfter(docker, { containers: [c2] });

    const byId = await runCli(['-c', cfg.config, 'restore', lookalike, '-C', plain, '-r', `${plain}:${c2}`], {
      env: cfg.env,
      cwd,
    });
    expect(byId.exitCode).toBe(1);
    expect(byId.stderr).toContain(`no backup ${lookalike} for host`);
    expect(byId.stderr).toContain(`a folder in the current directory is given as ./${lookalike}`);
    expect(await exists('container', c2)).toBe(false);

    const neither = await runCli(['-c', cfg.config, 'restore', 'my-backup', '-C', plain], { env: cfg.env, cwd });
    expect(neither.exitCode).toBe(1);
    expect(neither.stderr).toContain('"my-backup" is neither a backup id');
    expect(neither.stderr).toContain('give a folder as a path: ./my-backup');

    const byPath = await runCli(
      ['-c', cfg.config, 'restore', `./${lookalike}`, '-C', plain, '-r', `${plain}:${c2}`, '--dry-run'],
      { env: cfg.env, cwd },
    );
    expect(byPath.exitCode, byPath.stderr + byPath.stdout).toBe(0);
    expect(byPath.stdout).toContain(`Dry run: would restore from backup ${made.id} (host`);
    expect(byPath.stdout).toContain(join(cwd, lookalike));

    const storeId = await runCli(
      ['-c', cfg.config, 'restore', made.id, '-C', plain, '-r', `${plain}:${c2}`, '--dry-run'],
      { env: cfg.env, cwd },
    );
    expect(storeId.exitCode, storeId.stderr).toBe(0);
    expect(storeId.stdout).toContain(made.dir);
  });
});
