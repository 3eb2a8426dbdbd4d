// Upload failures after a real backup: remote unreachable, wrong SSH key, host key mismatch (sftp
// and rclone), remote disk full (a 1 MiB tmpfs as the local and the sftp target), upload cut off
// (rclone --max-transfer, hard cutoff). Each one: the local backup stays, the remote shows no
// half backup, stderr names the remote and the cause, exit 4 — while a healthy remote in the same
// run still receives the backup.
import { execa } from 'execa';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readManifest } from '../../src/store/manifest.js';
import { testDocker, testLabels } from '../helpers/docker.js';
import { testName } from '../helpers/names.js';
import { rcloneTestEnv } from '../helpers/rclone-env.js';
import { startSshd, type Sshd } from '../helpers/sshd.js';
import { mountpointOf } from '../helpers/volume-data.js';
import { configFile, remotesSection } from './remote-helpers.js';

let sshd: Sshd;
let tmp: string;
let tiny: string;
let docker: Docker;
let volume: string;
beforeAll(async () => {
  sshd = await startSshd();
  rcloneTestEnv(sshd);
  tmp = await mkdtemp(join(tmpdir(), 'bbt-rm-fail-'));
  tiny = join(tmp, 'tiny');
  await mkdir(tiny);
  await execa('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'bbt-rm-tiny', tiny]);
  docker = testDocker();
  volume = testName('rm');
  await docker.createVolume({ Name: volume, Labels: testLabels() });
  // 3 MiB of random bytes: incompressible, so it cannot fit in 1 MiB
  await execa('head', ['-c', String(3 << 20), '/dev/urandom'], {
    stdout: { file: join(await mountpointOf(docker, volume), 'random.bin') },
  });
});
afterAll(async () => {
  await docker
    ?.getVolume(volume)
    .remove({ force: true })
    .catch(() => undefined);
  await execa('umount', [tiny]).catch(() => undefined);
  await sshd?.stop();
  await rm(tmp, { recursive: true, force: true });
});

/** Every file under dir (recursively), to show a remote holds nothing half-written. */
async function filesUnder(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { recursive: true, withFileTypes: true }))
      .filter((e) => !e.isDirectory())
      .map((e) => join(e.parentPath, e.name));
  } catch {
    return [];
  }
}

