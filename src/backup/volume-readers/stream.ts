// stream mode (DESIGN §4): for engines whose files this machine cannot see (DOCKER_HOST tcp:// or
// ssh://). The volume is mounted read-only into a helper container that is created and NEVER
// started (no process runs, no network), and the daemon's archive API streams its contents as a
// tar. Archive format stores that stream as it is; tree format extracts it with the local GNU tar
// (numeric owners, modes, xattrs) and, when there is a parent snapshot, hard-links unchanged files
// to it with a local rsync --link-dest pass (the extracted copy is a scratch folder then, so an
// incremental stream backup briefly needs the volume's size twice on the store).
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
import { RSYNC_OK, rsyncSnapshotArgs, toolError } from '../rsync.js';
import { TarDeviceFilter } from '../tar-device-filter.js';
import type { PlannedVolume } from '../types.js';
import type { ArchiveStream, ReadContext, ReaderDeps, SnapshotRequest, VolumeReader } from './types.js';
import { helperName, ownerLabels } from '../../docker/helpers.js';

const SOURCE = '/source';

/** GNU tar extracting a Docker archive as root: owners by number, modes, xattrs kept. */
export const tarExtractArgs = (dir: string): string[] => ['-x', '-f', '-', '-C', dir, '--numeric-owner', '--same-owner', '--same-permissions', '--xattrs', '--xattrs-include=*', '--delay-directory-restore'];

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

async function openArchive(deps: ReaderDeps, volume: PlannedVolume, ctx: ReadContext): Promise<{ stream: Readable; cleanup: () => Promise<void> }> {
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
      HostConfig: { NetworkMode: 'none', Mounts: [{ Type: 'volume', Source: volume.name, Target: SOURCE, ReadOnly: true }] },
    });
  } catch (err) {
    throw dockerError(err, `stream helper for volume ${volume.name}`, ctx.signal);
  }
  const cleanup = () => container.remove({ force: true }).then(() => undefined, () => undefined);
  try {
    // "/source/." archives the folder's contents as ./path members, like tar -C /source .
    const stream = (await container.getArchive({ path: `${SOURCE}/.` })) as unknown as Readable;
    ctx.log('debug', `stream helper ${container.id.slice(0, 12)} (created, never started) serves volume ${volume.name}`);
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

    async snapshot(req: SnapshotRequest, ctx: ReadContext) {
      const { volume, target, linkDest } = req;
      const dest = linkDest ? `${target}.stream-extract` : target;
      await mkdir(dest, { recursive: true });
      try {
        const { stream, cleanup } = await openArchive(deps, volume, ctx);
        const { transform, unregister } = meter(ctx, volume.estimatedBytes);
        // device nodes never reach tar -x (README "Device nodes")
        const devices = new TarDeviceFilter(`volume ${volume.name}`);
        const tar = execa('tar', tarExtractArgs(dest), { reject: false, stdin: 'pipe', stdout: 'ignore', stderr: 'pipe', cancelSignal: ctx.signal, forceKillAfterDelay: 3000 });
        try {
          await Promise.all([pipeline(stream, transform, devices, tar.stdin!, { signal: ctx.signal }), tar]);
        } catch (err) {
          if (err instanceof BbackupError && !ctx.signal.aborted) {
            // the device filter could not follow the stream: stop tar before it extracts more
            tar.kill();
            await tar;
            throw err;
          }
          // tar dying first breaks the pipe: then tar's own error is the one that explains it.
          const t = await tar;
          if (!ctx.signal.aborted && t.exitCode !== 0) throw await extractError(volume.name, dest, t);
          throw dockerError(err, `streaming volume ${volume.name}`, ctx.signal);
        } finally {
          unregister();
          await cleanup();
        }
        const r = await tar;
        ctx.signal.throwIfAborted();
        if (r.exitCode !== 0) throw await extractError(volume.name, dest, r);
        const skippedDevices = devices.skipped;
        if (!linkDest) return { skippedDevices };
        await mkdir(target, { recursive: true });
        const rs = await execa('rsync', rsyncSnapshotArgs(dest, target, linkDest).filter((a) => !a.startsWith('--info')), { reject: false, stdin: 'ignore', cancelSignal: ctx.signal, forceKillAfterDelay: 3000 });
        ctx.signal.throwIfAborted();
        if (rs.exitCode === undefined || !RSYNC_OK.has(rs.exitCode)) throw toolError('rsync', `volume ${volume.name} (linking to the parent)`, { exitCode: rs.exitCode, signal: rs.signal, stderr: String(rs.stderr ?? '') });
        return { skippedDevices };
      } finally {
        if (linkDest) await rm(dest, { recursive: true, force: true });
      }
    },
  };
}

/**
 * tar's error, as DISK when the store filled up: GNU tar reports a full disk on extraction as a
 * short write ("Wrote only N of M bytes") without the words toolError() looks for.
 */
async function extractError(volume: string, dest: string, r: { exitCode?: number; signal?: string; stderr?: unknown }): Promise<BbackupError> {
  const stderr = String(r.stderr ?? '');
  if (/Wrote only \d+ of \d+ bytes/.test(stderr)) {
    const fs = await statfs(dest).catch(() => undefined);
    if (fs && fs.bavail * fs.bsize < 1 << 20) return new BbackupError('DISK', `no space left on the store while extracting volume ${volume} (tar): ${lastLines(stderr, 2)}`, { tool: 'tar', stderr });
  }
  return toolError('tar', `volume ${volume} (extracting the stream)`, { exitCode: r.exitCode, signal: r.signal, stderr });
}
