// stream mode (DESIGN §4): for engines whose files this machine cannot see (DOCKER_HOST tcp:// or
// ssh://). The volume is mounted read-only into a helper container that is created and NEVER
// started (no process runs, no network), and the daemon's archive API streams its contents as a
// tar. Archive format stores that stream as it is; tree format extracts it with the local GNU tar
// (numeric owners, modes, xattrs) straight into the snapshot folder, hashing every file as the
// stream passes; then bbcopy indexes the tree with those hashes and, when there is a parent
// snapshot, replaces each file equal to the parent's (metadata and content) by a hard link to it.
// Pause holds the byte stream (backpressure reaches the daemon); helpers carry the worker's labels,
// so leftovers of a crashed run are cleaned the same way.
import { mkdir, rm, statfs } from 'node:fs/promises';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { execa } from 'execa';
import type Docker from 'dockerode';
import { ensureImage, workerImageSpec } from '../../docker/images.js';
import { BbackupError, lastLines } from '../../errors.js';
import { dockerError } from '../../docker/errors.js';
import { adoptArgs, runBbcopy, type TreeSummary } from '../bbcopy.js';
import { noteDevice } from '../devices.js';
import { toolError } from '../rsync.js';
import { hashListWriter } from '../stream-hashes.js';
import { TarDeviceFilter } from '../tar-device-filter.js';
import type { PlannedVolume } from '../types.js';
import type { ArchiveStream, ReadContext, ReaderDeps, SnapshotRequest, SnapshotResult, VolumeReader } from './types.js';
import { helperName, ownerLabels } from '../../docker/helpers.js';

const SOURCE = '/source';

/** GNU tar extracting a Docker archive as root: owners by number, modes, xattrs kept. */
export const tarExtractArgs = (dir: string): string[] => [
  '-x',
  '-f',
  '-',
  '-C',
  dir,
  '--numeric-owner',
  '--same-owner',
  '--same-permissions',
  '--xattrs',
  '--xattrs-include=*',
  '--delay-directory-restore',
];

/** Counts bytes for progress and holds them while the job is paused. */
function meter(ctx: ReadContext, total?: number): { transform: Transform; unregister: () => void } {
  let bytes = 0;
  let held: (() => void) | undefined;
  let paused = false;
  const transform = new Transform({
    highWaterMark: 1 << 20,
    transform(chunk: Buffer, _enc, cb) {
      bytes += chunk.length;
      ctx.progress(bytes, total);
      if (paused) held = () => cb(null, chunk);
      else cb(null, chunk);
    },
  });
  const unregister = ctx.suspendable({
    suspend: () => {
      paused = true;
    },
    resume: () => {
      paused = false;
      const go = held;
      held = undefined;
      go?.();
    },
  });
  return { transform, unregister };
}

async function openArchive(
  deps: ReaderDeps,
  volume: PlannedVolume,
  ctx: ReadContext,
): Promise<{ stream: Readable; cleanup: () => Promise<void> }> {
  const docker = deps.docker.docker;
  await ensureImage(docker, workerImageSpec(deps.workerImage));
  ctx.signal.throwIfAborted();
  let container: Docker.Container;
  try {
    container = await docker.createContainer({
      name: helperName('stream'),
      Image: deps.workerImage,
      Cmd: ['/bin/true'],
      Labels: ownerLabels(),
      NetworkDisabled: true,
      HostConfig: {
        NetworkMode: 'none',
        Mounts: [{ Type: 'volume', Source: volume.name, Target: SOURCE, ReadOnly: true }],
      },
    });
  } catch (err) {
    throw dockerError(err, `stream helper for volume ${volume.name}`, ctx.signal);
  }
  const cleanup = () =>
    container.remove({ force: true }).then(
      () => undefined,
      () => undefined,
    );
  try {
    // "/source/." archives the folder's contents as ./path members, like tar -C /source .
    const stream = (await container.getArchive({ path: `${SOURCE}/.` })) as unknown as Readable;
    ctx.log(
      'debug',
      `stream helper ${container.id.slice(0, 12)} (created, never started) serves volume ${volume.name}`,
    );
    return { stream, cleanup };
  } catch (err) {
    await cleanup();
    throw dockerError(err, `reading volume ${volume.name} through the archive API`, ctx.signal);
  }
}

