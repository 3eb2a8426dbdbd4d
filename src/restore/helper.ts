// Short-lived helper containers for volume work (DESIGN §4): worker image, network none, labelled
// bbackup.helper=1 so a crashed run's leftovers can be found, and always removed. They mount with
// Mounts, not Binds: Docker creates a missing Binds source as an empty folder, so a backup folder
// that vanished would "restore" an empty volume; a missing Mounts bind source fails instead.
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { helperName, ownerLabels } from '../docker/helpers.js';
import { demuxLogs } from '../docker/logs.js';
import { BbackupError, lastLines } from '../errors.js';

export { HELPER_LABEL, removeStaleHelpers } from '../docker/helpers.js';

export interface HelperMount {
  type: 'bind' | 'volume';
  /** a host path (bind) or a volume name */
  source: string;
  target: string;
  readOnly?: boolean;
}

export interface HelperOptions {
  image: string;
  mounts: HelperMount[];
  cmd?: string[];
  /** extra labels (tests add theirs) */
  labels?: Record<string, string>;
}

async function createHelper(
  docker: Docker,
  o: HelperOptions,
  extra: Partial<Docker.ContainerCreateOptions> = {},
): Promise<Docker.Container> {
  try {
    return await docker.createContainer({
      name: helperName('restore'),
      Image: o.image,
      Cmd: o.cmd ?? ['/bin/true'],
      Labels: { ...ownerLabels(), 'bbackup.helper.job': 'restore', ...o.labels },
      HostConfig: {
        NetworkMode: 'none',
        Mounts: o.mounts.map((m) => ({
          Type: m.type,
          Source: m.source,
          Target: m.target,
          ReadOnly: m.readOnly ?? false,
        })),
      },
      ...extra,
    });
  } catch (err) {
    const gone = o.mounts.find(
      (m) =>
        m.type === 'bind' &&
        /bind source path does not exist/i.test((err as Error).message) &&
        (err as Error).message.includes(m.source),
    );
    if (gone)
      throw new BbackupError(
        'NOT_FOUND',
        `the backup files ${gone.source} are gone (was the backup removed while it was restored?); nothing was copied`,
        { path: gone.source },
        { cause: err },
      );
    throw err;
  }
}

const remove = (c: Docker.Container) => c.remove({ force: true }).catch(() => undefined);

/** Run a command in a helper and wait; stderr/stdout go into the error on failure (an exit code not in okExit, default [0]). */
export async function runHelper(
  docker: Docker,
  o: HelperOptions & { cmd: string[]; okExit?: number[] },
  signal?: AbortSignal,
): Promise<string> {
  const c = await createHelper(docker, o);
  const kill = () => void c.kill().catch(() => undefined);
  signal?.addEventListener('abort', kill, { once: true });
  try {
    await c.start();
    const { StatusCode } = (await c.wait()) as { StatusCode: number };
    const out = demuxLogs(await c.logs({ stdout: true, stderr: true })).toString('utf8');
    if (signal?.aborted) throw new BbackupError('CANCELLED', 'cancelled');
    if (!(o.okExit ?? [0]).includes(StatusCode)) {
      throw new BbackupError(
        'TOOL_FAILED',
        `${o.cmd[0]} in the helper container exited ${StatusCode}: ${lastLines(out, 10)}`,
        { command: o.cmd.join(' ') },
      );
    }
    return out;
  } finally {
    signal?.removeEventListener('abort', kill);
    await remove(c);
  }
}

/**
 * Run a command in a helper with `input` on its stdin (closed at the input's end) and wait; like
 * runHelper otherwise. The input is what this process approved, not a file the helper reads itself.
 * An input that fails (a refused archive) kills the helper: it must not finish with what it got.
 */
export async function pipeIntoHelper(
  docker: Docker,
  o: HelperOptions & { cmd: string[]; env?: string[] },
  input: Readable,
  signal?: AbortSignal,
): Promise<void> {
  const cut = new AbortController();
  input.on('error', () => cut.abort()); // now: the input may fail before the helper exists
  const c = await createHelper(docker, o, {
    OpenStdin: true,
    StdinOnce: true,
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
    Env: o.env,
  });
  const kill = () => void c.kill().catch(() => undefined);
  signal?.addEventListener('abort', kill, { once: true });
  cut.signal.addEventListener('abort', kill, { once: true });
  try {
    const stdio = (await c.attach({
      stream: true,
      stdin: true,
      stdout: true,
      stderr: true,
      hijack: true,
    })) as NodeJS.ReadWriteStream & { destroy(): void };
    stdio.on('error', () => undefined); // the container may exit (and close it) before the input ends
    stdio.resume(); // output is read from the logs at the end; keep the socket flowing
    cut.signal.addEventListener('abort', () => stdio.destroy(), { once: true });
    if (cut.signal.aborted) throw new BbackupError('CANCELLED', 'the input failed before the helper started');
    await c.start();
    input.pipe(stdio);
    const { StatusCode } = (await c.wait()) as { StatusCode: number };
    input.unpipe(stdio);
    stdio.destroy();
    const out = demuxLogs(await c.logs({ stdout: true, stderr: true })).toString('utf8');
    if (signal?.aborted) throw new BbackupError('CANCELLED', 'cancelled');
    if (StatusCode !== 0)
      throw new BbackupError(
        'TOOL_FAILED',
        `${o.cmd[0]} in the helper container exited ${StatusCode}: ${lastLines(out, 10)}`,
        { command: o.cmd.join(' ') },
      );
  } finally {
    signal?.removeEventListener('abort', kill);
    await remove(c);
  }
}

/** Stream a tar into `path` of a created (never started) helper: the engine extracts it. */
export async function putIntoHelper(docker: Docker, o: HelperOptions, path: string, tar: Readable): Promise<void> {
  // a failed or refused input ends the upload (the engine would wait for the rest), also one that
  // fails before the helper exists
  const cut = new AbortController();
  tar.on('error', () => cut.abort());
  const c = await createHelper(docker, o);
  try {
    if (cut.signal.aborted) throw new BbackupError('CANCELLED', 'the input failed before the helper started');
    await c.putArchive(tar, { path, abortSignal: cut.signal });
  } finally {
    await remove(c);
  }
}
