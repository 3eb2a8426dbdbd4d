// The bytes of one pack, made in one pass per byte: each object is read once (small files whole,
// large ones in 1 MiB reads), hashed as it passes (the
// check against its index) and laid into the tar in ~1 MiB blocks. Then the pack is compressed
// by the zstd binary, unless its first 256 KiB do not compress (deflate level 1 saves < 10%):
// then it is framed in-process as a zstd frame of raw blocks, which any zstd reads like any other
// (`zstd -dc`), without spending a core on compressing random bytes.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { deflateRawSync } from 'node:zlib';
import { BbackupError } from '../../errors.js';
import { runChain } from '../proc-stream.js';
import { jsonBytes, REPO_FORMAT } from './format.js';
import { END_OF_ARCHIVE, memberHeader, PACK_HEADER_MEMBER, padding } from './tar-pack.js';

/** One object to put into a pack: its plaintext comes from `path` (or `open`), checked against size and sha256. */
export interface PackItem {
  obj: string;
  size: number;
  sha256: string;
  /** where it is read from, for messages */
  source: string;
  /** a local file holding exactly the content: read directly (faster than `open`) */
  path?: string;
  open(): AsyncIterable<Buffer>;
}

export interface PackStreamOptions {
  level: number;
  signal: AbortSignal;
  /** hashes a content while it is packed; mismatch throws INTEGRITY */
  hash: (item: PackItem) => { update(b: Buffer): void; check(): void };
}

const CHUNK = 1 << 20;
/** files up to this size are read whole, synchronously */
const SMALL = 256 << 10;
const SAMPLE = 256 << 10;

const sizeError = (item: PackItem, more: boolean) =>
  new BbackupError(
    'INTEGRITY',
    `${item.source} has ${more ? 'more' : 'fewer'} bytes than its index says (${item.size}): the local backup changed or is damaged; run bbackup verify`,
    { path: item.source },
  );

/** A file's content, exactly item.size bytes, in reads of at most `chunk`. */
async function* readFile(item: PackItem & { path: string }, chunk: number): AsyncGenerator<Buffer> {
  const fh = await open(item.path, 'r');
  try {
    const st = await fh.stat();
    if (st.size !== item.size) throw sizeError(item, st.size > item.size);
    let pos = 0;
    while (pos < item.size) {
      const want = Math.min(chunk, item.size - pos);
      const buf = Buffer.allocUnsafe(want);
      let got = 0;
      while (got < want) {
        const { bytesRead } = await fh.read(buf, got, want - got, pos + got);
        if (bytesRead === 0) throw sizeError(item, false);
        got += bytesRead;
      }
      pos += want;
      yield buf;
    }
  } finally {
    await fh.close();
  }
}

/**
 * A small file's content, read synchronously: three system calls that the page cache answers in
 * microseconds, where a promise round trip through the thread pool per call costs more than the
 * read (thousands of small files per pack).
 */
function readSmall(item: PackItem & { path: string }): Buffer {
  const fd = openSync(item.path, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size !== item.size) throw sizeError(item, size > item.size);
    const buf = Buffer.allocUnsafe(size);
    let got = 0;
    while (got < size) {
      const n = readSync(fd, buf, got, size - got, got);
      if (n === 0) throw sizeError(item, false);
      got += n;
    }
    return buf;
  } finally {
    closeSync(fd);
  }
}

/** Each item's content as chunks: small files whole, large ones in 1 MiB reads, others from open(). */
function contentOf(item: PackItem): AsyncIterable<Buffer> | Buffer[] {
  if (item.path === undefined) return item.open();
  const file = item as PackItem & { path: string };
  return item.size <= SMALL ? [readSmall(file)] : readFile(file, CHUNK);
}

