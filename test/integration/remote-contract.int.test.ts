// The Remote contract against every implementation: a local folder, a real OpenSSH sshd over
// sftp, and the real rclone binary with a local and an sftp backend configured only through
// RCLONE_CONFIG_<NAME>_* environment variables.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { LocalRemote } from '../../src/remote/local.js';
import { RcloneRemote } from '../../src/remote/rclone.js';
import { SftpRemote } from '../../src/remote/sftp.js';
import { describeRemoteContract } from '../contract/remote.js';
import { startSshd, type Sshd } from '../helpers/sshd.js';
import { rcloneTestEnv } from '../helpers/rclone-env.js';

let sshd: Sshd;
beforeAll(async () => {
  sshd = await startSshd();
  rcloneTestEnv(sshd);
});
afterAll(async () => sshd?.stop());

const tmp = () => mkdtemp(join(tmpdir(), 'bbt-rm-contract-'));

describeRemoteContract('local', async () => {
  const dir = await tmp();
  return { remote: new LocalRemote('nas', dir), cleanup: () => rm(dir, { recursive: true, force: true }) };
});

describeRemoteContract('sftp (OpenSSH sshd)', async () => {
  const dir = await tmp();
  const remote = new SftpRemote('box', {
    host: sshd.host,
    port: sshd.port,
    user: sshd.user,
    path: dir,
    keyFile: sshd.clientKey,
    knownHosts: sshd.knownHosts,
    insecureAcceptAnyHostKey: false,
  });
  return { remote, cleanup: () => rm(dir, { recursive: true, force: true }) };
});

describeRemoteContract('rclone, local backend', async () => {
  const dir = await tmp();
  return {
    remote: new RcloneRemote('rc-local', { remote: `bbtlocal:${dir}`, flags: [] }),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});

describeRemoteContract('rclone, sftp backend', async () => {
  const dir = await tmp();
  return {
    remote: new RcloneRemote('rc-sftp', { remote: `bbtsftp:${dir}`, flags: [] }),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});
