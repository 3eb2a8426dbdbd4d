// A streaming reader of tar headers (ustar, POSIX pax, GNU long names and old GNU sparse), used to
// check every entry of an archive BEFORE anything is extracted. File data is skipped, never
// buffered, so memory stays flat whatever the archive size.
import { checkEntry, type EntryProblem, type EntryState } from './entry-rules.js';

export interface TarEntry {
  path: string;
  type: string;
  linkpath: string;
  size: number;
}

export interface ScanResult {
  entries: number;
  /** bytes of file data in the archive */
  dataBytes: number;
  problems: EntryProblem[];
  /** problems found beyond the ones kept */
  moreProblems: number;
  /** the two zero blocks that end an archive were seen */
  complete: boolean;
  /** why the archive could not be read to its end (entries after that point are unchecked) */
  damaged?: string;
}

const BLOCK = 512;
const MAX_PROBLEMS = 20;
const MAX_META = 1 << 20; // pax / long-name records are small; refuse absurd ones instead of buffering
const NO_DATA = new Set(['1', '2', '3', '4', '5', '6']);

export class TarScanner {
  private header = Buffer.alloc(BLOCK);
  private headerFill = 0;
  private skip = 0;
  private meta?: { type: string; size: number; parts: Buffer[]; got: number };
  private pax: Record<string, string> = {};
  private longName?: string;
  private longLink?: string;
  private sparseExt = false;
  private zeros = 0;
  private offset = 0;
  private fatal?: string;
  private readonly state: EntryState = { symlinks: new Set(), nodes: new Map() };
  readonly result: ScanResult = { entries: 0, dataBytes: 0, problems: [], moreProblems: 0, complete: false };

  write(chunk: Buffer): void {
    let off = 0;
    while (off < chunk.length && !this.result.complete && !this.fatal) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - off);
        this.skip -= n;
        off += n;
        this.offset += n;
        continue;
      }
      if (this.meta) {
        const m = this.meta;
        const n = Math.min(m.size - m.got, chunk.length - off);
        m.parts.push(chunk.subarray(off, off + n));
        m.got += n;
        off += n;
        this.offset += n;
        if (m.got === m.size) this.finishMeta(m);
        continue;
      }
      const n = Math.min(BLOCK - this.headerFill, chunk.length - off);
      chunk.copy(this.header, this.headerFill, off, off + n);
      this.headerFill += n;
      off += n;
      if (this.headerFill === BLOCK) {
        this.headerFill = 0;
        this.offset += BLOCK;
        this.onHeader(this.header);
      }
    }
  }

  /** Call at end of stream: a truncated or damaged archive is itself a problem. */
  end(): ScanResult {
    if (this.fatal) this.result.damaged = `${this.fatal} at byte ${this.offset}`;
    else if (!this.result.complete && (this.zeros === 0 || this.headerFill !== 0 || this.skip > 0 || this.meta)) {
      this.result.damaged = `truncated at byte ${this.offset} (no end-of-archive marker)`;
    }
    return this.result;
  }

  private onHeader(h: Buffer): void {
    if (this.sparseExt) {
      this.sparseExt = h[504] !== 0;
      if (!this.sparseExt) this.skip = this.pendingData;
      return;
    }
    if (h.every((b) => b === 0)) {
      if (++this.zeros >= 2) this.result.complete = true;
      return;
    }
    this.zeros = 0;
    if (!checksumOk(h)) {
      this.fatal = 'damaged tar header (checksum mismatch)';
      return;
    }
    const type = String.fromCharCode(h[156] || 0x30);
    let size = readNumber(h, 124, 12);
    if (type === 'x' || type === 'g' || type === 'L' || type === 'K') {
      if (size > MAX_META) {
        this.fatal = `metadata record of ${size} bytes is too large`;
        return;
      }
      this.meta = { type, size, parts: [], got: 0 };
      if (size === 0) this.finishMeta(this.meta);
      return;
    }
    const ustar = h.toString('latin1', 257, 263) === 'ustar\0';
    const prefix = ustar ? cString(h, 345, 155) : '';
    const raw = cString(h, 0, 100);
    const path = this.pax['GNU.sparse.name'] ?? this.pax.path ?? this.longName ?? (prefix ? `${prefix}/${raw}` : raw);
    const linkpath = this.pax.linkpath ?? this.longLink ?? cString(h, 157, 100);
    if (this.pax.size !== undefined) size = Number(this.pax.size);
    this.pax = {};
    this.longName = undefined;
    this.longLink = undefined;
    const entry: TarEntry = { path, type, linkpath, size };
    this.result.entries++;
    const problem = checkEntry(entry, this.state);
    if (problem) this.problem(problem);
    const data = NO_DATA.has(type) ? 0 : padded(size);
    if (!NO_DATA.has(type)) this.result.dataBytes += size;
    if (type === 'S' && h[482] !== 0) {
      this.sparseExt = true;
      this.pendingData = data;
    } else this.skip = data;
  }

  private pendingData = 0;

  private finishMeta(m: { type: string; size: number; parts: Buffer[] }): void {
    this.meta = undefined;
    this.skip = padded(m.size) - m.size;
    const body = Buffer.concat(m.parts);
    if (m.type === 'x') Object.assign(this.pax, parsePax(body));
    else if (m.type === 'L') this.longName = cString(body, 0, body.length);
    else if (m.type === 'K') this.longLink = cString(body, 0, body.length);
  }

  private problem(p: EntryProblem): void {
    if (this.result.problems.length < MAX_PROBLEMS) this.result.problems.push(p);
    else this.result.moreProblems++;
  }
}

const padded = (n: number): number => Math.ceil(n / BLOCK) * BLOCK;

function cString(buf: Buffer, start: number, len: number): string {
  const end = buf.indexOf(0, start);
  return buf.toString('utf8', start, end === -1 || end > start + len ? start + len : end);
}

/** Octal ASCII, or GNU base-256 when the high bit of the first byte is set. */
function readNumber(buf: Buffer, start: number, len: number): number {
  if (buf[start]! & 0x80) {
    let n = buf[start]! & 0x7f;
    for (let i = start + 1; i < start + len; i++) n = n * 256 + buf[i]!;
    return n;
  }
  const text = buf.toString('latin1', start, start + len).replace(/[\0 ]+/g, ' ').trim();
  return text ? parseInt(text, 8) : 0;
}

function checksumOk(h: Buffer): boolean {
  const stored = readNumber(h, 148, 8);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : h[i]!;
  return sum === stored;
}

/** "len key=value\n" records. */
export function parsePax(body: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < body.length) {
    const space = body.indexOf(0x20, i);
    if (space === -1) break;
    const len = parseInt(body.toString('latin1', i, space), 10);
    if (!Number.isFinite(len) || len <= 0) break;
    const record = body.toString('utf8', space + 1, i + len - 1);
    const eq = record.indexOf('=');
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    i += len;
  }
  return out;
}
