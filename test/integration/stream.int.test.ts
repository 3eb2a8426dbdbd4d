// stream mode (DESIGN §4), forced with `volume_mode: stream` on a hosts entry: the volume is read
// through the engine's archive API from a created, never-started helper, into the local store
// (tree and archive formats, incremental against the parent), and restored via putArchive;
// the restored volume is byte-identical, with owners, modes and links.
import { execa } from 'execa';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { busyboxImageSpec, ensureImage } from '../../src/docker/images.js';
import { startPrivateEngine, type TestEngine } from '../helpers/engine.js';
import { startSshd } from '../helpers/sshd.js';
import { BUSYBOX_IMAGE } from '../helpers/names.js';
import { runCli } from '../helpers/cli.js';
import { createTestVolume, runInBusybox, testDocker } from '../helpers/docker.js';
import { testName } from '../helpers/names.js';
import { tempDir, volumeFingerprint, watchEvents, writeConfig } from './ops-fixtures.js';

const docker = testDocker();
const ENGINE = process.env.BBACKUP_TEST_DOCKER_HOST!;

const FILL = [
  'head -c 2000000 /dev/urandom > /v/random.bin',
  'echo hello > /v/hello.txt',
  'mkdir -p /v/deep/er/still && echo nested > /v/deep/er/still/n.txt && mkdir /v/empty-dir && : > /v/empty-file',
  'ln -s hello.txt /v/link && ln /v/hello.txt /v/hard',
  'echo secret > /v/deep/private && chown 1234:5678 /v/deep/private && chmod 600 /v/deep/private',
].join(' && ');

async function backupStream(config: string, volume: string): Promise<{ id: string; dir: string }> {
  const r = await runCli(['-c', config, '--host', 'far', '--json', 'backup', '--volumes', volume], {
    env: { BBACKUP_CONFIG: undefined },
  });
  expect(`${r.exitCode}\n${r.stderr}`).toBe('0\n');
  const doc = JSON.parse(r.stdout) as {
    id?: string;
    backupId?: string;
    dir?: string;
    backup?: { id: string; dir: string };
  };
  const id = doc.id ?? doc.backupId ?? doc.backup?.id;
  expect(id, r.stdout).toBeTruthy();
  return { id: id!, dir: doc.dir ?? doc.backup?.dir ?? '' };
}

async function restoreAs(config: string, id: string, from: string, to: string): Promise<void> {
  onTestFinished(async () => {
    await docker
      .getVolume(to)
      .remove({ force: true })
      .catch(() => undefined);
  });
  const r = await runCli(['-c', config, '--host', 'far', 'restore', id, '-V', from, '--rename', `${from}:${to}`], {
    env: { BBACKUP_CONFIG: undefined },
  });
  expect(r.exitCode, r.stderr + r.stdout).toBe(0);
}

