// Reaching the Docker engine through the real CLI: docker.socket, DOCKER_HOST and a hosts entry
// (--host, default_host) against the test engine; unreachable and silent engines exit 3 and say
// where bbackup tried; docker.timeout cuts a silent engine short.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const engine = () => process.env.BBACKUP_TEST_DOCKER_HOST!; // unix:///...
const setup = (yaml: string) => {
  const dir = mkdtempSync(join(tmpdir(), 'bbt-dkr-'));
  dirs.push(dir);
  const path = join(dir, 'c.yaml');
  writeFileSync(path, yaml.replaceAll('$DIR', dir));
  return { dir, path, env: { HOME: dir, BBACKUP_CONFIG: undefined, DOCKER_HOST: undefined } };
};

describe('connecting', () => {
  const unreachableSocket = 'docker: {socket: /nonexistent/docker.sock}\n';
  it.each([
    { via: 'docker.socket', yaml: `docker: {socket: ${engine().replace('unix://', '')}}\n`, args: [], env: {} },
    { via: 'DOCKER_HOST', yaml: unreachableSocket, args: [], env: { DOCKER_HOST: engine() } },
    {
      via: '--host test',
      yaml: `${unreachableSocket}hosts:\n  test: {docker_host: "${engine()}"}\n`,
      args: ['--host', 'test'],
      env: { DOCKER_HOST: 'unix:///nonexistent/b.sock' },
    },
    {
      via: 'default_host test',
      yaml: `${unreachableSocket}hosts:\n  test: {docker_host: "${engine()}"}\ndefault_host: test\n`,
      args: [],
      env: {},
    },
  ])('through $via', async ({ via, yaml, args, env: extra }) => {
    const { path, env } = setup(yaml);
    const r = await runCli(['-v', '-c', path, ...args, '--json', 'list-containers'], { env: { ...env, ...extra } });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toContain(`at ${engine()} (from ${via})`);
    expect(JSON.parse(r.stdout)).toHaveProperty('containers');
  });
});

describe('unreachable engine: exit 3 and where bbackup tried', () => {
  it.each([
    {
      via: 'docker.socket',
      yaml: 'docker: {socket: $DIR/no.sock}\n',
      args: [],
      env: {},
      at: 'unix://$DIR/no.sock',
      reason: 'no such socket',
    },
    {
      via: 'DOCKER_HOST',
      yaml: '',
      args: [],
      env: { DOCKER_HOST: 'unix:///nonexistent/dh.sock' },
      at: 'unix:///nonexistent/dh.sock',
      reason: 'no such socket',
    },
    {
      via: '--host far',
      yaml: 'hosts:\n  far: {docker_host: "tcp://127.0.0.1:1"}\n',
      args: ['--host', 'far'],
      env: {},
      at: 'tcp://127.0.0.1:1',
      reason: 'connection refused',
    },
  ])('through $via', async ({ via, yaml, args, env: extra, at, reason }) => {
    const { path, env, dir } = setup(yaml);
    const r = await runCli(['-c', path, ...args, 'list-volumes'], { env: { ...env, ...extra } });
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toContain(
      `bbackup: error: cannot reach the Docker engine at ${at.replace('$DIR', dir)} (from ${via}): ${reason}`,
    );
    expect(r.stderr).toMatch(/Is dockerd running\? Set docker\.socket, DOCKER_HOST or --host to point elsewhere\.$/);
    expect(r.stdout).toBe('');
  });

  it('a socket that accepts but never answers: docker.timeout applies, exit 3', async () => {
    const { dir, path, env } = setup('docker: {socket: $DIR/silent.sock, timeout: 1}\n');
    const sockets: Socket[] = [];
    const server: Server = createServer((s) => void sockets.push(s));
    await new Promise<void>((resolve) => server.listen(join(dir, 'silent.sock'), resolve));
    try {
      const started = Date.now();
      const r = await runCli(['--json', '-c', path, 'list-networks'], { env });
      const seconds = (Date.now() - started) / 1000;
      expect(r.exitCode).toBe(3);
      expect(r.stderr).toContain(
        `cannot reach the Docker engine at unix://${dir}/silent.sock (from docker.socket): list networks: no answer within 1s (docker.timeout)`,
      );
      expect(JSON.parse(r.stdout).error).toMatchObject({ code: 'DOCKER_UNREACHABLE', exitCode: 3 });
      expect(sockets.length).toBeGreaterThan(0);
      // Not a speed target: proves the 1 s from the config was used, not the 60 s default.
      expect(seconds).toBeLessThan(30);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
