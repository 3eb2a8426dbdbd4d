// Helpers for integration tests: a dockerode client on the test engine and creators that label
// and name every object, and register its removal with the test.
import Docker from 'dockerode';
import { onTestFinished } from 'vitest';
import { BUSYBOX_IMAGE, TEST_LABEL, testName, testRunId } from './names.js';

export function testDocker(): Docker {
  const address = process.env.BBACKUP_TEST_DOCKER_HOST;
  if (!address) throw new Error('BBACKUP_TEST_DOCKER_HOST is not set: the global setup did not run');
  return new Docker({ socketPath: address.replace(/^unix:\/\//, '') });
}

export const testLabels = (extra: Record<string, string> = {}): Record<string, string> => ({
  [TEST_LABEL]: testRunId(),
  ...extra,
});
const labels = testLabels;

export async function createTestVolume(
  docker: Docker,
  area: string,
  opts: { labels?: Record<string, string>; name?: string } = {},
): Promise<string> {
  const name = opts.name ?? testName(area);
  await docker.createVolume({ Name: name, Labels: labels(opts.labels) });
  onTestFinished(async () => {
    await docker
      .getVolume(name)
      .remove({ force: true })
      .catch(() => undefined);
  });
  return name;
}

export async function createTestNetwork(
  docker: Docker,
  area: string,
  opts: Partial<Docker.NetworkCreateOptions> = {},
): Promise<string> {
  const name = opts.Name ?? testName(area);
  await docker.createNetwork({
    Internal: true,
    ...opts,
    Name: name,
    Labels: labels(opts.Labels as Record<string, string>),
  });
  onTestFinished(async () => {
    await docker
      .getNetwork(name)
      .remove()
      .catch(() => undefined);
  });
  return name;
}

/** Run a busybox shell script with the given volumes mounted, network none, and wait for it. */
export async function runInBusybox(docker: Docker, script: string, binds: string[]): Promise<string> {
  const container = await docker.createContainer({
    Image: BUSYBOX_IMAGE,
    Cmd: ['sh', '-c', script],
    Labels: labels(),
    HostConfig: { NetworkMode: 'none', Binds: binds },
  });
  try {
    await container.start();
    const { StatusCode } = (await container.wait()) as { StatusCode: number };
    const logs = (await container.logs({ stdout: true, stderr: true })) as unknown as Buffer;
    const text = demux(logs);
    if (StatusCode !== 0) throw new Error(`busybox script exited ${StatusCode}: ${text}`);
    return text;
  } finally {
    await container.remove({ force: true }).catch(() => undefined);
  }
}

/** Create a long-running busybox container (removed after the test). */
export async function createTestContainer(
  docker: Docker,
  area: string,
  opts: Partial<Docker.ContainerCreateOptions> = {},
  start = true,
): Promise<string> {
  const name = opts.name ?? testName(area);
  const container = await docker.createContainer({
    Image: BUSYBOX_IMAGE,
    Cmd: ['sh', '-c', 'trap "exit 0" TERM; while true; do sleep 1; done'],
    ...opts,
    name,
    Labels: labels(opts.Labels),
    HostConfig: { NetworkMode: 'none', ...opts.HostConfig },
  });
  onTestFinished(async () => {
    await container.remove({ force: true }).catch(() => undefined);
  });
  if (start) await container.start();
  return name;
}

/** Docker's multiplexed log format: 8-byte headers [stream,0,0,0,len BE]. */
export function demux(buf: Buffer): string {
  const out: Buffer[] = [];
  let i = 0;
  while (i + 8 <= buf.length) {
    const len = buf.readUInt32BE(i + 4);
    out.push(buf.subarray(i + 8, i + 8 + len));
    i += 8 + len;
  }
  return Buffer.concat(out).toString('utf8');
}
