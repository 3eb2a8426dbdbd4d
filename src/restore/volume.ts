// Refilling a freshly created volume from a backup, in one of three ways (DESIGN §4):
//   host   - bbcopy / GNU tar on this machine straight into the volume's Mountpoint (fastest)
//   worker - the same tools inside a helper container that mounts the volume and the backup
//   stream - the engine's archive API (putArchive) on a created helper; works for remote engines
// Archives are only extracted after checkArchive() passed every entry, and then through the same
// scanner as a gate (checkedTar): in every mode tar or the engine reads the approved stream from
// here, never the file itself, and a second read that differs from the first fails the restore.
// A tree is checked against its index either before (preflight) or while bbcopy copies it
// (expectIndex; src/restore/fill-tree.ts).
import { access, constants } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import type Docker from 'dockerode';
import { execa, type Result } from 'execa';
import { BbackupError, lastLines } from '../errors.js';
import type { VolumeItem } from '../store/manifest.js';
import { checkedTar, compressionOf } from './archive-check.js';
import { fillTreeHost, fillTreeWorker, type TreeFill } from './fill-tree.js';
import { pipeIntoHelper, putIntoHelper } from './helper.js';
import type { VolumeMode } from './types.js';
import { TAR_EXTRACT, tarCreateArgs } from './tar-args.js';

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
  /** debug lines for the log (tree: where bbcopy's time went) */
  debug?: (msg: string) => void;
  /** archives: sha256 of the file when the preflight checked it; the extraction read must match */
  checkedSha256?: string;
}

// The C locale makes GNU tar's charset conversion of pax names the identity: it writes exactly the
// bytes the scanner judged (src/archive/tar-header.ts).
const TAR_ENV = { LC_ALL: 'C' };

/** host when the Mountpoint is writable here, else worker; stream for engines on other machines. */
export async function chooseMode(
  wanted: VolumeMode,
  localEngine: boolean,
  mountpoint: string | undefined,
): Promise<Exclude<VolumeMode, 'auto'>> {
  if (wanted !== 'auto') return wanted;
  if (!localEngine) return 'stream';
  if (
    mountpoint &&
    (await access(mountpoint, constants.W_OK).then(
      () => true,
      () => false,
    ))
  )
    return 'host';
  return 'worker';
}

export async function fillVolume(o: FillOptions, mountpoint: string | undefined): Promise<void> {
  const tree = o.item.format === 'tree';
  if (o.mode === 'host') {
    if (!mountpoint)
      throw new BbackupError(
        'DOCKER_FAILED',
        `volume ${o.volume} has no Mountpoint on this machine; use volumes.mode worker or stream`,
      );
    return tree ? fillTreeHost(treeFill(o), mountpoint) : untarHost(o, mountpoint);
  }
  if (o.mode === 'worker')
    return tree
      ? fillTreeWorker(treeFill(o), o.docker, { image: o.workerImage, labels: o.helperLabels })
      : untarWorker(o);
  return putStream(o, tree ? tarTree(o) : archiveTar(o));
}

const treeFill = (o: FillOptions): TreeFill => ({
  source: o.source,
  expect: o.expectIndex,
  volume: o.volume,
  sourceName: o.item.name,
  signal: o.signal,
  onBytes: o.onBytes,
  debug: o.debug,
});

async function untarHost(o: FillOptions, mountpoint: string): Promise<void> {
  const p = archiveTar(o);
  const tar = execa('tar', [...TAR_EXTRACT, '-C', mountpoint], {
    input: p.stream,
    env: TAR_ENV,
    cancelSignal: o.signal,
    forceKillAfterDelay: 3000,
    reject: false,
    stderr: 'pipe',
  });
  // the archive's own failure (a refused entry, a changed file) says more than tar's "unexpected EOF"
  await firstFailure([p.done, settle(tar, 'tar', o.volume).finally(p.consumerExited)]);
}

async function untarWorker(o: FillOptions): Promise<void> {
  const p = archiveTar(o);
  const run = pipeIntoHelper(
    o.docker,
    {
      image: o.workerImage,
      labels: o.helperLabels,
      mounts: [{ type: 'volume', source: o.volume, target: '/target' }],
      cmd: ['/bin/tar', ...TAR_EXTRACT, '-C', '/target'],
      env: Object.entries(TAR_ENV).map(([k, v]) => `${k}=${v}`),
    },
    p.stream,
    o.signal,
  );
  await firstFailure([p.done, run.finally(p.consumerExited)]);
}

/** The tar the engine extracts: the archive decompressed here, or the tree packed here. */
interface Producer {
  stream: Readable;
  done: Promise<void>;
  consumerExited: () => void;
  /** its failure is reported before the consumer's (an archive's refusal), or after (tar's EPIPE) */
  producerFirst: boolean;
}

/** The archive as the gate's approved tar stream, counted in tar bytes (close to the volume's logical bytes). */
function archiveTar(o: FillOptions): Producer {
  const method = o.item.compression ?? compressionOf(o.source);
  const p = checkedTar(o.source, {
    method,
    sha256: o.checkedSha256,
    signal: o.signal,
    what: `the archive of volume ${o.item.name}`,
  });
  const stream = p.stream.pipe(counter(o.onBytes));
  p.stream.on('error', (err) => stream.destroy(err));
  return { stream, done: p.done, consumerExited: p.consumerExited, producerFirst: true };
}

function tarTree(o: FillOptions): Producer {
  const child = execa('tar', tarCreateArgs(o.source, ['.']), {
    cancelSignal: o.signal,
    reject: false,
    stderr: 'pipe',
    buffer: { stdout: false },
  });
  return {
    stream: child.stdout.pipe(counter(o.onBytes)),
    done: settle(child, 'tar', o.volume),
    consumerExited: () => undefined,
    producerFirst: false,
  };
}

async function putStream(o: FillOptions, p: Producer): Promise<void> {
  const put = putIntoHelper(
    o.docker,
    { image: o.workerImage, labels: o.helperLabels, mounts: [{ type: 'volume', source: o.volume, target: '/target' }] },
    '/target',
    p.stream,
  );
  const consumer = put.finally(p.consumerExited);
  await firstFailure(p.producerFirst ? [p.done, consumer] : [consumer, p.done]);
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
    throw new BbackupError(
      'TOOL_FAILED',
      `${tool} failed restoring volume ${volume}: ${lastLines(String(r.stderr ?? ''), 10) || r.shortMessage}`,
      { command: r.command, exitCode: r.exitCode },
    );
  }
}

export const sourcePath = (backupDir: string, relPath: string): string => join(backupDir, ...relPath.split('/'));
