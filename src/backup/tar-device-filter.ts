// Device nodes never enter a backup (README "Device nodes"). A container's root can mknod in its
// volume; restored or read from the store, such a node opens the host's disks or memory. rsync
// leaves them out itself (--no-devices); tar has no such switch, so its stream passes through
// this filter, which drops the header blocks of character and block devices (and the pax or GNU
// long-name records that belong to them) and hands every other byte on untouched, data as
// slices of the chunks it got. It decides on the bytes actually stored, so a file swapped for a
// device while tar runs is caught too.
//
// It reads the framing GNU tar and Docker's archive API (Go archive/tar) write: ustar/GNU headers,
// pax 'x' records (their size= overrides the header's), GNU 'L'/'K' long names, old GNU sparse
// 'S' headers with extension blocks, 'g' global records (passed on). A header whose checksum is
// wrong means the framing was lost: the stream fails rather than pass on what it cannot judge.
//
// With onMember, it also hashes each regular file's data as it passes (stream mode: the tree's
// index then needs no second read of the files; src/backup/volume-readers/stream.ts). Sparse
// members (GNU formats) are not hashed here: their stored bytes are not the file's content.
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { BbackupError } from '../errors.js';
import { noSkippedDevices, noteDevice, type SkippedDevices } from './devices.js';

const BLOCK = 512;
const MAX_META = 1 << 20;
/** entry types whose size field does not announce data (links, devices, dirs, fifos) */
const NO_DATA = new Set(['1', '2', '3', '4', '5', '6']);
const DEVICE = new Set(['3', '4']);
const META = new Set(['x', 'L', 'K']);
/** device names remembered so hard links to them are dropped too; a volume with more fails */
const MAX_DEVICES = 100_000;

/** Member names as the volume sees them: no leading ./ or / */
const clean = (p: string) => p.replace(/^(\.\/)+/, '').replace(/^\/+/, '');
const padded = (n: number) => Math.ceil(n / BLOCK) * BLOCK;

/** A numeric header field: octal text, or GNU base-256 when the top bit is set. */
function numeric(b: Buffer, off: number, len: number): number {
  if (b[off]! & 0x80) {
    let v = b[off]! & 0x7f;
    for (let i = 1; i < len; i++) v = v * 256 + b[off + i]!;
    return v;
  }
  const text = b
    .toString('latin1', off, off + len)
    .replace(/[\0 ]+$/, '')
    .trim();
  return text === '' ? 0 : parseInt(text, 8);
}

/** The header checksum, summed unsigned (POSIX) or signed (some old writers), as tar accepts. */
function checksumOk(h: Buffer): boolean {
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const x = i >= 148 && i < 156 ? 32 : h[i]!;
    unsigned += x;
    signed += x > 127 ? x - 256 : x;
  }
  const want = numeric(h, 148, 8);
  return want === unsigned || want === signed;
}

const cstring = (b: Buffer, off: number, len: number) => {
  const end = b.indexOf(0, off);
  return b.toString('utf8', off, end < 0 || end > off + len ? off + len : end);
};

/** pax records "len key=value\n"; only the keys that matter here. */
interface Pax {
  path?: string;
  linkpath?: string;
  size?: number;
  /** GNU sparse file in pax form: the data is a map plus chunks */
  sparse?: boolean;
}

/** A regular file's content as it passed: its path in the volume, size and sha256. */
export interface MemberHash {
  path: string;
  size: number;
  sha256: string;
}

/** tar entry types of regular files with contiguous data */
const REGULAR = new Set(['0', '\0', '7']);

function parsePax(data: Buffer): Pax {
  const out: Pax = {};
  let i = 0;
  while (i < data.length) {
    const sp = data.indexOf(0x20, i);
    if (sp < 0) break;
    const len = parseInt(data.toString('latin1', i, sp), 10);
    if (!(len > 0) || i + len > data.length) break;
    const rec = data.toString('utf8', sp + 1, i + len - 1);
    const eq = rec.indexOf('=');
    const key = rec.slice(0, eq);
    if (key === 'path') out.path = rec.slice(eq + 1);
    else if (key === 'linkpath') out.linkpath = rec.slice(eq + 1);
    else if (key === 'size') out.size = Number(rec.slice(eq + 1));
    else if (key.startsWith('GNU.sparse.')) out.sparse = true;
    i += len;
  }
  return out;
}

type State = 'header' | 'meta' | 'sparse' | 'pass' | 'end';

export class TarDeviceFilter extends Transform {
  readonly skipped: SkippedDevices = noSkippedDevices();
  private state: State = 'header';
  private block = Buffer.alloc(BLOCK);
  private fill = 0;
  /** bytes still to pass on (data + padding) or to collect (meta) */
  private left = 0;
  /** data bytes of the entry whose header was just read */
  private dataSize = 0;
  private offset = 0;
  /** pax/long-name headers and their data, held until the entry they describe is seen */
  private held: Buffer[] = [];
  private heldBytes = 0;
  private metaType = '';
  private metaSize = 0;
  private meta: Buffer[] = [];
  private pax: Pax = {};
  private longName?: string;
  private longLink?: string;
  /** every device dropped so far: a hard link to one of them goes too */
  private devices = new Set<string>();
  /** the regular file whose data is passing, when members are hashed */
  private member?: { path: string; size: number; left: number; hash: Hash };