describe('stream volume mode', () => {
  it('tree format: backs up through the archive API, incrementally, and restores byte-identically', async () => {
    const dir = await tempDir('stream');
    const store = join(dir, 'store');
    const config = await writeConfig(dir, {
      backup: { store, volumes: { format: 'tree' } },
      retention: { enabled: false },
      hosts: { far: { docker_host: ENGINE, volume_mode: 'stream' } },
      logging: { level: 'debug', file: join(dir, 'bbackup.log') },
    });
    const volume = await createTestVolume(docker, 'ops-stream');
    await runInBusybox(docker, FILL, [`${volume}:/v`]);
    const events = await watchEvents(docker, []);

    const first = await backupStream(config, volume);
    const tree = (id: string) => join(store, 'far', id, 'volumes', volume);
    expect(await readFile(join(tree(first.id), 'hello.txt'), 'utf8')).toBe('hello\n');
    const priv = await stat(join(tree(first.id), 'deep', 'private'));
    expect([priv.uid, priv.gid, priv.mode & 0o777]).toEqual([1234, 5678, 0o600]);

    // second run after a change: unchanged files are hard links to the first snapshot
    await runInBusybox(docker, 'echo changed > /v/hello2.txt && echo more >> /v/deep/er/still/n.txt', [`${volume}:/v`]);
    const second = await backupStream(config, volume);
    const [a, b] = await Promise.all([
      stat(join(tree(first.id), 'random.bin')),
      stat(join(tree(second.id), 'random.bin')),
    ]);
    expect(b.ino).toBe(a.ino);
    const [n1, n2] = await Promise.all([
      stat(join(tree(first.id), 'deep/er/still/n.txt')),
      stat(join(tree(second.id), 'deep/er/still/n.txt')),
    ]);
    expect(n2.ino).not.toBe(n1.ino);
    const log = await readFile(join(dir, 'bbackup.log'), 'utf8');
    expect(log).toMatch(/stream helper \w+ \(created, never started\) serves volume/);

    // helpers were created and removed, never started
    events.stop();
    const helperStarts = events.events.filter((e) => e.name.startsWith('bbackup-stream-') && e.status === 'start');
    expect(events.events.some((e) => e.name.startsWith('bbackup-stream-') && e.status === 'create')).toBe(true);
    expect(helperStarts).toEqual([]);
    expect(
      await docker.listContainers({ all: true, filters: { label: ['bbackup.helper=1'], name: ['bbackup-stream-'] } }),
    ).toEqual([]);

    const restored = testName('ops-stream-restored');
    await restoreAs(config, second.id, volume, restored);
    expect(await volumeFingerprint(docker, restored)).toBe(await volumeFingerprint(docker, volume));
  });

  it('archive format: stores the engine stream compressed and restores byte-identically', async () => {
    const dir = await tempDir('stream');
    const store = join(dir, 'store');
    const config = await writeConfig(dir, {
      backup: { store, volumes: { format: 'archive' } },
      retention: { enabled: false },
      hosts: { far: { docker_host: ENGINE, volume_mode: 'stream' } },
    });
    const volume = await createTestVolume(docker, 'ops-stream');
    await runInBusybox(docker, FILL, [`${volume}:/v`]);
    const { id } = await backupStream(config, volume);
    const manifest = JSON.parse(await readFile(join(store, 'far', id, 'manifest.json'), 'utf8')) as {
      items: { kind: string; name: string; format?: string; files: { path: string }[] }[];
    };
    const item = manifest.items.find((i) => i.kind === 'volume' && i.name === volume)!;
    expect(item.format).toBe('archive');
    expect(item.files[0]!.path).toMatch(/^volumes\/.*\.tar\.zst$/);
    const restored = testName('ops-stream-restored');
    await restoreAs(config, id, volume, restored);
    expect(await volumeFingerprint(docker, restored)).toBe(await volumeFingerprint(docker, volume));
  });
});

describe('stream mode failures', () => {
  it('a full store: the item fails with the disk named, no helper is left, nothing half-written is listed', async () => {
    const mnt = await tempDir('stream-full');
    await execa('mount', ['-t', 'tmpfs', '-o', 'size=700k', 'tmpfs', mnt]);
    try {
      const config = await writeConfig(await tempDir('stream-full-cfg'), {
        backup: { store: mnt },
        retention: { enabled: false },
        hosts: { far: { docker_host: ENGINE, volume_mode: 'stream' } },
      });
      const volume = await createTestVolume(docker, 'ops-stream');
      await runInBusybox(docker, 'head -c 3000000 /dev/urandom > /v/big.bin', [`${volume}:/v`]);
      const r = await runCli(['-c', config, '--host', 'far', 'backup', '--volumes', volume], {
        env: { BBACKUP_CONFIG: undefined },
      });
      expect([3, 4]).toContain(r.exitCode);
      expect(r.stderr, r.stderr).toMatch(/no space left/i);
      expect(r.stderr).not.toMatch(/EPIPE/);
      expect(await docker.listContainers({ all: true, filters: { name: ['bbackup-stream-'] } })).toEqual([]);
      const left = await readdir(join(mnt, 'far')).catch(() => [] as string[]);
      expect(left.filter((n) => /^\d{8}T/.test(n))).toEqual([]);
    } finally {
      await execa('umount', [mnt]);
    }
  });
});

