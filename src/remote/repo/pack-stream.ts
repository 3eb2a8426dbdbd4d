// The bytes of one pack, made in one pass per byte: each object is read once, straight into the
// pack's ~1 MiB output buffers (small files in synchronous reads, large ones in async reads),
// hashed there as it passes (the check against its index), its tar header laid in front. Then
// the pack is compressed by the zstd binary, unless its first 256 KiB do not compress (deflate
// level 1 saves < 10%): then it is a zstd frame of raw blocks, which any zstd reads like any
// other (`zstd -dc`), without spending a core on compressing random bytes. The raw blocks'
// 3-byte headers are written in place between the contents, so no content byte is copied in
// this process after the read that brought it (copies and their garbage were a third of the
// upload's CPU time).
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

/** files up to this size are read synchronously (the page cache answers in microseconds) */
const SMALL = 256 << 10;
const SAMPLE = 256 << 10;
const RAW_BLOCK = 128 << 10;
/** an output buffer: exactly 8 full raw blocks with their headers (~1 MiB, one SFTP batch) */
const OUT = 8 * (3 + RAW_BLOCK);
/** zstd frame header: magic, descriptor (no content size, no checksum, no dictionary), window 2^17 */
const FRAME_HEADER = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x38]);

const sizeError = (item: PackItem, more: boolean) =>
  new BbackupError(
    'INTEGRITY',
    `${item.source} has ${more ? 'more' : 'fewer'} bytes than its index says (${item.size}): the local backup changed or is damaged; run bbackup verify`,
    { path: item.source },
  );

/**
 * A pack's output in buffers of OUT bytes that contents are read straight into (room(), then
 * commit()). Plain until startRaw(); then a zstd frame of raw blocks: each block's 3-byte header
 * is reserved before its content and filled in when the block closes (full, or at a buffer's end).
 */
export class PackOut {
  private buf = Buffer.allocUnsafe(OUT);
  private pos = 0;
  private raw = false;
  /** raw: where the open block's header is; -1 when no block is open */
  private block = -1;
  private full: Buffer[] = [];
  /** bytes made so far, all buffers */
  made = 0;

  get isRaw(): boolean {
    return this.raw;
  }

  /** Where the next content bytes go (at least one byte); commit() how many were put there. */
  room(): Buffer {
    if (!this.raw) {
      if (this.pos === OUT) this.flush();
      return this.buf.subarray(this.pos);
    }
    if (this.block >= 0 && this.pos === Math.min(this.block + 3 + RAW_BLOCK, OUT)) this.closeBlock(false);
    if (this.block < 0) {
      if (OUT - this.pos < 4) this.flush();
      this.block = this.pos;
      this.pos += 3;
    }
    return this.buf.subarray(this.pos, Math.min(this.block + 3 + RAW_BLOCK, OUT));
  }

  commit(n: number): void {
    this.pos += n;
    this.made += n;
  }

  write(b: Buffer): void {
    for (let off = 0; off < b.length;) {
      const r = this.room();
      const n = Math.min(r.length, b.length - off);
      b.copy(r, 0, off, off + n);
      this.commit(n);
      off += n;
    }
  }

  /** Switch to a raw zstd frame; what was written so far is laid out again as its first blocks. */
  startRaw(): void {
    const plain = [...this.full, this.buf.subarray(0, this.pos)];
    this.full = [];
    this.buf = Buffer.allocUnsafe(OUT);
    this.raw = true;
    FRAME_HEADER.copy(this.buf, 0);
    this.pos = FRAME_HEADER.length;
    for (const p of plain) this.write(p);
  }

  /** The first n bytes made (or all, when fewer), before any was taken. */
  peek(n: number): Buffer {
    return Buffer.concat([...this.full, this.buf.subarray(0, this.pos)]).subarray(0, n);
  }

  /** The buffers filled so far. */
  take(): Buffer[] {
    const f = this.full;
    this.full = [];
    return f;
  }

  /** The rest, with the frame's last block when raw. */
  end(): Buffer[] {
    if (this.raw) {
      if (this.block < 0) {
        if (OUT - this.pos < 3) this.flush();
        this.block = this.pos;
        this.pos += 3;
      }
      this.closeBlock(true);
    }
    if (this.pos > 0) this.full.push(this.buf.subarray(0, this.pos));
    this.buf = Buffer.alloc(0);
    this.pos = 0;
    return this.take();
  }

  private closeBlock(last: boolean): void {
    const size = this.pos - this.block - 3;
    if (size === 0 && !last)
      this.pos = this.block; // nothing went in: no block
    else this.buf.writeUIntLE((size << 3) | (last ? 1 : 0), this.block, 3);
    this.block = -1;
  }