  constructor(
    private readonly what: string,
    private readonly onMember?: (m: MemberHash) => void,
  ) {
    super({ highWaterMark: 1 << 20 });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      this.consume(chunk);
      cb();
    } catch (err) {
      cb(err as Error);
    }
  }

  override _flush(cb: TransformCallback): void {
    // A stream that ends mid-entry is cut short; pass on what we hold and let tar (or the
    // compressor's consumer) report it, as it would without us.
    for (const b of this.held) this.push(b);
    if (this.fill > 0) this.push(Buffer.from(this.block.subarray(0, this.fill)));
    cb();
  }

  private consume(chunk: Buffer): void {
    let off = 0;
    while (off < chunk.length) {
      if (this.state === 'end') {
        this.push(chunk.subarray(off));
        this.offset += chunk.length - off;
        return;
      }
      if (this.state === 'pass') {
        const n = Math.min(this.left, chunk.length - off);
        if (this.member) this.hashData(chunk.subarray(off, off + Math.min(n, this.member.left)));
        this.push(chunk.subarray(off, off + n));
        off += n;
        this.offset += n;
        this.left -= n;
        if (this.left === 0) this.state = 'header';
        continue;
      }
      if (this.state === 'meta') {
        const n = Math.min(this.left, chunk.length - off);
        const part = Buffer.from(chunk.subarray(off, off + n));
        this.meta.push(part);
        this.held.push(part);
        this.heldBytes += n;
        off += n;
        this.offset += n;
        this.left -= n;
        if (this.left === 0) this.endMeta();
        continue;
      }
      // header or sparse extension: whole 512-byte blocks
      const n = Math.min(BLOCK - this.fill, chunk.length - off);
      chunk.copy(this.block, this.fill, off, off + n);
      this.fill += n;
      off += n;
      this.offset += n;
      if (this.fill < BLOCK) continue;
      this.fill = 0;
      const b = Buffer.from(this.block);
      if (this.state === 'sparse') {
        this.push(b);
        if (b[504] === 0) this.startData();
      } else this.header(b);
    }
  }

  private header(h: Buffer): void {
    if (h.every((x) => x === 0)) {
      // end of archive: the rest is zero blocks and record padding
      this.flushHeld();
      this.push(h);
      this.state = 'end';
      return;
    }
    if (!checksumOk(h)) {
      throw new BbackupError(
        'TOOL_FAILED',
        `the tar stream of ${this.what} is not understood at byte ${this.offset - BLOCK} (bad header checksum); nothing was stored`,
        { offset: this.offset - BLOCK },
      );
    }
    const type = String.fromCharCode(h[156]!);
    const size = numeric(h, 124, 12);
    if (META.has(type)) {
      if (size > MAX_META || this.heldBytes + size > MAX_META)
        throw new BbackupError(
          'TOOL_FAILED',
          `the tar stream of ${this.what} has an oversized ${type} record at byte ${this.offset - BLOCK}`,
        );
      this.held.push(h);
      this.heldBytes += BLOCK;
      this.metaType = type;
      this.metaSize = size;
      this.meta = [];
      this.left = padded(size);
      this.state = this.left > 0 ? 'meta' : 'header';
      if (this.left === 0) this.endMeta();
      return;
    }
    if (DEVICE.has(type) || (type === '1' && this.devices.has(this.linkPath(h)))) {
      const path = this.entryPath(h);
      if (this.devices.size >= MAX_DEVICES)
        throw new BbackupError(
          'TOOL_FAILED',
          `${this.what} holds more than ${MAX_DEVICES} device nodes; nothing was stored`,
        );
      this.devices.add(path);
      noteDevice(this.skipped, path);
      this.dropHeld();
      this.dataSize = 0;
      this.startData();
      return;
    }
    this.dataSize = type === 'g' ? size : NO_DATA.has(type) ? 0 : (this.pax.size ?? size);
    if (this.onMember && REGULAR.has(type) && !this.pax.sparse) {
      this.member = { path: this.entryPath(h), size: this.dataSize, left: this.dataSize, hash: createHash('sha256') };
      if (this.dataSize === 0) this.hashData(Buffer.alloc(0));
    }
    this.flushHeld();
    this.push(h);
    // old GNU sparse: extension blocks follow the header while "isextended" is set
    if (type === 'S' && h[482] !== 0) this.state = 'sparse';
    else this.startData();
  }

  private hashData(part: Buffer): void {
    const m = this.member!;
    m.hash.update(part);
    m.left -= part.length;
    if (m.left > 0) return;
    this.member = undefined;
    this.onMember!({ path: m.path, size: m.size, sha256: m.hash.digest('hex') });
  }

  private startData(): void {
    this.left = padded(this.dataSize);
    this.state = this.left > 0 ? 'pass' : 'header';
  }

  private endMeta(): void {
    const data = Buffer.concat(this.meta).subarray(0, this.metaSize);
    if (this.metaType === 'x') Object.assign(this.pax, parsePax(data));
    else if (this.metaType === 'L') this.longName = cstring(data, 0, data.length);
    else if (this.metaType === 'K') this.longLink = cstring(data, 0, data.length);
    this.meta = [];
    this.state = 'header';
  }

  private entryPath(h: Buffer): string {
    let p = this.pax.path ?? this.longName;
    if (p === undefined) {
      const name = cstring(h, 0, 100);
      const posix = h.toString('latin1', 257, 263) === 'ustar\0';
      const prefix = posix ? cstring(h, 345, 155) : '';
      p = prefix ? `${prefix}/${name}` : name;
    }
    return clean(p);
  }

  private linkPath(h: Buffer): string {
    return clean(this.pax.linkpath ?? this.longLink ?? cstring(h, 157, 100));
  }

  private flushHeld(): void {
    for (const b of this.held) this.push(b);
    this.dropHeld();
  }

  private dropHeld(): void {
    this.held = [];
    this.heldBytes = 0;
    this.pax = {};
    this.longName = undefined;
    this.longLink = undefined;
  }
}
