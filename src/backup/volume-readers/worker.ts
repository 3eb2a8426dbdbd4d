// worker mode: bbcopy (or tar) runs inside a helper container that mounts the volume read-only
// and the store read-write, with no network. Works whenever the engine is local, even when this
// process cannot read the daemon's data root. Helpers are labelled with their owner run
// (docker/helpers.ts) and ALWAYS removed; leftovers of dead runs are removed at the next start.
// Mounts, not Binds: a bind whose source folder is missing fails instead of being created empty.
import { mkdir } from 'node:fs/promises';
import { relative } from 'node:path';
import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import { ensureImage, workerImageSpec } from '../../docker/images.js';
import { BbackupError } from '../../errors.js';
import { helperName, ownerLabels } from '../../docker/helpers.js';
import { demuxTransform } from '../demux.js';
import { dockerError } from '../../docker/errors.js';
import { BBCOPY_IN_IMAGE, bbcopyOutput, copyArgs, type TreeSummary } from '../bbcopy.js';
import { tarCreateArgs, toolError } from '../rsync.js';
import { noSkippedDevices, noteDevice } from '../devices.js';
import type { ArchiveStream, ReadContext, ReaderDeps, SnapshotRequest, SnapshotResult, VolumeReader } from './types.js';

export { removeStaleHelpers } from '../../docker/helpers.js';
const SOURCE = '/source';
const STORE = '/store';

interface Helper {
  container: Docker.Container;
  stdout: PassThrough;
  stderr: PassThrough;
  /** exit code of the tool; the container is removed afterwards, whatever happened */
  finished: Promise<number>;
  /** stdout has ended (every byte the tool wrote is in), or the engine never said so within a while */
  drained: Promise<void>;
}

const DRAIN_GRACE_MS = 10_000;

/** Create, attach and start a helper running `cmd`; it is removed when it ends or the signal aborts. */
async function runHelper(deps: ReaderDeps, volume: string, cmd: string[], ctx: ReadContext): Promise<Helper> {
  const docker = deps.docker.docker;
  await ensureImage(docker, workerImageSpec(deps.workerImage));
  ctx.signal.throwIfAborted();
  const container = await docker.createContainer({
    name: helperName('helper'),
    Image: deps.workerImage,
    Entrypoint: [cmd[0]!],
    Cmd: cmd.slice(1),
    Labels: ownerLabels(),
    NetworkDisabled: true,
    HostConfig: {
      NetworkMode: 'none',
      Mounts: [
        { Type: 'volume', Source: volume, Target: SOURCE, ReadOnly: true },
        { Type: 'bind', Source: deps.store, Target: STORE },
      ],
    },
  });
  const remove = () => container.remove({ force: true }).catch(() => undefined);
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  try {
    const stream = (await container.attach({ stream: true, stdout: true, stderr: true })) as NodeJS.ReadableStream;
    const demux = demuxTransform((chunk) => stderr.write(chunk));
    demux.on('end', () => stderr.end());
    stream.pipe(demux).pipe(stdout);
    await container.start();
  } catch (err) {
    await remove();
    throw dockerError(err, `helper container for volume ${volume}`, ctx.signal);
  }
  ctx.log('debug', `helper ${container.id.slice(0, 12)} runs ${cmd[0]} for volume ${volume}`);
  const unregister = ctx.suspendable({
    suspend: () => container.pause().then(() => undefined),
    resume: () =>
      container
        .unpause()
        .then(() => undefined)
        .catch(() => undefined),
  });
  const onAbort = () =>
    void container
      .unpause()
      .catch(() => undefined)
      .then(() => container.kill().catch(() => undefined));
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  if (ctx.signal.aborted) onAbort();
  const finished = (async () => {
    try {
      const r = (await container.wait()) as { StatusCode: number };
      return r.StatusCode;
    } finally {
      ctx.signal.removeEventListener('abort', onAbort);
      unregister();
      await remove();
    }
  })();
  // The exit status and the output travel on different connections: wait for both.
  const ended = new Promise<void>((resolve) => {
    stdout.once('end', resolve);
    stdout.once('close', resolve);
  });
  const drained = finished.then(
    () => Promise.race([ended, new Promise<void>((r) => setTimeout(r, DRAIN_GRACE_MS).unref())]),
    () => undefined,
  );
  return { container, stdout, stderr, finished, drained };
}

function collect(stream: PassThrough, limit = 64 * 1024): () => string {
  let text = '';
  stream.setEncoding('utf8').on('data', (s: string) => {
    text = (text + s).slice(-limit);
  });
  return () => text;
}

const inStore = (deps: ReaderDeps, path: string): string => {
  const r = relative(deps.store, path);
  if (r.startsWith('..')) throw new BbackupError('USAGE', `${path} is outside the store ${deps.store}`);
  return `${STORE}/${r}`;
};

export function workerReader(deps: ReaderDeps): VolumeReader {
  return {
    mode: 'worker',
    async snapshot(req: SnapshotRequest, ctx: ReadContext): Promise<SnapshotResult> {
      await mkdir(req.target, { recursive: true });
      const parent = req.parent
        ? { root: inStore(deps, req.parent.root), index: inStore(deps, req.parent.index) }
        : undefined;
      const args = copyArgs({
        source: SOURCE,
        target: inStore(deps, req.target),
        index: inStore(deps, req.index),
        parent,
      });
      const helper = await runHelper(deps, req.volume.name, [BBCOPY_IN_IMAGE, ...args], ctx);
      const skippedDevices = noSkippedDevices();
      const out = bbcopyOutput<TreeSummary>({
        progress: (bytes) => ctx.progress(bytes, req.volume.estimatedBytes),
        device: (path) => noteDevice(skippedDevices, path),
      });
      helper.stdout.setEncoding('utf8').on('data', (t: string) => out.write(t));
      const stderr = collect(helper.stderr);
      const code = await helper.finished;
      await helper.drained;
      out.end();
      ctx.signal.throwIfAborted();
      if (!out.summary || (code !== 0 && code !== 24))
        throw toolError('bbcopy', `volume ${req.volume.name}`, {
          exitCode: code,
          signal: code === 137 ? 'SIGKILL' : undefined,
          stderr: stderr(),
        });
      if (code === 24)
        ctx.log('warn', `volume ${req.volume.name}: ${out.summary.vanished} entries vanished while they were copied`);
      return { summary: out.summary, skippedDevices };
    },
    async archive(volume, ctx): Promise<ArchiveStream> {
      const helper = await runHelper(deps, volume.name, ['/bin/tar', ...tarCreateArgs(SOURCE)], ctx);
      const stderr = collect(helper.stderr);
      const done = helper.finished.then((code) => {
        ctx.signal.throwIfAborted();
        if (code === 1)
          ctx.log('warn', `volume ${volume.name}: ${stderr().trim() || 'files changed while tar read them'}`);
        else if (code !== 0)
          throw toolError('tar', `volume ${volume.name}`, {
            exitCode: code,
            signal: code === 137 ? 'SIGKILL' : undefined,
            stderr: stderr(),
          });
      });
      return { stream: helper.stdout, done };
    },
  };
}
