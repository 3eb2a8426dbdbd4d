// Image job: the engine's export of one image (docker save, by id), compressed into
// images/<hex>.tar.zst. An image is stored once per id across backups: when an earlier backup
// of this host holds it and the file still matches that manifest, it is hard-linked, as volume
// snapshots are. A failed export or too little space leaves no file and no manifest entry.
import { link, mkdir, rm, statfs } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { BbackupError, describeError } from '../errors.js';
import type { CatalogEntry } from '../store/catalog.js';
import { rel } from '../store/layout.js';
import type { CompressionMethod, ImageItem } from '../store/manifest.js';
import { PRIVATE_DIR } from '../store/private.js';
import { compressToFile, extensionFor } from './compress.js';
import { hashFile } from './hash.js';
import type { PlannedImage } from './image-plan.js';

export interface ImageJobContext {
  docker: Docker;
  /** the backup being written (<id>.partial) */
  folder: string;
  /** <store>/<host> */
  hostDir: string;
  /** complete backups of this host, oldest first */
  backups: CatalogEntry[];
  compression: { method: CompressionMethod; level: number };
  signal: AbortSignal;
  onBytes?: (total: number) => void;
  log?: (msg: string) => void;
}

const label = (img: PlannedImage) =>
  `image ${img.tags[0] ?? img.id.slice(0, 19)}${img.usedBy.length ? ` (used by ${img.usedBy.join(', ')})` : ''}`;

export async function saveImage(img: PlannedImage, ctx: ImageJobContext): Promise<ImageItem> {
  ctx.signal.throwIfAborted();
  const base = { kind: 'image' as const, name: img.id, tags: img.tags, usedBy: img.usedBy, bytes: img.bytes ?? 0 };
  const linked = await linkEarlier(img, ctx);
  if (linked) return { ...base, ...linked };

  const path = rel.image(img.id, extensionFor(ctx.compression.method));
  const out = join(ctx.folder, ...path.split('/'));
  await mkdir(dirname(out), { recursive: true, mode: PRIVATE_DIR });
  const free = await freeBytesOf(dirname(out));
  // The compressed file is usually smaller, but an image of random data is not: refuse before
  // writing rather than fill the store, which would cost the whole backup.
  if (img.bytes !== undefined && free < img.bytes) {
    throw new BbackupError(
      'PARTIAL',
      `${label(img)} was not saved: it needs up to ${mb(img.bytes)} and the store has ${mb(free)} free; free space on the store or set backup.images: none`,
      { image: img.id, need: img.bytes, free },
    );
  }
  let stream: Readable;
  try {
    stream = (await ctx.docker.getImage(img.id).get()) as unknown as Readable;
  } catch (err) {
    throw exportError(img, err);
  }
  try {
    const written = await compressToFile(stream, out, ctx.compression, {
      signal: ctx.signal,
      onInputBytes: ctx.onBytes,
      what: label(img),
    });
    return {
      ...base,
      compression: ctx.compression.method,
      files: [{ path, size: written.size, sha256: written.sha256 }],
    };
  } catch (err) {
    stream.destroy();
    await rm(out, { force: true });
    if (ctx.signal.aborted || (err instanceof BbackupError && err.code === 'DISK')) throw err;
    throw exportError(img, err);
  }
}

/** The newest earlier backup holding this image id, its file linked in after its sha256 is checked again. */
async function linkEarlier(
  img: PlannedImage,
  ctx: ImageJobContext,
): Promise<Pick<ImageItem, 'compression' | 'linkedFrom' | 'files'> | undefined> {
  for (let i = ctx.backups.length - 1; i >= 0; i--) {
    const b = ctx.backups[i]!;
    const item = b.manifest?.items.find((it): it is ImageItem => it.kind === 'image' && it.name === img.id);
    const entry = item?.files[0];
    if (!item || !entry || entry.path !== rel.image(img.id, extensionFor(item.compression))) continue;
    const from = join(ctx.hostDir, b.id, ...entry.path.split('/'));
    const to = join(ctx.folder, ...entry.path.split('/'));
    try {
      const h = await hashFile(from, ctx.signal);
      if (h.size !== entry.size || h.sha256 !== entry.sha256) {
        ctx.log?.(`${label(img)}: the copy in backup ${b.id} no longer matches its manifest; exported afresh`);
        return undefined;
      }
      await mkdir(dirname(to), { recursive: true, mode: PRIVATE_DIR });
      await link(from, to);
      return { compression: item.compression, linkedFrom: b.id, files: [{ ...entry }] };
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      await rm(to, { force: true });
      ctx.log?.(`${label(img)}: could not reuse the copy in backup ${b.id} (${describeError(err)}); exported afresh`);
      return undefined;
    }
  }
  return undefined;
}

function exportError(img: PlannedImage, err: unknown): BbackupError {
  if (err instanceof BbackupError && err.code !== 'TOOL_FAILED') return err;
  const e = err as { json?: { message?: string }; statusCode?: number };
  const reason = e.json?.message ?? describeError(err);
  return new BbackupError(
    'DOCKER_FAILED',
    `${label(img)} could not be exported by the engine: ${reason}; the backup holds no copy of it`,
    { image: img.id, statusCode: e.statusCode },
    { cause: err },
  );
}

async function freeBytesOf(path: string): Promise<number> {
  const s = await statfs(path);
  return s.bavail * s.bsize;
}

const mb = (n: number) => `${(n / (1 << 20)).toFixed(1)} MiB`;
