// The demo's sftp remote: a throwaway OpenSSH sshd on 127.0.0.1 (RECIPES §5) with its own host key
// and client key, made with ssh-keygen in the demo's temp folder, its own config file, a free port,
// root login by key only. Stopped by its pid, never by name.
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';

export interface DemoSshd {
  port: number;
  pid: number;
  /** the client's private key, for the remote's key_file */
  clientKey: string;
  /** "ssh-ed25519 AAAA...", pinned as the remote's host_key */
  hostKey: string;
  /** sshd's config file: its path is in the daemon's command line (scripts/demo.sh checks it) */
  configFile: string;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export async function startSshd(dir: string): Promise<DemoSshd> {
  if (!existsSync('/usr/sbin/sshd'))
    throw new Error('sshd is not installed: run scripts/install-deps.sh as root (installs openssh-server)');
  // sshd's privilege separation directory; normally made by the openssh-server service, which may never have run here
  if (!existsSync('/run/sshd')) await mkdir('/run/sshd', { mode: 0o755, recursive: true });
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const keygen = (file: string, comment: string) =>
    execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', join(dir, file)]);
  await Promise.all([keygen('host_key', 'bbdemo sshd host key'), keygen('client_key', 'bbdemo client')]);
  await copyFile(join(dir, 'client_key.pub'), join(dir, 'authorized_keys'));
  await chmod(join(dir, 'authorized_keys'), 0o600);
  const hostKey = (await readFile(join(dir, 'host_key.pub'), 'utf8')).trim().split(/\s+/).slice(0, 2).join(' ');
  const configFile = join(dir, 'sshd_config');
  const pidFile = join(dir, 'sshd.pid');
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    await writeFile(
      configFile,
      [
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${join(dir, 'host_key')}`,
        `PidFile ${pidFile}`,
        `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
        'PermitRootLogin prohibit-password',
        'PubkeyAuthentication yes',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'UsePAM no',
        'StrictModes no', // the keys live under /tmp
        'Subsystem sftp internal-sftp',
        'LogLevel INFO',
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    await rm(pidFile, { force: true });
    // sshd checks its config, daemonizes and writes the pid file once it listens
    await execa('/usr/sbin/sshd', ['-f', configFile, '-E', join(dir, 'sshd.log')]);
    for (let i = 0; i < 150; i++) {
      const pid = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim());
      if (pid > 0) return { port, pid, clientKey: join(dir, 'client_key'), hostKey, configFile };
      await sleep(20);
    }
    // the port was taken between freePort and sshd's bind: try another one
    if (attempt >= 3)
      throw new Error(`sshd did not start: ${await readFile(join(dir, 'sshd.log'), 'utf8').catch(() => '(no log)')}`);
  }
}
