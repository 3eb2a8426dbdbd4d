// One volume into the backup folder: the caller's hook around it (stop containers, exec hooks),
// then a tree snapshot + index (hash inheritance from the parent) or a compressed archive. On
// failure or skip the volume's files are removed, so the manifest never names half a copy.
import { access, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describeError } from '../errors.js';
import { rel } from '../store/layout.js';
import type { CompressionMethod, VolumeItem } from '../store/manifest.js';
import { PRIVATE_DIR } from '../store/private.js';
import { compressToFile, extensionFor, type WrittenFile } from './compress.js';
import { addSkipped, describeSkipped, noSkippedDevices, type SkippedDevices } from './devices.js';
import { fileEntry } from './hash.js';
import { TarDeviceFilter } from './tar-device-filter.js';
import { phasesOf } from './bbcopy.js';
import type { BackupHooks, PlannedVolume } from './types.js';
import type { ReadContext, VolumeReader } from './volume-readers/types.js';

export const HOOK_RESTORE_TIMEOUT_MS = 120_000;

export interface VolumeJobEnv {
  /** the backup's .partial folder */
  folder: string;
  /** <store>/<host>, where the parent backup lives */
  hostDir: string;
  reader: VolumeReader;
  compression: { method: CompressionMethod; level: number };
  hooks?: BackupHooks;
  ctx: ReadContext;
  /** pause point between files while indexing */
  gate: () => Promise<void>;
  /** from `docker volume inspect` at backup time, to recreate the volume alike */
  labels: Record<string, string>;
  options: Record<string, string>;
  /** the hook's restore function failed: the data is fine, but the operator must know */
  onRestoreError(err: unknown): void;
}

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

export async function backupVolume(volume: PlannedVolume, env: VolumeJobEnv): Promise<VolumeItem> {
  const { ctx } = env;
  const restore = env.hooks?.beforeVolume ? await env.hooks.beforeVolume(volume, volume.usedBy, ctx.signal) : undefined;
  const written: string[] = [];
  try {
    ctx.signal.throwIfAborted();
    return volume.format === 'tree'
      ? await snapshotTree(volume, env, written)
      : await storeArchive(volume, env, written);
  } catch (err) {
    for (const p of written) await rm(p, { recursive: true, force: true }).catch(() => undefined);
    throw err;
  } finally {
    if (restore) await runRestore(restore, env, volume);
  }
}

/** The fields every volume item has, whatever its format. */
function itemBase(
  volume: PlannedVolume,
  env: VolumeJobEnv,
  devices: SkippedDevices,
): Pick<
  VolumeItem,
  'kind' | 'name' | 'driver' | 'labels' | 'options' | 'usedBy' | 'skippedDevices' | 'skippedDevicePaths'
> {
  const base = {
    kind: 'volume' as const,
    name: volume.name,
    driver: volume.driver,
    labels: env.labels,
    options: env.options,
    usedBy: volume.usedBy,
  };
  if (devices.count === 0) return base;
  // a device node never enters a backup (README "Device nodes"); the operator hears about it
  env.ctx.log('warn', `volume ${volume.name}: left out ${describeSkipped(devices)}: backups never hold device files`);
  return { ...base, skippedDevices: devices.count, skippedDevicePaths: devices.paths };
}

/** The hook's restore runs with its own deadline, never the job's (maybe aborted) signal. */
async function runRestore(restore: () => Promise<void>, env: VolumeJobEnv, volume: PlannedVolume): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`gave up after ${HOOK_RESTORE_TIMEOUT_MS / 1000}s`)),
      HOOK_RESTORE_TIMEOUT_MS,
    );
  });
  try {
    await Promise.race([restore(), timeout]);
  } catch (err) {
    env.ctx.log('warn', `volume ${volume.name}: restoring after the backup hook failed: ${describeError(err)}`);
    env.onRestoreError(err);
  } finally {
    clearTimeout(timer);
  }
}