describe('upload failures make the run partial, never a half backup', () => {
  it('each failing remote is named with its cause; exit 4; local backup and the healthy remote are whole', async () => {
    const wrongKey = join(tmp, 'wrong_key');
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', wrongKey]);
    Object.assign(process.env, {
      RCLONE_CONFIG_BBTBADHK_TYPE: 'sftp',
      RCLONE_CONFIG_BBTBADHK_HOST: sshd.host,
      RCLONE_CONFIG_BBTBADHK_PORT: String(sshd.port),
      RCLONE_CONFIG_BBTBADHK_USER: sshd.user,
      RCLONE_CONFIG_BBTBADHK_KEY_FILE: sshd.clientKey,
      RCLONE_CONFIG_BBTBADHK_KNOWN_HOSTS_FILE: sshd.wrongKnownHosts,
    });
    const sftp = remotesSection(sshd, join(tmp, 'x'), ['sftp']).sftp as Record<string, unknown>;
    const closedPort = sshd.port === 65535 ? 1 : sshd.port + 1; // nothing listens next to our sshd
    const remotes = {
      healthy: { type: 'local', path: join(tmp, 'healthy') },
      unreachable: { ...sftp, port: closedPort, path: join(tmp, 'unreachable'), retry: 1 },
      'wrong-key': { ...sftp, key_file: wrongKey, path: join(tmp, 'wrong-key') },
      'hostkey-sftp': { ...sftp, known_hosts: sshd.wrongKnownHosts, path: join(tmp, 'hostkey-sftp') },
      'hostkey-rclone': { type: 'rclone', remote: `bbtbadhk:${join(tmp, 'hostkey-rclone')}`, retry: 0 },
      'full-local': { type: 'local', path: join(tiny, 'local'), retry: 0 },
      'full-sftp': { ...sftp, path: join(tiny, 'sftp') },
      'cut-rclone': {
        type: 'rclone',
        remote: `bbtlocal:${join(tmp, 'cut')}`,
        flags: ['--max-transfer', '512K', '--cutoff-mode', 'hard'],
        retry: 0,
      },
    };
    const cli = await configFile(join(tmp, 'c.yaml'), {
      backup: { store: join(tmp, 'store') },
      remotes,
      retention: { enabled: false },
    });
    const r = await cli(['backup', '--volumes', volume]);

    expect(r.exitCode, r.stderr).toBe(4);
    const out = r.stdout + r.stderr;
    expect(out).toMatch(/finished with 7 problem/);
    expect(out).not.toMatch(/success/i);
    const causes: Record<string, RegExp> = {
      unreachable: /remote unreachable: .*connection refused/,
      'wrong-key': /remote wrong-key: .*authentication failed/,
      'hostkey-sftp': /remote hostkey-sftp: .*HOST KEY MISMATCH/,
      'hostkey-rclone': /remote hostkey-rclone: .*host key mismatch/,
      'full-local': /remote full-local: .*disk full/,
      'full-sftp': /remote full-sftp: .*disk full/,
      'cut-rclone': /remote cut-rclone: .*max transfer limit reached/,
    };
    for (const [name, cause] of Object.entries(causes)) expect(out, name).toMatch(cause);
    expect(out).not.toMatch(/remote healthy:/);

    // the local backup stays, complete
    const [host] = await readdir(join(tmp, 'store'));
    const ids = (await readdir(join(tmp, 'store', host!))).filter((n) => !n.startsWith('.'));
    expect(ids).toHaveLength(1);
    expect((await readManifest(join(tmp, 'store', host!, ids[0]!))).status).toBe('complete');
    // the healthy remote got it whole
    expect(await readdir(join(tmp, 'healthy', host!))).toEqual(ids);
    // no failing remote holds anything: no backup, no .partial, no temp file
    for (const dir of ['unreachable', 'wrong-key', 'hostkey-sftp', 'hostkey-rclone', 'cut'])
      expect(await filesUnder(join(tmp, dir)), dir).toEqual([]);
    expect(await filesUnder(tiny)).toEqual([]);

    // the listing agrees
    const listed = JSON.parse(
      (await cli(['--json', 'list-remote-backups', '-r', 'full-local', '-r', 'cut-rclone', '-r', 'healthy'])).stdout,
    ) as { backups: { remote: string }[] };
    expect(listed.backups.map((b) => b.remote)).toEqual(['healthy']);
  });
});

describe('an upload cut off mid-way', () => {
  it('leaves no backup and no .partial on the remote, and the next upload succeeds', async () => {
    const { makeFixtureBackup } = await import('../helpers/backup-fixture.js');
    const { SftpRemote } = await import('../../src/remote/sftp.js');
    const { uploadBackup } = await import('../../src/remote/upload-backup.js');
    const { listRemoteBackups } = await import('../../src/remote/list.js');
    const { dir, manifest } = await makeFixtureBackup({
      store: join(tmp, 'cut-store'),
      host: 'h1',
      id: '20261124T230501Z',
      bigBytes: 64 << 20,
    });
    const target = join(tmp, 'cut-sftp');
    const remote = new SftpRemote('box', {
      host: sshd.host,
      port: sshd.port,
      user: sshd.user,
      path: target,
      keyFile: sshd.clientKey,
      knownHosts: sshd.knownHosts,
      insecureAcceptAnyHostKey: false,
    });
    const ac = new AbortController();
    const { bind } = await import('../../src/remote/with-progress.js');
    // cut the transfer once the big volume archive is a few MiB in
    const cutting = {
      ...bind(remote),
      put: ((key, open, o) =>
        remote.put(key, open, { ...o, onProgress: (b) => b > 4 << 20 && ac.abort() })) as typeof remote.put,
    };
    await expect(
      uploadBackup({ remote: cutting, backupDir: dir, manifest, level: 3, encrypted: false, signal: ac.signal }),
    ).rejects.toThrow();
    const signal = AbortSignal.timeout(30_000);
    expect((await listRemoteBackups(remote, signal)).backups).toEqual([]);
    expect(await filesUnder(target)).toEqual([]);
    const again = await uploadBackup({ remote, backupDir: dir, manifest, level: 3, encrypted: false, signal });
    expect(again.existed).toBe(false);
    expect((await listRemoteBackups(remote, signal)).backups.map((b) => b.id)).toEqual([manifest.id]);
    await remote.close();
  });
});
