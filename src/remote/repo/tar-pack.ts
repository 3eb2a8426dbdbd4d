// The container of a pack: a plain ustar archive (readable by any tar) whose first member is
// bbackup-pack.json and whose other members are objects named by their 64-hex object id, each
// holding the object's content as it is (the whole pack is compressed, then maybe encrypted).
// The writer makes exactly that; the reader accepts exactly that and nothing else, because a pack
// comes from a remote that anyone with write access may have filled.
import { BbackupError } from '../../errors.js';
import { OBJECT_ID_RE } from './format.js';

export const PACK_HEADER_MEMBER = 'bbackup-pack.json';
const BLOCK = 512;
/** largest size the 11 octal digits of a ustar size field hold; above it, GNU base-256 */
const MAX_OCTAL = 0o77777777777;

function writeOctal(buf: Buffer, offset: number, width: number, value: number): void {
  buf.write(value.toString(8).padStart(width - 1, '0') + '\0', offset, width, 'ascii');
}

/** One ustar header for a regular file (mode 0600, owner 0:0, mtime 0: the content is what counts). */
export function memberHeader(name: string, size: number): Buffer {
  if (Buffer.byteLength(name) > 100) throw new Error(`pack member name too long: ${name}`);
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, 100, 'utf8');
  writeOctal(h, 100, 8, 0o600);
  writeOctal(h, 108, 8, 0);
  writeOctal(h, 116, 8, 0);
  if (size <= MAX_OCTAL) writeOctal(h, 124, 12, size);
  else {
    // GNU base-256: high bit of the first byte set, the value big-endian in the rest
    h[124] = 0x80;
    let v = BigInt(size);
    for (let i = 135; i > 124; i--) {
      h[i] = Number(v & 0xffn);
      v >>= 8n;
    }
  }
  writeOctal(h, 136, 12, 0);
  h.fill(0x20, 148, 156); // checksum counts as spaces
  h.write('0', 156, 1, 'ascii');
  h.write('ustar\0', 257, 6, 'ascii');
  h.write('00', 263, 2, 'ascii');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'ascii');
  return h;
}

export const padding = (size: number): Buffer => Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);
export const END_OF_ARCHIVE = Buffer.alloc(BLOCK * 2);

/** Exact reads from a stream of chunks. */
export class ByteReader {
  private buf: Buffer = Buffer.alloc(0);
  private readonly it: AsyncIterator<unknown>;
  private done = false;

  constructor(source: AsyncIterable<unknown>) {
    this.it = source[Symbol.asyncIterator]();
  }

  private async fill(n: number): Promise<boolean> {
    const parts = [this.buf];
    let have = this.buf.length;
    while (have < n && !this.done) {
      const r = await this.it.next();
      if (r.done) this.done = true;
      else {
        const c = r.value as Buffer;
        parts.push(c);
        have += c.length;
      }
    }
    this.buf = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    return have >= n;
  }

  /** exactly n bytes, or undefined at a clean end (no byte read), or throws on a cut */
  async read(n: number, what: string): Promise<Buffer | undefined> {
    if (!(await this.fill(n))) {
      if (this.buf.length === 0) return undefined;
      throw new BbackupError('INTEGRITY', `${what}: cut short`);
    }
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }

  /** n bytes as chunks of at most 1 MiB */
  async *chunks(n: number, what: string): AsyncGenerator<Buffer> {
    let left = n;
    while (left > 0) {
      if (this.buf.length === 0 && !(await this.fill(1))) throw new BbackupError('INTEGRITY', `${what}: cut short`);
      const take = Math.min(left, this.buf.length, 1 << 20);
      const out = this.buf.subarray(0, take);
      this.buf = this.buf.subarray(take);
      left -= take;
      yield out;
    }
  }

  /** drain the rest (record padding after the end marker) */
  async rest(): Promise<number> {
    let n = this.buf.length;
    this.buf = Buffer.alloc(0);
    for (;;) {
      const r = await this.it.next();
      if (r.done) return n;
      n += (r.value as Buffer).length;
    }
  }
}

export interface PackMember {
  name: string;
  size: number;
}

function parseSize(field: Buffer): number | undefined {
  if (field[0]! & 0x80) {
    let v = 0n;
    for (let i = 1; i < field.length; i++) v = (v << 8n) | BigInt(field[i]!);
    if (field[0] !== 0x80 || v > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
    return Number(v);
  }
  const text = field.toString('ascii').replace(/[\0 ]+$/, '');
  if (!/^[0-7]{1,11}$/.test(text)) return undefined;
  return parseInt(text, 8);
}

/** Reads the members of a pack, refusing anything the writer would not have made. */
export class PackReader {
  private first = true;
  constructor(
    private readonly r: ByteReader,
    private readonly what: string,
  ) {}

  private bad(why: string): BbackupError {
    return new BbackupError('INTEGRITY', `${this.what}: refused: ${why}`);
  }

  /** The next member's header; undefined at the end-of-archive marker. */
  async next(): Promise<PackMember | undefined> {
    const h = await this.r.read(BLOCK, this.what);
    if (!h) throw this.bad('no end-of-archive marker');
    if (h.every((b) => b === 0)) return undefined;
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
    const stored = h
      .subarray(148, 156)
      .toString('ascii')
      .replace(/[\0 ]+$/, '');
    if (!/^[0-7]{1,7}$/.test(stored) || parseInt(stored, 8) !== sum)
      throw this.bad('a member header has a wrong checksum');
    if (h.subarray(257, 263).toString('ascii') !== 'ustar\0' || h[156] !== 0x30)
      throw this.bad('a member is not a plain file of a ustar archive');
    if (h[345] !== 0) throw this.bad('a member name has a prefix');
    const end = h.indexOf(0, 0);
    const name = h.subarray(0, end < 0 || end > 100 ? 100 : end).toString('utf8');
    const size = parseSize(h.subarray(124, 136));
    if (size === undefined) throw this.bad(`member ${JSON.stringify(name)} has a malformed size`);
    if (this.first ? name !== PACK_HEADER_MEMBER : !OBJECT_ID_RE.test(name))
      throw this.bad(`unexpected member ${JSON.stringify(name.slice(0, 80))}`);
    this.first = false;
    return { name, size };
  }

  /** The content of the member just read, then its padding. */
  async *body(m: PackMember): AsyncGenerator<Buffer> {
    yield* this.r.chunks(m.size, this.what);
    const pad = (BLOCK - (m.size % BLOCK)) % BLOCK;
    if (pad > 0) await this.r.read(pad, this.what);
  }

  /** After the end marker: the second zero block and record padding may follow, nothing else. */
  async finish(): Promise<void> {
    await this.r.rest();
  }
}
