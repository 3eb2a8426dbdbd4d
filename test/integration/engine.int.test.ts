import { describe, expect, it } from 'vitest';
import { parseConfigObject } from '../../src/config/load.js';
import { connectDocker, resolveDockerTarget } from '../../src/docker/client.js';
import { runInBusybox, testDocker, testLabels } from '../helpers/docker.js';
import { BUSYBOX_IMAGE, testName, WORKER_IMAGE } from '../helpers/names.js';

describe('test engine', () => {
  it('connects through docker.socket and reports the engine', async () => {
    const socket = process.env.BBACKUP_TEST_DOCKER_HOST!.replace('unix://', '');
    const config = parseConfigObject({ docker: { socket } });
    const conn = await connectDocker(resolveDockerTarget(config, undefined, {}));
    expect(conn.serverVersion).toMatch(/^\d+\./);
    expect(conn.hostName.length).toBeGreaterThan(0);
  });

  it('runs the offline worker image with rsync, tar and zstd', async () => {
    const docker = testDocker();
    const c = await docker.createContainer({
      Image: WORKER_IMAGE,
      Cmd: ['sh', '-c', '/usr/bin/rsync --version | head -1; /bin/tar --version | head -1; /usr/bin/zstd -V'],
      Labels: testLabels(),
      HostConfig: { NetworkMode: 'none' },
    });
    await c.start();
    await c.wait();
    const out = ((await c.logs({ stdout: true, stderr: true })) as unknown as Buffer).toString();
    await c.remove();
    expect(out).toContain('rsync');
    expect(out).toContain('GNU tar');
    expect(out).toMatch(/Zstandard/);
    expect(await runInBusybox(docker, 'echo hi', [])).toBe('hi\n');
  });

  it('docker.timeout never cuts off a long call: wait() on a container that outlives the timeout', async () => {
    const socket = process.env.BBACKUP_TEST_DOCKER_HOST!.replace('unix://', '');
    const { docker } = await connectDocker(
      resolveDockerTarget(parseConfigObject({ docker: { socket, timeout: 0.5 } }), undefined, {}),
    );
    const c = await docker.createContainer({
      name: testName('inv'),
      Image: BUSYBOX_IMAGE,
      Cmd: ['sleep', '2'],
      Labels: testLabels(),
      HostConfig: { NetworkMode: 'none' },
    });
    try {
      await c.start();
      // With dockerode's own `timeout` this promise never settled (the socket was destroyed after 0.5 s).
      const { StatusCode } = (await c.wait()) as { StatusCode: number };
      expect(StatusCode).toBe(0);
    } finally {
      await c.remove({ force: true });
    }
  });
});