async function snapshotTree(volume: PlannedVolume, env: VolumeJobEnv, written: string[]): Promise<VolumeItem> {
  const treeRel = rel.volumeTree(volume.name);
  const indexRel = rel.volumeIndex(volume.name);
  const target = join(env.folder, treeRel);
  written.push(target, join(env.folder, indexRel));
  let parent: { root: string; index: string } | undefined;
  if (volume.parent) {
    const p = { root: join(env.hostDir, volume.parent, treeRel), index: join(env.hostDir, volume.parent, indexRel) };
    if ((await exists(p.root)) && (await exists(p.index))) parent = p;
    else env.ctx.log('warn', `volume ${volume.name}: parent ${volume.parent} has no snapshot on disk; copying in full`);
  }
  await mkdir(join(env.folder, 'volumes'), { recursive: true, mode: PRIVATE_DIR });
  // one pass: the reader copies, hashes and indexes (bbcopy), linking unchanged files to the parent
  const snap = await env.reader.snapshot({ volume, target, index: join(env.folder, indexRel), parent }, env.ctx);
  const s = snap.summary;
  env.ctx.log(
    'debug',
    `volume ${volume.name}: ${s.files} files, hashed ${s.hashed} (${s.hashedBytes} bytes), linked ${s.linked} to the parent; bbcopy ms ${JSON.stringify(phasesOf(s))}`,
  );
  const devices = noSkippedDevices();
  addSkipped(devices, snap.skippedDevices);
  return {
    ...itemBase(volume, env, devices),
    format: 'tree',
    parent: parent ? volume.parent : undefined,
    bytes: s.bytes,
    fileCount: s.files,
    files: [await fileEntry(env.folder, indexRel, env.ctx.signal)],
  };
}

async function storeArchive(volume: PlannedVolume, env: VolumeJobEnv, written: string[]): Promise<VolumeItem> {
  const archiveRel = rel.volumeArchive(volume.name, extensionFor(env.compression.method));
  const path = join(env.folder, archiveRel);
  written.push(path);
  await mkdir(join(env.folder, 'volumes'), { recursive: true, mode: PRIVATE_DIR });
  let stored = await writeArchive(volume, env, path, false);
  if (stored.devicesInStream > 0) {
    // The fast path stored tar's stream untouched, and tar's own listing says it holds device
    // nodes: read the volume again, this time through the filter (only such volumes pay twice).
    env.ctx.log(
      'debug',
      `volume ${volume.name}: tar stored ${stored.devicesInStream} device nodes; reading it again without them`,
    );
    await rm(path, { force: true }); // bbcopy sink creates the file exclusively
    stored = await writeArchive(volume, env, path, true);
  }
  const ph = stored.file.phases;
  if (ph)
    env.ctx.log(
      'debug',
      `volume ${volume.name}: archive ${stored.file.size} bytes; bbcopy sink ms ${JSON.stringify(phasesOf(ph))}`,
    );
  return {
    ...itemBase(volume, env, stored.devices),
    format: 'archive',
    // bytes of the tar stream, or what tar read when the stream bypassed us (close to the data size)
    bytes: stored.tarBytes,
    fileCount: 0,
    files: [{ path: archiveRel, size: stored.file.size, sha256: stored.file.sha256 }],
    compression: env.compression.method,
  };
}

/**
 * One read of the volume as a compressed tar at `path`. Device nodes are dropped by
 * TarDeviceFilter, unless the reader can count them itself (host: tar's listing) and `filter`
 * is false: then the stream goes to the compressor untouched and the count comes back in
 * devicesInStream, for the caller to read again when it is not 0.
 */
async function writeArchive(
  volume: PlannedVolume,
  env: VolumeJobEnv,
  path: string,
  filter: boolean,
): Promise<{ file: WrittenFile; tarBytes: number; devices: SkippedDevices; devicesInStream: number }> {
  const source = await env.reader.archive(volume, env.ctx);
  const fast = !filter && source.deviceEntries !== undefined;
  const devices = fast ? undefined : new TarDeviceFilter(`volume ${volume.name}`);
  if (devices) source.stream.on('error', (err) => devices.destroy(err));
  const input = devices ? source.stream.pipe(devices) : source.stream;
  let tarBytes = 0;
  const report = (n: number) => {
    tarBytes = n;
    env.ctx.progress(n, volume.estimatedBytes);
  };
  // Progress from the producer's own counter when it has one: then no byte passes through JS.
  const poll = source.readBytes
    ? setInterval(() => {
        const n = source.readBytes!();
        if (n !== undefined) report(n);
      }, 250)
    : undefined;
  try {
    const [file] = await Promise.all([
      compressToFile(input, path, env.compression, {
        signal: env.ctx.signal,
        what: `volume ${volume.name}`,
        onInputBytes: source.readBytes ? undefined : report,
      }),
      source.done,
    ]);
    return {
      file,
      tarBytes,
      devices: devices?.skipped ?? noSkippedDevices(),
      devicesInStream: fast ? source.deviceEntries!() : 0,
    };
  } catch (err) {
    source.stream.destroy(); // a producer nobody reads any more must not block on its pipe
    throw err;
  } finally {
    clearInterval(poll);
  }
}
