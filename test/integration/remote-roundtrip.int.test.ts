// Upload, list, pull and restore, byte- and metadata-identical, for every remote kind: a local
// folder, sftp to a real OpenSSH sshd, and the real rclone binary with a local and an sftp backend
// configured only through the environment. The backup is made by the real engine (`bbackup
// backup`), uploaded by its post-backup step to all four remotes at once.
import { execa } from 'execa';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDocker, testLabels } from '../helpers/docker.js';
import { testName } from '../helpers/names.js';
import { rcloneTestEnv } from '../helpers/rclone-env.js';
import { startSshd, type Sshd } from '../helpers/sshd.js';
import { describeTree, fillRichTree, mountpointOf } from '../helpers/volume-data.js';
import { configFile, REMOTE_KINDS, remotesSection } from './remote-helpers.js';

let sshd: Sshd;
let tmp: string;
let docker: Docker;
const volumes: string[] = [];
beforeAll(async () => {
  sshd = await startSshd();
  rcloneTestEnv(sshd);
  tmp = await mkdtemp(join(tmpdir(), 'bbt-rm-rt-'));
  docker = testDocker();
});
afterAll(async () => {
  for (const v of volumes)
    await docker
      .getVolume(v)
      .remove({ force: true })
      .catch(() => undefined);
  await sshd?.stop();
  await rm(tmp, { recursive: true, force: true });
});

const removeVolumeAfter = (name: string) => async () =>
  docker
    .getVolume(name)
    .remove({ force: true })
    .catch(() => undefined);

