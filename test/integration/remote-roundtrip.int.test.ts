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

/** CLI runs of the real engine to four remotes on a shared 2-core machine: never a measure of speed */
const SLOW = 600_000;

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

  it(
    'backup uploads to every enabled remote; the remote holds the backup as a snapshot of its repository',
    async () => {
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
      host = (await readdir(join(tmp, 'store'))).filter((n) => !n.startsWith('.'))[0]!; // .remotes: the repository cache
      id = (await readdir(join(tmp, 'store', host))).filter((n) => !n.startsWith('.'))[0]!;
      expect(id).toMatch(/^\d{8}T\d{6}Z$/);
      for (const kind of REMOTE_KINDS) {
        // remote format 2 (docs/FORMAT.md): the repository's description, packs, one snapshot folder
        expect(await readdir(join(tmp, 'plain', kind))).toEqual(
          expect.arrayContaining(['bbackup-repo.json', 'packs', 'snapshots']),
        );
        expect(await readdir(join(tmp, 'plain', kind, 'snapshots', host!))).toEqual([id]);
        expect((await readdir(join(tmp, 'plain', kind, 'snapshots', host!, id!))).sort()).toEqual([
          'info.json',
          'manifest.json',
          'refs.json.gz',
          'snapshot.json',
        ]);
        const packs = await readdir(join(tmp, 'plain', kind, 'packs'));
        expect(packs.some((n) => n.endsWith('.tar.zst'))).toBe(true);
        expect(packs.every((n) => /^[0-9a-f]{32}\.(tar\.zst|idx\.json)$/.test(n))).toBe(true);
      }
    },
    SLOW,
  );

  // Restoring a pulled backup is shown below (restore --from-remote on rclone-sftp, the encrypted
  // backup on sftp); here each kind must give back the backup exactly as the engine wrote it.
  it.each(REMOTE_KINDS)(
    '%s: list and pull give back the backup as written (manifest, every volume entry with its metadata)',
    async (kind) => {
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
      const written = join(tmp, 'store', host, id);
      expect(await readFile(join(dir, 'manifest.json'), 'utf8')).toBe(
        await readFile(join(written, 'manifest.json'), 'utf8'),
      );
      expect(await describeTree(join(dir, 'volumes', volume))).toEqual(
        await describeTree(join(written, 'volumes', volume)),
      );
    },
    SLOW,
  );

  it(
    'restore --from-remote pulls (checked) and restores in one step',
    async () => {
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
    },
    SLOW,
  );

  it(
    'an encrypted remote backup decrypts with the standard age CLI and pulls back identical',
    async () => {
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
        const folder = join(tmp, 'enc', kind, 'snapshots', host, encId);
        // the plaintext files: what rotation and listings need without the identity (no names, no group)
        expect((await readdir(folder)).sort()).toEqual([
          'info.json',
          'manifest.json.age',
          'refs.json.gz',
          'snapshot.json.age',
        ]);
        expect(JSON.parse(await readFile(join(folder, 'info.json'), 'utf8'))).toMatchObject({
          format: 2,
          id: encId,
          status: 'complete',
          encrypted: true,
          group: expect.stringMatching(/^h:[0-9a-f]{16}$/),
        });
        // the standard tools, no bbackup involved
        const manifest = await execa('age', ['-d', '-i', key, join(folder, 'manifest.json.age')]);
        expect(manifest.stdout.trim()).toBe(
          (await readFile(join(tmp, 'store', host, encId, 'manifest.json'), 'utf8')).trim(),
        );
        const packs = (await readdir(join(tmp, 'enc', kind, 'packs'))).filter((n) => !n.endsWith('.idx.json'));
        expect(packs.length).toBeGreaterThan(0);
        for (const p of packs) {
          expect(p).toMatch(/^[0-9a-f]{32}\.tar\.zst\.age$/);
          const listing = await execa('sh', [
            '-c',
            'age -d -i "$1" "$2" | zstd -dc | tar -tf -',
            'sh',
            key,
            join(tmp, 'enc', kind, 'packs', p),
          ]);
          const names = listing.stdout.split('\n');
          expect(names[0]).toBe('bbackup-pack.json');
          expect(names.slice(1).every((n) => /^[0-9a-f]{64}$/.test(n))).toBe(true);
        }
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
    },
    SLOW,
  );

  it(
    'pull with the wrong identity fails naming the cause, and leaves nothing in the store',
    async () => {
      const wrong = join(tmp, 'wrong.key');
      await execa('age-keygen', ['-o', wrong]);
      const ids = (await readdir(join(tmp, 'enc', 'sftp', 'snapshots', host))).sort();
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
    },
    SLOW,
  );
});
