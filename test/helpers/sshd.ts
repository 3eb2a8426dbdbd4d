// A throwaway OpenSSH sshd on 127.0.0.1 (RECIPES §5): free port, its own host key, a client key
// in a private authorized_keys, root login by key. Stopped by pid, never by name.
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile, copyFile, chmod } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface Sshd {
  host: '127.0.0.1';
  port: number;
  user: 'root';
  dir: string;
  /** private key the server accepts */
  clientKey: string;
  /** "[127.0.0.1]:port ssh-ed25519 AAAA..." in a file */
  knownHosts: string;
  /** "ssh-ed25519 AAAA..." */
  hostKey: string;
  /** a known_hosts file holding a different key for this host:port */
  wrongKnownHosts: string;
  pid: number;
  stop(): Promise<void>;
}

export const haveSshd = (): boolean => existsSync('/usr/sbin/sshd');

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** `env`: variables sshd sets in every session (SetEnv), e.g. DOCKER_HOST for `docker system dial-stdio`. */
export async function startSshd(opts: { env?: Record<string, string> } = {}): Promise<Sshd> {
  if (!existsSync('/run/sshd')) await mkdir('/run/sshd', { mode: 0o755, recursive: true }); // privilege separation dir
  const dir = await mkdtemp(join(tmpdir(), 'bbt-rm-sshd-'));
  const keygen = (file: string) => execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, file)]);
  await Promise.all([keygen('host_key'), keygen('client_key'), keygen('other_host_key')]);
  await copyFile(join(dir, 'client_key.pub'), join(dir, 'authorized_keys'));
  await chmod(join(dir, 'authorized_keys'), 0o600);
  const hostKey = (await readFile(join(dir, 'host_key.pub'), 'utf8')).trim().split(/\s+/).slice(0, 2).join(' ');
  const otherKey = (await readFile(join(dir, 'other_host_key.pub'), 'utf8')).trim().split(/\s+/).slice(0, 2).join(' ');
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const config = [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${join(dir, 'host_key')}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'PermitRootLogin prohibit-password',
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      'Subsystem sftp internal-sftp',
      'MaxStartups 100:30:200',
      'MaxSessions 50',
      'LogLevel VERBOSE',
      ...Object.entries(opts.env ?? {}).map(([k, v]) => `SetEnv ${k}=${v}`),
    ].join('\n');
    await writeFile(join(dir, 'sshd_config'), `${config}\n`);
    await writeFile(join(dir, 'known_hosts'), `[127.0.0.1]:${port} ${hostKey}\n`);
    await writeFile(join(dir, 'wrong_known_hosts'), `[127.0.0.1]:${port} ${otherKey}\n`);
    await rm(join(dir, 'sshd.pid'), { force: true });
    // sshd daemonizes; the pid file appears once it listens.
    await execa('/usr/sbin/sshd', ['-f', join(dir, 'sshd_config'), '-E', join(dir, 'sshd.log')]);
    let pid = 0;
    for (let i = 0; i < 100 && !pid; i++) {
      pid = Number((await readFile(join(dir, 'sshd.pid'), 'utf8').catch(() => '')).trim()) || 0;
      if (!pid) await sleep(20);
    }
    if (pid) {
      return {
        host: '127.0.0.1',
        port,
        user: 'root',
        dir,
        pid,
        clientKey: join(dir, 'client_key'),
        knownHosts: join(dir, 'known_hosts'),
        wrongKnownHosts: join(dir, 'wrong_known_hosts'),
        hostKey,
        stop: async () => {
          try {
            process.kill(pid, 'SIGTERM');
          } catch {
            /* already gone */
          }
          await rm(dir, { recursive: true, force: true });
        },
      };
    }
    if (attempt >= 3)
      throw new Error(`sshd did not start: ${await readFile(join(dir, 'sshd.log'), 'utf8').catch(() => '')}`);
  }
}