describe('a remote engine over tcp://', () => {
  let engine: TestEngine | undefined;
  let far: Docker;
  let port = 0;
  beforeAll(async () => {
    port = await freePort();
    engine = await startPrivateEngine('bbt-ops-tcp-', { tcpPort: port });
    far = new Docker({ socketPath: engine.socketPath });
    await ensureImage(far, busyboxImageSpec(BUSYBOX_IMAGE));
  }, 120_000);
  afterAll(async () => {
    await engine?.stop?.();
  }, 60_000);

  it('volume_mode auto picks stream for it: backup and restore over TCP are byte-identical', async () => {
    const dir = await tempDir('tcp');
    const store = join(dir, 'store');
    const config = await writeConfig(dir, {
      backup: { store },
      retention: { enabled: false },
      hosts: { far: { docker_host: `tcp://127.0.0.1:${port}` } },
      logging: { level: 'debug', file: join(dir, 'bbackup.log') },
    });
    const volume = await createTestVolume(far, 'ops-tcp');
    await runInBusybox(far, FILL, [`${volume}:/v`]);
    const { id } = await backupStream(config, volume);
    expect(await readFile(join(store, 'far', id, 'volumes', volume, 'deep', 'er', 'still', 'n.txt'), 'utf8')).toBe(
      'nested\n',
    );
    expect(await readFile(join(dir, 'bbackup.log'), 'utf8')).toMatch(
      /stream helper \w+ \(created, never started\) serves volume/,
    );
    const restored = testName('ops-tcp-restored');
    onTestFinished(async () => {
      await far
        .getVolume(restored)
        .remove({ force: true })
        .catch(() => undefined);
    });
    const r = await runCli(
      ['-c', config, '--host', 'far', 'restore', id, '-V', volume, '--rename', `${volume}:${restored}`],
      { env: { BBACKUP_CONFIG: undefined } },
    );
    expect(r.exitCode, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toContain('stream');
    expect(await volumeFingerprint(far, restored)).toBe(await volumeFingerprint(far, volume));
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createNetServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

describe('a remote engine over ssh://', () => {
  it('backs up and restores through `docker system dial-stdio` on a real sshd, byte-identically', async () => {
    // The ssh session's `docker system dial-stdio` must reach the test engine, which may be a private one.
    const sshd = await startSshd({ env: { DOCKER_HOST: ENGINE } });
    onTestFinished(() => sshd.stop());
    const dir = await tempDir('ssh');
    // dockerode authenticates through ssh-agent: our own agent, in the foreground, stopped by its pid
    const agentSock = join(dir, 'agent.sock');
    const agent = execa('ssh-agent', ['-D', '-a', agentSock], { reject: false });
    onTestFinished(() => void agent.kill('SIGTERM'));
    for (let i = 0; i < 100 && !(await stat(agentSock).catch(() => undefined)); i++)
      await new Promise((r) => setTimeout(r, 20));
    await execa('ssh-add', [sshd.clientKey], { env: { SSH_AUTH_SOCK: agentSock } });
    const store = join(dir, 'store');
    const config = await writeConfig(dir, {
      backup: { store },
      retention: { enabled: false },
      hosts: { viassh: { docker_host: `ssh://root@127.0.0.1:${sshd.port}`, known_hosts: sshd.knownHosts } },
      logging: { level: 'debug', file: join(dir, 'bbackup.log') },
    });
    const volume = await createTestVolume(docker, 'ops-ssh');
    await runInBusybox(docker, FILL, [`${volume}:/v`]);
    const env = { BBACKUP_CONFIG: undefined, SSH_AUTH_SOCK: agentSock };
    const b = await runCli(['-c', config, '--host', 'viassh', '--json', 'backup', '--volumes', volume], { env });
    expect(b.exitCode, b.stderr).toBe(0);
    const { id } = JSON.parse(b.stdout) as { id: string };
    expect(await readFile(join(dir, 'bbackup.log'), 'utf8')).toMatch(
      /stream helper \w+ \(created, never started\) serves volume/,
    );
    const restored = testName('ops-ssh-restored');
    onTestFinished(async () => {
      await docker
        .getVolume(restored)
        .remove({ force: true })
        .catch(() => undefined);
    });
    const r = await runCli(
      ['-c', config, '--host', 'viassh', 'restore', id, '-V', volume, '--rename', `${volume}:${restored}`],
      { env },
    );
    expect(r.exitCode, r.stderr + r.stdout).toBe(0);
    expect(await volumeFingerprint(docker, restored)).toBe(await volumeFingerprint(docker, volume));
  });
});
