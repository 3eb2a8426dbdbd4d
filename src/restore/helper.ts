// Short-lived helper containers for volume work (DESIGN §4): worker image, network none, labelled
// bbackup.helper=1 so a crashed run's leftovers can be found, and always removed.
import { hostname } from 'node:os';
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { BbackupError, lastLines } from '../errors.js';

export const HELPER_LABEL = 'bbackup.helper';
/** <hostname>:<pid> of the run that made the helper: the same label the backup engine's helpers
 * carry (src/backup/volume-readers/worker.ts), so either engine's start-up sweep removes the
 * leftovers of a crashed run of the other, and never a live run's. */
export const OWNER_LABEL = 'bbackup.owner';
const ownerId = (): string => `${hostname()}:${process.pid}`;

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

/** Remove helpers left by runs that died on this machine (their owner pid is gone). */
export async function removeStaleHelpers(docker: Docker): Promise<number> {
  let removed = 0;
  for (const c of await docker.listContainers({ all: true, filters: { label: [`${HELPER_LABEL}=1`] } })) {
    const owner = c.Labels?.[OWNER_LABEL] ?? '';
    const sep = owner.lastIndexOf(':');
    if (owner.slice(0, sep) !== hostname() || isAlive(Number(owner.slice(sep + 1)))) continue;
    await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
    removed++;
  }
  return removed;
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const remove = (c: Docker.Container) => c.remove({ force: true }).catch(() => undefined);

/** Run a command in a helper and wait; stderr/stdout go into the error on failure. */
export async function runHelper(docker: Docker, o: HelperOptions & { cmd: string[] }, signal?: AbortSignal): Promise<string> {
  const c = await createHelper(docker, o);
  const kill = () => void c.kill().catch(() => undefined);
  signal?.addEventListener('abort', kill, { once: true });
  try {
    await c.start();
    const { StatusCode } = (await c.wait()) as { StatusCode: number };
    const out = demux((await c.logs({ stdout: true, stderr: true })) as unknown as Buffer);
    if (signal?.aborted) throw new BbackupError('CANCELLED', 'cancelled');
    if (StatusCode !== 0) {
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

/** Docker's multiplexed log format: 8-byte headers [stream,0,0,0,len BE]. */
function demux(buf: Buffer): string {
  if (!Buffer.isBuffer(buf)) return String(buf);
  const out: Buffer[] = [];
  let i = 0;
  while (i + 8 <= buf.length) {
    const len = buf.readUInt32BE(i + 4);
    out.push(buf.subarray(i + 8, i + 8 + len));
    i += 8 + len;
  }
  return Buffer.concat(out).toString('utf8');
}
