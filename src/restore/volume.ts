// Refilling a freshly created volume from a backup, in one of three ways (DESIGN §4):
//   host   - bbcopy / GNU tar on this machine straight into the volume's Mountpoint (fastest)
//   worker - the same tools inside a helper container that mounts the volume and the backup
//   stream - the engine's archive API (putArchive) on a created helper; works for remote engines
// Archives are only extracted after checkArchive() passed every entry. A tree is checked against
// its index either before (preflight) or while bbcopy copies it (expectIndex; src/restore/fill-tree.ts).
import { createReadStream } from 'node:fs';
import { access, constants } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import type Docker from 'dockerode';
import { execa, type Result } from 'execa';
import { BbackupError, lastLines } from '../errors.js';
import type { VolumeItem } from '../store/manifest.js';
import { compressionOf, decompressor } from './archive-check.js';
import { fillTreeHost, fillTreeWorker, type TreeFill } from './fill-tree.js';
import { putIntoHelper, runHelper } from './helper.js';
import type { VolumeMode } from './types.js';

export interface FillOptions {
  docker: Docker;
  item: VolumeItem;
  /** absolute path of the tree folder or the archive file */
  source: string;
  /** the volume to fill (already created, empty) */
  volume: string;
  /** tree: the snapshot's index, when the copy checks every entry against it (one read) */
  expectIndex?: string;
  mode: Exclude<VolumeMode, 'auto'>;
  workerImage: string;
  helperLabels?: Record<string, string>;
  signal: AbortSignal;
  onBytes: (bytes: number) => void;
}

const TAR_X = ['-x', '-f', '-', '--xattrs', '--xattrs-include=*', '--acls', '--numeric-owner', '--same-permissions', '--same-owner'];

/** host when the Mountpoint is writable here, else worker; stream for engines on other machines. */
export async function chooseMode(wanted: VolumeMode, localEngine: boolean, mountpoint: string | undefined): Promise<Exclude<VolumeMode, 'auto'>> {
  if (wanted !== 'auto') return wanted;
  if (!localEngine) return 'stream';
  if (mountpoint && (await access(mountpoint, constants.W_OK).then(() => true, () => false))) return 'host';
  return 'worker';
}

export async function fillVolume(o: FillOptions, mountpoint: string | undefined): Promise<void> {
  const tree = o.item.format === 'tree';
  if (o.mode === 'host') {
    if (!mountpoint) throw new BbackupError('DOCKER_FAILED', `volume ${o.volume} has no Mountpoint on this machine; use volumes.mode worker or stream`);
    return tree ? fillTreeHost(treeFill(o), mountpoint) : untarHost(o, mountpoint);
  }
  if (o.mode === 'worker') return tree ? fillTreeWorker(treeFill(o), o.docker, { image: o.workerImage, labels: o.helperLabels }) : untarWorker(o);
  return putStream(o, tree ? tarTree(o) : archiveTar(o));
}

const treeFill = (o: FillOptions): TreeFill => ({ source: o.source, expect: o.expectIndex, volume: o.volume, sourceName: o.item.name, signal: o.signal, onBytes: o.onBytes });

async function untarHost(o: FillOptions, mountpoint: string): Promise<void> {
  const p = archiveTar(o);
  const tar = execa('tar', [...TAR_X, '-C', mountpoint], { input: p.stream, cancelSignal: o.signal, forceKillAfterDelay: 3000, reject: false, stderr: 'pipe' });
  await firstFailure([settle(tar, 'tar', o.volume), p.done]);
}

async function untarWorker(o: FillOptions): Promise<void> {
  const method = o.item.compression ?? compressionOf(o.source);
  const program = method === 'zstd' ? ['--use-compress-program=/usr/bin/zstd'] : method === 'gzip' ? ['--use-compress-program=/bin/gzip'] : [];
  await runHelper(o.docker, {
    image: o.workerImage,
    labels: o.helperLabels,
    binds: [`${dirname(o.source)}:/backup:ro`, `${o.volume}:/target`],
    cmd: ['/bin/tar', ...TAR_X.filter((a) => a !== '-f' && a !== '-'), '-f', `/backup/${basename(o.source)}`, ...program, '-C', '/target'],
  }, o.signal);
  o.onBytes(o.item.bytes);
}

/** The tar the engine extracts: the archive decompressed here, or the tree packed here. */
interface Producer {
  stream: Readable;
  done: Promise<void>;
}

/** The archive as a plain tar stream, counted in tar bytes (close to the volume's logical bytes). */
function archiveTar(o: FillOptions): Producer {
  const file = createReadStream(o.source, { highWaterMark: 1 << 20, signal: o.signal });
  const argv = decompressor(o.item.compression ?? compressionOf(o.source));
  if (!argv) {
    const stream = file.pipe(counter(o.onBytes));
    file.on('error', (err) => stream.destroy(err));
    return { stream, done: Promise.resolve() };
  }
  const child = execa(argv[0]!, argv.slice(1), { input: file, cancelSignal: o.signal, reject: false, stderr: 'pipe', buffer: { stdout: false } });
  // execa drops unbuffered output nobody reads yet: attach the consumer now, not when tar/putArchive is ready.
  return { stream: (child.stdout as Readable).pipe(counter(o.onBytes)), done: settle(child, argv[0]!, o.volume) };
}

function tarTree(o: FillOptions): Producer {
  const child = execa('tar', ['-C', o.source, '--xattrs', '--xattrs-include=*', '--acls', '--numeric-owner', '--sparse', '--format=posix', '-cf', '-', '.'], {
    cancelSignal: o.signal, reject: false, stderr: 'pipe', buffer: { stdout: false },
  });
  return { stream: (child.stdout as Readable).pipe(counter(o.onBytes)), done: settle(child, 'tar', o.volume) };
}

async function putStream(o: FillOptions, p: Producer): Promise<void> {
  const put = putIntoHelper(o.docker, { image: o.workerImage, labels: o.helperLabels, binds: [`${o.volume}:/target`] }, '/target', p.stream);
  await firstFailure([put, p.done]);
}

/** Wait for all; throw the first failure in the given order (the consumer's error says more than EPIPE). */
async function firstFailure(work: Promise<unknown>[]): Promise<void> {
  const results = await Promise.allSettled(work);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/** A pass-through that counts bytes; piped, so nothing flows before the consumer is attached. */
function counter(onBytes: (n: number) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      onBytes(chunk.length);
      done(null, chunk);
    },
  });
}

async function settle(child: PromiseLike<Result>, tool: string, volume: string): Promise<void> {
  const r = await child;
  if (r.isCanceled) throw new BbackupError('CANCELLED', `restore of volume ${volume} cancelled`);
  if (r.failed) {
    throw new BbackupError('TOOL_FAILED', `${tool} failed restoring volume ${volume}: ${lastLines(String(r.stderr ?? ''), 10) || r.shortMessage}`, { command: r.command, exitCode: r.exitCode });
  }
}

export const sourcePath = (backupDir: string, relPath: string): string => join(backupDir, ...relPath.split('/'));