export function streamReader(deps: ReaderDeps): VolumeReader {
  return {
    mode: 'stream',

    async archive(volume, ctx): Promise<ArchiveStream> {
      const { stream, cleanup } = await openArchive(deps, volume, ctx);
      const { transform, unregister } = meter(ctx, volume.estimatedBytes);
      const onAbort = () => stream.destroy(ctx.signal.reason as Error);
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      stream.on('error', (err) => transform.destroy(err));
      stream.pipe(transform);
      const done = new Promise<void>((resolve, reject) => {
        transform.once('end', resolve);
        transform.once('error', reject);
        transform.once('close', () => (ctx.signal.aborted ? reject(ctx.signal.reason) : resolve()));
      }).finally(async () => {
        ctx.signal.removeEventListener('abort', onAbort);
        unregister();
        await cleanup();
      });
      done.catch(() => undefined);
      return { stream: transform, done };
    },

    async snapshot(req: SnapshotRequest, ctx: ReadContext): Promise<SnapshotResult> {
      const { volume, target } = req;
      await mkdir(target, { recursive: true });
      // sha256 of every file as the stream passes: the index needs no second read
      const hashesPath = `${req.index}.stream-hashes`;
      try {
        const hashes = hashListWriter(hashesPath);
        const { stream, cleanup } = await openArchive(deps, volume, ctx);
        const { transform, unregister } = meter(ctx, volume.estimatedBytes);
        // device nodes never reach tar -x (README "Device nodes")
        const devices = new TarDeviceFilter(`volume ${volume.name}`, hashes.add);
        const tar = execa('tar', tarExtractArgs(target), {
          reject: false,
          stdin: 'pipe',
          stdout: 'ignore',
          stderr: 'pipe',
          cancelSignal: ctx.signal,
          forceKillAfterDelay: 3000,
        });
        try {
          await Promise.all([pipeline(stream, transform, devices, tar.stdin, { signal: ctx.signal }), tar]);
        } catch (err) {
          if (err instanceof BbackupError && !ctx.signal.aborted) {
            // the device filter could not follow the stream: stop tar before it extracts more
            tar.kill();
            await tar;
            throw err;
          }
          // tar dying first breaks the pipe: then tar's own error is the one that explains it.
          const t = await tar;
          if (!ctx.signal.aborted && t.exitCode !== 0) throw await extractError(volume.name, target, t);
          throw dockerError(err, `streaming volume ${volume.name}`, ctx.signal);
        } finally {
          unregister();
          await cleanup();
          hashes.close();
        }
        const r = await tar;
        ctx.signal.throwIfAborted();
        if (r.exitCode !== 0) throw await extractError(volume.name, target, r);
        const skippedDevices = devices.skipped;
        // The extracted tree is the snapshot: bbcopy indexes it with the stream's hashes and
        // replaces files equal to the parent's (metadata and sha256) by hard links to them.
        const { summary } = await runBbcopy<TreeSummary>(
          adoptArgs({ target, index: req.index, hashes: hashesPath, parent: req.parent }),
          { signal: ctx.signal, suspendable: ctx.suspendable, what: `volume ${volume.name}` },
          { device: (path) => noteDevice(skippedDevices, path) },
        );
        return { summary, skippedDevices };
      } finally {
        await rm(hashesPath, { force: true });
      }
    },
  };
}

/**
 * tar's error, as DISK when the store filled up: GNU tar reports a full disk on extraction as a
 * short write ("Wrote only N of M bytes") without the words toolError() looks for.
 */
async function extractError(
  volume: string,
  dest: string,
  r: { exitCode?: number; signal?: string; stderr?: unknown },
): Promise<BbackupError> {
  const stderr = String(r.stderr ?? '');
  if (/Wrote only \d+ of \d+ bytes/.test(stderr)) {
    const fs = await statfs(dest).catch(() => undefined);
    if (fs && fs.bavail * fs.bsize < 1 << 20)
      return new BbackupError(
        'DISK',
        `no space left on the store while extracting volume ${volume} (tar): ${lastLines(stderr, 2)}`,
        { tool: 'tar', stderr },
      );
  }
  return toolError('tar', `volume ${volume} (extracting the stream)`, {
    exitCode: r.exitCode,
    signal: r.signal,
    stderr,
  });
}
