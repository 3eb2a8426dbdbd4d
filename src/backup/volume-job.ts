// One volume into the backup folder: the caller's hook around it (stop containers, exec hooks),
// then a tree snapshot + index (hash inheritance from the parent) or a compressed archive. On
// failure or skip the volume's files are removed, so the manifest never names half a copy.
import { access, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describeError } from '../errors.js';
import { rel } from '../store/layout.js';
import type { CompressionMethod, VolumeItem } from '../store/manifest.js';
import { compressToFile, extensionFor } from './compress.js';
import { fileEntry } from './hash.js';
import { writeTreeIndex } from './tree-index.js';
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

const exists = (p: string) => access(p).then(() => true, () => false);

export async function backupVolume(volume: PlannedVolume, env: VolumeJobEnv): Promise<VolumeItem> {
  const { ctx } = env;
  const restore = env.hooks?.beforeVolume ? await env.hooks.beforeVolume(volume, volume.usedBy, ctx.signal) : undefined;
  const written: string[] = [];
  try {
    ctx.signal.throwIfAborted();
    return volume.format === 'tree' ? await snapshotTree(volume, env, written) : await storeArchive(volume, env, written);
  } catch (err) {
    for (const p of written) await rm(p, { recursive: true, force: true }).catch(() => undefined);
    throw err;
  } finally {
    if (restore) await runRestore(restore, env, volume);
  }
}

/** The hook's restore runs with its own deadline, never the job's (maybe aborted) signal. */
/** The fields every volume item has, whatever its format. */
function itemBase(volume: PlannedVolume, env: VolumeJobEnv): Pick<VolumeItem, 'kind' | 'name' | 'driver' | 'labels' | 'options' | 'usedBy'> {
  return { kind: 'volume', name: volume.name, driver: volume.driver, labels: env.labels, options: env.options, usedBy: volume.usedBy };
}

async function runRestore(restore: () => Promise<void>, env: VolumeJobEnv, volume: PlannedVolume): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`gave up after ${HOOK_RESTORE_TIMEOUT_MS / 1000}s`)), HOOK_RESTORE_TIMEOUT_MS);
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
  await env.reader.snapshot({ volume, target, linkDest: parent?.root }, env.ctx);
  const index = await writeTreeIndex(target, join(env.folder, indexRel), { parent, signal: env.ctx.signal, beforeFile: env.gate });
  env.ctx.log('debug', `volume ${volume.name}: ${index.fileCount} files, hashed ${index.hashed} (${index.hashedBytes} bytes), inherited ${index.fileCount - index.hashed}`);
  return {
    ...itemBase(volume, env),
    format: 'tree',
    parent: parent ? volume.parent : undefined,
    bytes: index.bytes,
    fileCount: index.fileCount,
    files: [await fileEntry(env.folder, indexRel, env.ctx.signal)],
  };
}

async function storeArchive(volume: PlannedVolume, env: VolumeJobEnv, written: string[]): Promise<VolumeItem> {
  const archiveRel = rel.volumeArchive(volume.name, extensionFor(env.compression.method));
  const path = join(env.folder, archiveRel);
  written.push(path);
  await mkdir(join(env.folder, 'volumes'), { recursive: true });
  const source = await env.reader.archive(volume, env.ctx);
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
  let file: Awaited<ReturnType<typeof compressToFile>>;
  try {
    [file] = await Promise.all([
      compressToFile(source.stream, path, env.compression, { signal: env.ctx.signal, what: `volume ${volume.name}`, onInputBytes: source.readBytes ? undefined : report }),
      source.done,
    ]);
  } finally {
    clearInterval(poll);
  }
  return {
    ...itemBase(volume, env),
    format: 'archive',
    // bytes of the tar stream, or what tar read when the stream bypassed us (close to the data size)
    bytes: tarBytes,
    fileCount: 0,
    files: [{ path: archiveRel, size: file.size, sha256: file.sha256 }],
    compression: env.compression.method,
  };
}
