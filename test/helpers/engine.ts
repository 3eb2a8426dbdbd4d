// Finds or starts the Docker engine integration tests run against (DESIGN §8):
// BBACKUP_TEST_DOCKER_HOST when set, else a daemon answering on the default socket, else a private
// dockerd with its own socket and data root (no bridge, no iptables), stopped afterwards.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';

export interface TestEngine {
  /** unix:///... address */
  address: string;
  socketPath: string;
  /** set when we started the daemon ourselves */
  stop?: () => Promise<void>;
  dataRoot?: string;
}

const DEFAULT_SOCKET = '/var/run/docker.sock';

async function answers(socketPath: string, timeoutMs = 3000): Promise<boolean> {
  if (!existsSync(socketPath)) return false;
  try {
    await new Docker({ socketPath, timeout: timeoutMs }).ping();
    return true;
  } catch {
    return false;
  }
}

export async function findOrStartEngine(): Promise<TestEngine> {
  const given = process.env.BBACKUP_TEST_DOCKER_HOST;
  if (given) {
    const socketPath = given.replace(/^unix:\/\//, '');
    if (!(await answers(socketPath))) throw new Error(`BBACKUP_TEST_DOCKER_HOST=${given} does not answer`);
    return { address: `unix://${socketPath}`, socketPath };
  }
  if (process.env.BBACKUP_TEST_PRIVATE_ENGINE !== '1' && (await answers(DEFAULT_SOCKET))) {
    return { address: `unix://${DEFAULT_SOCKET}`, socketPath: DEFAULT_SOCKET };
  }
  return startPrivateEngine();
}

/** opts.tcpPort: also listen on tcp://127.0.0.1:PORT (plain HTTP, loopback only), as a "remote" engine. */
export async function startPrivateEngine(
  prefix = 'bbackup-test-engine-',
  opts: { tcpPort?: number } = {},
): Promise<TestEngine> {
  const dockerd = ['/usr/sbin/dockerd', '/usr/bin/dockerd'].find((p) => existsSync(p));
  if (!dockerd) throw new Error('dockerd is not installed: run scripts/install-deps.sh as root (installs docker.io)');
  // Short paths: unix socket paths are limited to 108 bytes.
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const socketPath = join(dir, 'd.sock');
  const dataRoot = join(dir, 'root');
  mkdirSync(dataRoot);
  const log = openSync(join(dir, 'dockerd.log'), 'a');
  const child = spawn(
    dockerd,
    [
      '--host',
      `unix://${socketPath}`,
      ...(opts.tcpPort ? ['--host', `tcp://127.0.0.1:${opts.tcpPort}`] : []),
      '--data-root',
      dataRoot,
      '--exec-root',
      join(dir, 'exec'),
      '--pidfile',
      join(dir, 'd.pid'),
      '--bridge=none',
      '--iptables=false',
      '--ip-masq=false',
      '--ip6tables=false',
      // a pool of its own (256 networks of /24): the default pools are 31 networks and skip any
      // range a bridge on the host already routes, so a busy or littered host runs out of them
      '--default-address-pool',
      'base=10.213.0.0/16,size=24',
    ],
    { detached: true, stdio: ['ignore', log, log] },
  );
  child.unref();
  const deadline = Date.now() + 60_000;
  while (!(await answers(socketPath, 1000))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      const tail = readFileSync(join(dir, 'dockerd.log'), 'utf8').split('\n').slice(-15).join('\n');
      throw new Error(`private dockerd did not start:\n${tail}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const stop = async (): Promise<void> => {
    // Every object of this engine is a test's: remove its networks (and the containers on them)
    // while it runs, or their bridge interfaces outlive the engine and its deleted data root,
    // holding their address ranges on the host.
    await removeNetworks(socketPath).catch((err) => console.error('could not remove the test networks:', err));
    if (child.exitCode === null && child.pid) {
      // Keep the event loop alive while we wait: an unref'd child alone would let the process exit.
      child.ref();
      const exited = new Promise((r) => child.once('exit', r));
      process.kill(child.pid, 'SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 20_000)))]);
      clearTimeout(timer);
      if (child.exitCode === null) process.kill(child.pid, 'SIGKILL');
    }
    // A dockerd that had to be killed leaves its data root (bind-mounted onto itself) and any
    // overlay mounts under it mounted: unmount them, deepest first, or rm fails with EBUSY.
    unmountUnder(dir);
    // containerd may still be closing its files for a moment after dockerd exits.
    await rm(dir, { recursive: true, force: true, maxRetries: 20, retryDelay: 250 }).catch((err) =>
      console.error(`could not remove ${dir}:`, err),
    );
  };
  return { address: `unix://${socketPath}`, socketPath, stop, dataRoot };
}

async function removeNetworks(socketPath: string): Promise<void> {
  const docker = new Docker({ socketPath, timeout: 30_000 });
  // containers first: a network with an endpoint cannot be removed
  for (const c of await docker.listContainers({ all: true }))
    await docker
      .getContainer(c.Id)
      .remove({ force: true })
      .catch(() => undefined);
  for (const n of await docker.listNetworks())
    if (!['bridge', 'host', 'none'].includes(n.Name))
      await docker
        .getNetwork(n.Id)
        .remove()
        .catch(() => undefined);
}

/** This process's mounts (/proc/self/mounts), paths decoded: the file writes a space as \040. */
export function mounts(): { source: string; target: string; type: string }[] {
  const decode = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  return readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [source = '', target = '', type = ''] = line.split(' ');
      return { source: decode(source), target: decode(target), type };
    });
}

function unmountUnder(dir: string): void {
  const targets = mounts()
    .map((m) => m.target)
    .filter((t) => t.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
  for (const t of targets) spawnSync('umount', ['-l', t]);
}