  private flush(): void {
    if (this.raw && this.block >= 0) this.closeBlock(false);
    this.full.push(this.buf.subarray(0, this.pos));
    this.buf = Buffer.allocUnsafe(OUT);
    this.pos = 0;
  }
}

/** A small file's content into out, synchronously: a handful of system calls, no promise per read. */
function readSmall(out: PackOut, item: PackItem & { path: string }, h: { update(b: Buffer): void }): void {
  const fd = openSync(item.path, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size !== item.size) throw sizeError(item, size > item.size);
    for (let pos = 0; pos < size;) {
      const r = out.room();
      const n = readSync(fd, r, 0, Math.min(r.length, size - pos), pos);
      if (n === 0) throw sizeError(item, false);
      h.update(r.subarray(0, n));
      out.commit(n);
      pos += n;
    }
  } finally {
    closeSync(fd);
  }
}

/** A large file's content into out, in async reads; yields the buffers it fills. */
async function* readLarge(
  out: PackOut,
  item: PackItem & { path: string },
  h: { update(b: Buffer): void },
  ready: () => Buffer[],
): AsyncGenerator<Buffer> {
  const fh = await open(item.path, 'r');
  try {
    const st = await fh.stat();
    if (st.size !== item.size) throw sizeError(item, st.size > item.size);
    for (let pos = 0; pos < item.size;) {
      const r = out.room();
      const { bytesRead: n } = await fh.read(r, 0, Math.min(r.length, item.size - pos), pos);
      if (n === 0) throw sizeError(item, false);
      h.update(r.subarray(0, n));
      out.commit(n);
      pos += n;
      yield* ready();
    }
  } finally {
    await fh.close();
  }
}

/**
 * The pack's bytes before compression into `out`, yielded as its buffers fill. `decide` is called
 * once, when SAMPLE bytes are there or at the end, before the first buffer is yielded: it may
 * switch `out` to a raw frame.
 */
async function* fillPack(
  packId: string,
  items: readonly PackItem[],
  o: PackStreamOptions,
  out: PackOut,
  decide: (sample: Buffer) => void,
): AsyncGenerator<Buffer> {
  let decided = false;
  const ready = (): Buffer[] => {
    if (!decided) {
      if (out.made < SAMPLE) return [];
      decided = true;
      decide(out.peek(SAMPLE));
    }
    return out.take();
  };
  const head = jsonBytes({ format: REPO_FORMAT, pack: packId });
  out.write(memberHeader(PACK_HEADER_MEMBER, head.length));
  out.write(head);
  out.write(padding(head.length));
  for (const item of items) {
    o.signal.throwIfAborted();
    out.write(memberHeader(item.obj, item.size));
    const h = o.hash(item);
    if (item.path !== undefined) {
      const file = item as PackItem & { path: string };
      if (item.size <= SMALL) readSmall(out, file, h);
      else yield* readLarge(out, file, h, ready);
    } else {
      let n = 0;
      for await (const chunk of item.open()) {
        n += chunk.length;
        if (n > item.size) throw sizeError(item, true);
        h.update(chunk);
        out.write(chunk);
        yield* ready();
      }
      if (n !== item.size) throw sizeError(item, false);
    }
    h.check();
    out.write(padding(item.size));
    yield* ready();
  }
  out.write(END_OF_ARCHIVE);
  if (!decided) decide(out.peek(SAMPLE)); // a pack smaller than the sample
  yield* out.end();
}

/** Whether bytes are worth compressing: deflate level 1 (fast) as the judge for zstd. */
export function compresses(sample: Buffer): boolean {
  if (sample.length < 4096) return true;
  return deflateRawSync(sample, { level: 1 }).length < 0.9 * sample.length;
}

/** The bytes of `src` as one zstd frame of raw (stored) blocks. */
export async function* rawZstdFrame(src: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const out = new PackOut();
  out.startRaw();
  for await (const chunk of src) {
    out.write(chunk);
    yield* out.take();
  }
  yield* out.end();
}

/** The pack's stored bytes before encryption: zstd-compressed, or raw-framed when it does not compress. */
export function packStream(packId: string, items: readonly PackItem[], o: PackStreamOptions): Readable {
  const out = new PackOut();
  const bytes = fillPack(packId, items, o, out, (sample) => {
    if (!compresses(sample)) out.startRaw();
  });
  async function* body(): AsyncGenerator<Buffer> {
    const first = await bytes.next(); // the decision is made before the first buffer
    const all = async function* () {
      if (!first.done) yield first.value;
      yield* bytes;
    };
    if (out.isRaw) {
      yield* all();
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
