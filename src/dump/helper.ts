// A short-lived helper container for SQLite (and for putting a Redis snapshot in place): busybox
// plus the host's sqlite3, built offline like the worker image, network none, and the target
// container's volumes mounted at the same paths (VolumesFrom), so a path inside the container
// means the same file here. Labelled as every helper, and always removed.
import { access } from 'node:fs/promises';
import { PassThrough, type Readable } from 'node:stream';
import type Docker from 'dockerode';
import { dockerError } from '../docker/errors.js';
import { demuxTransform } from '../backup/demux.js';
import { HELPER_LABEL, OWNER_LABEL, ownerId } from '../docker/helpers.js';
import { ensureImage } from '../docker/images.js';
import { BbackupError } from '../errors.js';
import type { RunningExec } from './exec.js';

export const SQLITE_HELPER_IMAGE = 'bbackup-sqlite:local';
const SQLITE = '/usr/bin/sqlite3';

export interface DbHelperOptions {
  /** container whose volumes (and binds) the helper mounts at the same paths */
  volumesFrom: string;
  cmd: string[];
  stdin?: Readable;
  signal: AbortSignal;
  labels?: Record<string, string>;
}

let count = 0;

export async function ensureSqliteHelper(docker: Docker): Promise<void> {
  await access(SQLITE).catch((err) => {
    throw new BbackupError(
      'DUMP_FAILED',
      `${SQLITE} is not installed on this machine; the SQLite helper image is built from it: install the sqlite3 package (scripts/install-deps.sh)`,
      {},
      { cause: err },
    );
  });
  await ensureImage(docker, { tag: SQLITE_HELPER_IMAGE, binaries: [SQLITE], labels: { 'bbackup.image': 'sqlite' } });
}

/** Run `cmd` in a helper; stdout streams out like an exec's. The helper is removed when it ends. */
export async function runDbHelper(docker: Docker, o: DbHelperOptions): Promise<RunningExec> {
  await ensureSqliteHelper(docker);
  o.signal.throwIfAborted();
  const withStdin = o.stdin !== undefined;
  let container: Docker.Container;
  try {
    container = await docker.createContainer({
      name: `bbackup-dbhelper-${process.pid}-${++count}`,
      Image: SQLITE_HELPER_IMAGE,
      Cmd: o.cmd,
      Labels: { [HELPER_LABEL]: '1', [OWNER_LABEL]: ownerId(), ...o.labels },
      NetworkDisabled: true,
      OpenStdin: withStdin,
      StdinOnce: withStdin,
      AttachStdin: withStdin,
      HostConfig: { NetworkMode: 'none', VolumesFrom: [o.volumesFrom] },
    });
  } catch (err) {
    throw dockerError(err, `helper container for ${o.volumesFrom}`, o.signal);
  }
  const remove = () => container.remove({ force: true }).catch(() => undefined);
  let stderr = '';
  const stdout = new PassThrough({ highWaterMark: 1 << 20 });
  let socket: NodeJS.ReadWriteStream & { destroy(): void };
  try {
    socket = (await container.attach({
      stream: true,
      stdin: withStdin,
      stdout: true,
      stderr: true,
      hijack: withStdin,
    })) as typeof socket;
    socket.pipe(demuxTransform((b) => (stderr = (stderr + b.toString('utf8')).slice(-65536)))).pipe(stdout);
    await container.start();
  } catch (err) {
    await remove();
    throw dockerError(err, `helper container for ${o.volumesFrom}`, o.signal);
  }
  if (o.stdin) {
    o.stdin.on('error', () => socket.destroy());
    o.stdin.pipe(socket);
  }
  const onAbort = () => void container.kill().catch(() => undefined);
  o.signal.addEventListener('abort', onAbort, { once: true });
  const finished = (async () => {
    try {
      const r = (await container.wait()) as { StatusCode: number };
      await new Promise<void>((resolve) =>
        stdout.readableEnded || stdout.destroyed
          ? resolve()
          : (stdout.once('end', resolve), stdout.once('close', resolve), stdout.once('error', () => resolve())),
      );
      return o.signal.aborted ? null : r.StatusCode;
    } finally {
      o.signal.removeEventListener('abort', onAbort);
      await remove();
    }
  })();
  return { stdout, stderr: () => stderr, finished, stop: () => void container.kill().catch(() => undefined) };
}
