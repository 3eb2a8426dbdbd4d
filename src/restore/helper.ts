// Short-lived helper containers for volume work (DESIGN §4): worker image, network none, labelled
// bbackup.helper=1 so a crashed run's leftovers can be found, and always removed.
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { HELPER_LABEL, OWNER_LABEL, ownerId } from '../docker/helpers.js';
import { demuxLogs } from '../docker/logs.js';
import { BbackupError, lastLines } from '../errors.js';

export { HELPER_LABEL, OWNER_LABEL, removeStaleHelpers } from '../docker/helpers.js';

export interface HelperOptions {
  image: string;
  binds: string[];
  cmd?: string[];
  /** extra labels (tests add theirs) */
  labels?: Record<string, string>;
}

async function createHelper(docker: Docker, o: HelperOptions): Promise<Docker.Container> {
  return docker.createContainer({
    Image: o.image,
    Cmd: o.cmd ?? ['/bin/true'],
    Labels: { [HELPER_LABEL]: '1', [OWNER_LABEL]: ownerId(), 'bbackup.helper.job': 'restore', ...o.labels },
    HostConfig: { NetworkMode: 'none', Binds: o.binds },
  });
}

const remove = (c: Docker.Container) => c.remove({ force: true }).catch(() => undefined);

/** Run a command in a helper and wait; stderr/stdout go into the error on failure (an exit code not in okExit, default [0]). */
export async function runHelper(docker: Docker, o: HelperOptions & { cmd: string[]; okExit?: number[] }, signal?: AbortSignal): Promise<string> {
  const c = await createHelper(docker, o);
  const kill = () => void c.kill().catch(() => undefined);
  signal?.addEventListener('abort', kill, { once: true });
  try {
    await c.start();
    const { StatusCode } = (await c.wait()) as { StatusCode: number };
    const out = demuxLogs((await c.logs({ stdout: true, stderr: true })) as unknown as Buffer).toString('utf8');
    if (signal?.aborted) throw new BbackupError('CANCELLED', 'cancelled');
    if (!(o.okExit ?? [0]).includes(StatusCode)) {
      throw new BbackupError('TOOL_FAILED', `${o.cmd[0]} in the helper container exited ${StatusCode}: ${lastLines(out, 10)}`, { command: o.cmd.join(' ') });
    }
    return out;
  } finally {
    signal?.removeEventListener('abort', kill);
    await remove(c);
  }
}

/** Stream a tar into `path` of a created (never started) helper: the engine extracts it. */
export async function putIntoHelper(docker: Docker, o: HelperOptions, path: string, tar: Readable): Promise<void> {
  const c = await createHelper(docker, o);
  try {
    await c.putArchive(tar as unknown as NodeJS.ReadableStream, { path });
  } finally {
    await remove(c);
  }
}