/** The plaintext tar of a pack in blocks of about 1 MiB (a retried put makes it again from the start). */
export async function* packTar(
  packId: string,
  items: readonly PackItem[],
  o: PackStreamOptions,
): AsyncGenerator<Buffer> {
  let parts: Buffer[] = [];
  let length = 0;
  const add = (b: Buffer) => {
    parts.push(b);
    length += b.length;
  };
  const take = () => {
    const out = parts.length === 1 ? parts[0]! : Buffer.concat(parts, length);
    parts = [];
    length = 0;
    return out;
  };
  const head = jsonBytes({ format: REPO_FORMAT, pack: packId });
  add(memberHeader(PACK_HEADER_MEMBER, head.length));
  add(head);
  add(padding(head.length));
  for (const item of items) {
    o.signal.throwIfAborted();
    const chunks = contentOf(item);
    add(memberHeader(item.obj, item.size));
    const h = o.hash(item);
    let n = 0;
    for await (const chunk of chunks) {
      n += chunk.length;
      if (n > item.size) throw sizeError(item, true);
      h.update(chunk);
      if (chunk.length >= CHUNK / 2) {
        if (length > 0) yield take();
        yield chunk;
      } else {
        add(chunk);
        if (length >= CHUNK) yield take();
      }
    }
    if (n !== item.size) throw sizeError(item, false);
    h.check();
    add(padding(item.size));
  }
  add(END_OF_ARCHIVE);
  yield take();
}

/** Whether bytes are worth compressing: deflate level 1 (fast) as the judge for zstd. */
export function compresses(sample: Buffer): boolean {
  if (sample.length < 4096) return true;
  return deflateRawSync(sample, { level: 1 }).length < 0.9 * sample.length;
}

const RAW_BLOCK = 128 << 10;
const BLOCKS_PER_OUT = 8;
/** zstd frame header: magic, descriptor (no content size, no checksum, no dictionary), window 2^17 */
const FRAME_HEADER = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x38]);

const blockHeader = (out: Buffer, at: number, size: number, last: boolean) =>
  out.writeUIntLE((size << 3) | (last ? 1 : 0), at, 3);

/** The bytes of `src` as one zstd frame of raw (stored) blocks: a copy, no compression. */
export async function* rawZstdFrame(src: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  yield FRAME_HEADER;
  const outSize = BLOCKS_PER_OUT * (3 + RAW_BLOCK);
  let out = Buffer.allocUnsafe(outSize);
  let blockAt = 0; // where the current block's header goes
  let fill = 0; // content bytes in the current block
  for await (const chunk of src) {
    let off = 0;
    while (off < chunk.length) {
      const n = Math.min(RAW_BLOCK - fill, chunk.length - off);
      chunk.copy(out, blockAt + 3 + fill, off, off + n);
      fill += n;
      off += n;
      if (fill === RAW_BLOCK) {
        blockHeader(out, blockAt, fill, false);
        blockAt += 3 + fill;
        fill = 0;
        if (blockAt === outSize) {
          yield out;
          out = Buffer.allocUnsafe(outSize);
          blockAt = 0;
        }
      }
    }
  }
  // the last block: the partial one, or an empty one
  blockHeader(out, blockAt, fill, true);
  yield out.subarray(0, blockAt + 3 + fill);
}

/** The pack's stored bytes before encryption: zstd-compressed, or raw-framed when it does not compress. */
export function packStream(packId: string, items: readonly PackItem[], o: PackStreamOptions): Readable {
  const tar = packTar(packId, items, o);
  async function* body(): AsyncGenerator<Buffer> {
    const first: Buffer[] = [];
    let have = 0;
    let done = false;
    while (have < SAMPLE) {
      const r = await tar.next();
      if (r.done) {
        done = true;
        break;
      }
      first.push(r.value);
      have += r.value.length;
    }
    const all = async function* () {
      yield* first;
      if (!done) yield* tar;
    };
    if (!compresses(Buffer.concat(first, have).subarray(0, SAMPLE))) {
      yield* rawZstdFrame(all());
      return;
    }
    yield* runChain([{ file: 'zstd', args: ['-q', '-T0', `-${Math.min(19, Math.max(1, o.level))}`, '-c'] }], {
      signal: o.signal,
      input: Readable.from(all(), { objectMode: false }),
      what: `packing objects into pack ${packId}`,
    }) as AsyncIterable<Buffer>;
  }
  return Readable.from(body(), { objectMode: false });
}