describe('remote round trip (real backup engine, every remote kind)', () => {
  let volume: string;
  let id: string;
  let host: string;
  let original: Awaited<ReturnType<typeof describeTree>>;

  it('backup uploads to every enabled remote; the remote holds the backup and no .partial', async () => {
    // shared by the tests below, so created here and removed in afterAll (not per test)
    volume = testName('rm');
    await docker.createVolume({ Name: volume, Labels: testLabels() });
    volumes.push(volume);
    await fillRichTree(await mountpointOf(docker, volume));
    original = await describeTree(await mountpointOf(docker, volume));
    const cli = await configFile(join(tmp, 'plain.yaml'), {
      backup: { store: join(tmp, 'store') },
      remotes: remotesSection(sshd, join(tmp, 'plain')),
      retention: { enabled: false },
    });
    const r = await cli(['backup', '--volumes', volume]);
    expect(r.stderr + r.stdout).not.toMatch(/FAILED/);
    expect(r.exitCode).toBe(0);
    host = (await readdir(join(tmp, 'store')))[0]!;
    id = (await readdir(join(tmp, 'store', host))).filter((n) => !n.startsWith('.'))[0]!;
    expect(id).toMatch(/^\d{8}T\d{6}Z$/);
    for (const kind of REMOTE_KINDS) {
      const files = await readdir(join(tmp, 'plain', kind, host!));
      expect(files).toEqual([id]);
      expect((await readdir(join(tmp, 'plain', kind, host!, id!, 'volumes'))).sort()).toEqual([
        `${volume}.index.jsonl`,
        `${volume}.tar.zst`,
      ]);
    }
  });

  it.each(REMOTE_KINDS)('%s: list, pull and restore give back the same volume', async (kind) => {
    expect(id, 'the backup test above must pass first').toBeDefined();
    const cli = await configFile(join(tmp, `pull-${kind}.yaml`), {
      backup: { store: join(tmp, `store-${kind}`) },
      remotes: remotesSection(sshd, join(tmp, 'plain'), [kind]),
    });
    const listed = await cli(['--json', 'list-remote-backups', '-r', kind]);
    expect(listed.exitCode).toBe(0);
    const doc = JSON.parse(listed.stdout) as {
      backups: { id: string; host: string; encrypted: boolean; size: number }[];
    };
    expect(doc.backups).toEqual([expect.objectContaining({ id, host, encrypted: false })]);
    expect(doc.backups[0]!.size).toBeGreaterThan(1000);

    const pulled = await cli(['pull', kind, id]);
    expect(pulled.stderr).not.toMatch(/error/);
    expect(pulled.exitCode).toBe(0);
    const dir = join(tmp, `store-${kind}`, host, id);
    expect(await readFile(join(dir, 'manifest.json'), 'utf8')).toBe(
      await readFile(join(tmp, 'store', host, id, 'manifest.json'), 'utf8'),
    );

    const target = testName('rm');
    const restored = await cli(['restore', dir, '-V', volume, '-r', `${volume}:${target}`]);
    try {
      expect(restored.stderr).toBe('');
      expect(restored.exitCode).toBe(0);
      expect(await describeTree(await mountpointOf(docker, target))).toEqual(original);
    } finally {
      await removeVolumeAfter(target)();
    }
  });

  it('restore --from-remote pulls (checked) and restores in one step', async () => {
    expect(id).toBeDefined();
    const cli = await configFile(join(tmp, 'from-remote.yaml'), {
      backup: { store: join(tmp, 'store-from-remote') },
      remotes: remotesSection(sshd, join(tmp, 'plain'), ['rclone-sftp']),
    });
    const target = testName('rm');
    try {
      const r = await cli(['restore', id, '--from-remote', 'rclone-sftp', '-V', volume, '-r', `${volume}:${target}`]);
      expect(r.exitCode, r.stderr).toBe(0);
      expect(await describeTree(await mountpointOf(docker, target))).toEqual(original);
      expect(await readdir(join(tmp, 'store-from-remote', host))).toEqual([id]);
    } finally {
      await removeVolumeAfter(target)();
    }
  });

  it('an encrypted remote backup decrypts with the standard age CLI and pulls back identical', async () => {
    expect(id).toBeDefined();
    const key = join(tmp, 'age.key');
    await execa('age-keygen', ['-o', key]);
    const recipient = (await readFile(key, 'utf8')).match(/public key: (age1\w+)/)![1]!;
    const cli = await configFile(join(tmp, 'enc.yaml'), {
      backup: { store: join(tmp, 'store') },
      remotes: remotesSection(sshd, join(tmp, 'enc'), ['sftp', 'rclone-local']),
      encryption: { enabled: true, recipients: [recipient], identity_file: key },
      retention: { enabled: false },
    });
    const r = await cli(['backup', '--volumes', volume]);
    expect(r.exitCode, r.stderr).toBe(0);
    const ids = (await readdir(join(tmp, 'store', host))).filter((n) => !n.startsWith('.')).sort();
    const encId = ids.at(-1)!;
    for (const kind of ['sftp', 'rclone-local']) {
      const folder = join(tmp, 'enc', kind, host, encId);
      const stored = (await readdir(folder, { recursive: true })).filter(
        (f) => !f.endsWith('volumes') && f.includes('.') && f !== 'retention.json',
      );
      expect(stored.every((f) => f.endsWith('.age'))).toBe(true);
      // the one plaintext file: status and a hashed group, for rotation without the identity
      expect(JSON.parse(await readFile(join(folder, 'retention.json'), 'utf8'))).toEqual({
        format: 1,
        id: encId,
        status: 'complete',
        group: expect.stringMatching(/^h:[0-9a-f]{16}$/),
      });
      // the standard tool, no bbackup involved
      const manifest = await execa('age', ['-d', '-i', key, join(folder, 'manifest.json.age')]);
      expect(manifest.stdout.trim()).toBe(
        (await readFile(join(tmp, 'store', host, encId, 'manifest.json'), 'utf8')).trim(),
      );
      const listing = await execa('sh', [
        '-c',
        'age -d -i "$1" "$2" | zstd -dc | tar -tf - | sort',
        'sh',
        key,
        join(folder, 'volumes', `${volume}.tar.zst.age`),
      ]);
      expect(listing.stdout).toContain('./etc/app.conf');
    }
    const list = await cli(['--json', 'list-remote-backups', '-r', 'sftp']);
    expect(list.exitCode, list.stderr).toBe(0);
    const listed = JSON.parse(list.stdout) as { backups: { id: string; encrypted: boolean }[] };
    expect(listed.backups.find((b) => b.id === encId)?.encrypted).toBe(true);
    const pullCli = await configFile(join(tmp, 'enc-pull.yaml'), {
      backup: { store: join(tmp, 'store-enc') },
      remotes: remotesSection(sshd, join(tmp, 'enc'), ['sftp']),
      encryption: { enabled: false, identity_file: key },
    });
    const pulled = await pullCli(['pull', 'sftp', encId]);
    expect(pulled.exitCode).toBe(0);
    const target = testName('rm');
    try {
      const restored = await pullCli([
        'restore',
        join(tmp, 'store-enc', host, encId),
        '-V',
        volume,
        '-r',
        `${volume}:${target}`,
      ]);
      expect(restored.exitCode).toBe(0);
      expect(await describeTree(await mountpointOf(docker, target))).toEqual(original);
    } finally {
      await removeVolumeAfter(target)();
    }
  });

  it('pull with the wrong identity fails naming the cause, and leaves nothing in the store', async () => {
    const wrong = join(tmp, 'wrong.key');
    await execa('age-keygen', ['-o', wrong]);
    const ids = (await readdir(join(tmp, 'enc', 'sftp', host))).sort();
    const cli = await configFile(join(tmp, 'wrong.yaml'), {
      backup: { store: join(tmp, 'store-wrong') },
      remotes: remotesSection(sshd, join(tmp, 'enc'), ['sftp']),
      encryption: { enabled: false, identity_file: wrong },
    });
    const r = await cli(['pull', 'sftp', ids.at(-1)!]);
    expect(r.exitCode, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/wrong key/);
    expect(r.stderr).toMatch(/no identity matched/);
    expect(await readdir(join(tmp, 'store-wrong', host))).toEqual([]);
  });
});
