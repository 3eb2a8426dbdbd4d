// A streaming reader of tar archives (POSIX pax, ustar, GNU long names, GNU sparse) that models every
// header the way GNU tar and Go's archive/tar read it, and refuses what it cannot model exactly.
// Two uses:
//   check: read a whole archive and list every unsafe entry (restore's preflight)
//   gate:  sit between the archive and the tar that extracts it and pass a header, its metadata
//          records and its data on only after the entry passed the rules: tar extracts exactly
//          the bytes that were checked, even if the file changes after the preflight.
// File data is streamed, never buffered; metadata records are held only until their entry is
// judged (at most 1 MiB each); memory stays flat whatever the archive holds (see entry-rules.ts).
import { checkEntry, newEntryState, type EntryProblem } from './entry-rules.js';
import { OldGnuSparse, PaxSparseMap } from './sparse-map.js';
import { BLOCK, checksumOk, cString, headerName, isZeroBlock, magicOf, padded, parsePax, readNumber, shown, type Magic } from './tar-header.js';

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

const MAX_PROBLEMS = 20;
const MAX_META = 1 << 20;
const DATALESS = new Set(['1', '2', '3', '4', '5', '6']);
const REGULAR = new Set(['0', '\0', '7']);
/** pax keys with a meaning we model, or none that changes where or what tar writes */
const PAX_KEYS = new Set(['path', 'linkpath', 'size', 'uid', 'gid', 'uname', 'gname', 'mtime', 'atime', 'ctime', 'comment', 'charset', 'hdrcharset',
  'SCHILY.acl.access', 'SCHILY.acl.default', 'RHT.security.selinux', 'SCHILY.dev', 'SCHILY.ino', 'SCHILY.nlink', 'SCHILY.fflags', 'LIBARCHIVE.creationtime',
  'GNU.sparse.major', 'GNU.sparse.minor', 'GNU.sparse.name', 'GNU.sparse.realsize']);
const PAX_PREFIXES = ['SCHILY.xattr.', 'LIBARCHIVE.xattr.'];

type Mode = 'header' | 'meta' | 'ext' | 'data' | 'zero' | 'end';

export class TarScanner {
  readonly result: ScanResult = { entries: 0, dataBytes: 0, problems: [], moreProblems: 0, complete: false };
  /** gate mode: the first problem of any kind, after which nothing more is passed on */
  refusal?: string;
  private readonly state = newEntryState();
  private mode: Mode = 'header';
  private block = Buffer.alloc(BLOCK);
  private fill = 0;
  private offset = 0;
  private fatal?: string;
  private held: Buffer[] = [];
  /** metadata records were read since the last entry */
  private metaPending = false;
  private meta?: { type: string; size: number; blocks: number; parts: Buffer[] };
  private pax?: Map<string, string>;
  private longName?: string;
  private longLink?: string;
  private dataLeft = 0;
  private sparse?: PaxSparseMap;
  private oldSparse?: { map: OldGnuSparse; dataLeft: number };

  /** forward: gate mode, receives the approved bytes in order; without it the scanner only checks. */
  constructor(private readonly forward?: (bytes: Buffer) => void) {}

  write(chunk: Buffer): void {
    let off = 0;
    while (off < chunk.length && this.mode !== 'end' && !this.fatal) {
      if (this.mode === 'data') {
        const n = Math.min(this.dataLeft, chunk.length - off);
        const part = chunk.subarray(off, off + n);
        off += n;
        this.offset += n;
        this.dataLeft -= n;
        if (this.sparse && !this.sparse.done) {
          const bad = this.sparse.feed(part);
          if (bad) return this.stop(bad);
        }
        this.forward?.(part);
        if (this.dataLeft === 0) this.mode = 'header';
        continue;
      }
      const n = Math.min(BLOCK - this.fill, chunk.length - off);
      chunk.copy(this.block, this.fill, off, off + n);
      this.fill += n;
      off += n;
      if (this.fill === BLOCK) {
        this.fill = 0;
        this.offset += BLOCK;
        this.onBlock(this.block); // reused: whatever must outlive this call is copied (hold)
      }
    }
  }

  /** Call at end of stream: a truncated or damaged archive is itself a problem. */
  end(): ScanResult {
    if (this.fatal) this.result.damaged = this.fatal;
    else if (this.mode !== 'end') this.result.damaged = `truncated at byte ${this.offset} (no end-of-archive marker)`;
    if (this.result.damaged) this.refusal ??= `the archive is damaged: ${this.result.damaged}`;
    return this.result;
  }

  private onBlock(b: Buffer): void {
    if (this.mode === 'zero') {
      if (!isZeroBlock(b)) return this.stop('a lone zero block before more entries (tar would stop reading there)');
      this.result.complete = true;
      this.hold(b);
      this.approve();
      this.mode = 'end';
      return;
    }
    if (this.mode === 'meta') return this.onMetaBlock(b);
    if (this.mode === 'ext') return this.onExtBlock(b);
    if (isZeroBlock(b)) {
      if (this.metaPending) return this.stop('metadata records without the entry they belong to');
      this.hold(b);
      this.mode = 'zero';
      return;
    }
    if (!checksumOk(b)) return this.stop('damaged tar header (checksum mismatch)');
    const type = String.fromCharCode(b[156]!);
    const size = readNumber(b, 124, 12);
    if (size === undefined) return this.stop('malformed size field in a tar header');
    if (type === 'x' || type === 'g' || type === 'L' || type === 'K') {
      if (size > MAX_META) return this.stop(`metadata record of ${size} bytes is too large`);
      const again = (type === 'x' && this.pax) || (type === 'L' && this.longName !== undefined) || (type === 'K' && this.longLink !== undefined);
      if (again) return this.stop(`two "${type}" records for one entry (readers disagree on which counts)`);
      this.hold(b);
      this.metaPending = true;
      this.meta = { type, size, blocks: padded(size) / BLOCK, parts: [] };
      this.mode = 'meta';
      if (size === 0) this.finishMeta();
      return;
    }
    this.onEntry(b, type, magicOf(b), size);
  }

  private onMetaBlock(b: Buffer): void {
    const m = this.meta!;
    this.hold(b);
    m.parts.push(Buffer.from(b));
    if (--m.blocks === 0) this.finishMeta();
  }

  private finishMeta(): void {
    const m = this.meta!;
    this.meta = undefined;
    this.mode = 'header';
    const body = Buffer.concat(m.parts).subarray(0, m.size);
    if (m.type === 'L') this.longName = cString(body, 0, body.length);
    else if (m.type === 'K') this.longLink = cString(body, 0, body.length);
    else {
      const parsed = parsePax(body);
      if ('error' in parsed) return this.stop(parsed.error);
      if (m.type === 'x') this.pax = new Map(parsed.records);
      else for (const [k] of parsed.records) if (k !== 'comment') this.problem({ entry: '(global pax header)', reason: `sets "${shown(k)}" for every later entry (not supported)` });
    }
  }

  private onEntry(h: Buffer, rawType: string, magic: Magic, headerSize: number): void {
    const pax = this.pax ?? new Map<string, string>();
    const longName = this.longName;
    const longLink = this.longLink;
    this.pax = this.longName = this.longLink = undefined;
    this.metaPending = false;
    const type = rawType === '\0' ? '0' : rawType;
    this.result.entries++;
    if (pax.size > 0 && magic === 'gnu') return this.stop('pax records before an old GNU header');
    const paxSize = pax.get('size');
    if (paxSize !== undefined && !/^\d{1,16}$/.test(paxSize)) return this.stop(`malformed pax size "${shown(paxSize)}"`);
    const size = paxSize !== undefined ? Number(paxSize) : headerSize;
    const sparse = [...pax.keys()].some((k) => k.startsWith('GNU.sparse.'));
    if (sparse && !(type === '0' && magic === 'ustar' && pax.get('GNU.sparse.major') === '1' && pax.get('GNU.sparse.minor') === '0' && /^\d{1,16}$/.test(pax.get('GNU.sparse.realsize') ?? '') && pax.get('GNU.sparse.name') !== '')) {
      return this.stop('unsupported sparse file format (only GNU tar\'s pax format 1.0 is read)');
    }
    if (DATALESS.has(type) && size !== 0) return this.stop(`an entry of type "${type}" declares ${size} bytes of data (readers disagree on whether to skip them)`);
    const path = (sparse ? pax.get('GNU.sparse.name') : undefined) ?? pax.get('path') ?? longName ?? headerName(h, magic);
    const linkpath = pax.get('linkpath') ?? longLink ?? cString(h, 157, 100);
    if (REGULAR.has(rawType) && path.endsWith('/') && size > 0) return this.stop(`${shown(path)}: a file entry named like a directory carries data`);
    for (const k of pax.keys()) if (!PAX_KEYS.has(k) && !PAX_PREFIXES.some((p) => k.startsWith(p))) this.problem({ entry: shown(path), reason: `unsupported pax record "${shown(k)}"` });
    if (path.includes('\0') || linkpath.includes('\0')) this.problem({ entry: shown(path), reason: 'NUL byte in a pax path' });
    const ruleType = REGULAR.has(rawType) || type === 'S' ? (path.endsWith('/') ? '5' : '0') : type;
    const problem = checkEntry({ path, type: ruleType, linkpath }, this.state);
    if (problem) this.problem(problem);
    if (this.fatal) return;
    if (!DATALESS.has(type)) this.result.dataBytes += size;
    if (type === 'S') return this.startOldSparse(h, magic, size);
    this.hold(h);
    this.approve();
    this.sparse = sparse ? new PaxSparseMap(size, Number(pax.get('GNU.sparse.realsize'))) : undefined;
    this.startData(DATALESS.has(type) ? 0 : size);
  }

  private startOldSparse(h: Buffer, magic: Magic, size: number): void {
    const realsize = readNumber(h, 483, 12);
    if (magic !== 'gnu' || realsize === undefined) return this.stop('an "S" (sparse) entry outside the old GNU format');
    this.hold(h);
    this.oldSparse = { map: new OldGnuSparse(size, realsize), dataLeft: size };
    this.readSparseBlock(h, 386, 4, 482);
  }

  private onExtBlock(b: Buffer): void {
    this.hold(b);
    this.readSparseBlock(b, 0, 21, 504);
  }

  private readSparseBlock(b: Buffer, base: number, count: number, extendedAt: number): void {
    const s = this.oldSparse!;
    const r = s.map.read(b, base, count, extendedAt);
    if ('error' in r) return this.stop(r.error);
    if (r.more) {
      this.mode = 'ext';
      return;
    }
    this.oldSparse = undefined;
    this.approve();
    this.startData(s.dataLeft);
  }

  private startData(size: number): void {
    this.dataLeft = padded(size);
    this.mode = this.dataLeft > 0 ? 'data' : 'header';
  }

  /** The entry passed: its held records and header go on to tar. */
  private approve(): void {
    for (const b of this.held) this.forward?.(b);
    this.held = [];
  }

  /** gate mode: keep a copy of this block until its entry is judged */
  private hold(b: Buffer): void {
    if (this.forward) this.held.push(Buffer.from(b));
  }

  private stop(why: string): void {
    this.fatal = `${why} at byte ${this.offset}`;
    this.refusal ??= `the archive is damaged or not supported: ${this.fatal}`;
  }

  private problem(p: EntryProblem): void {
    if (this.forward) {
      this.refusal ??= `entry ${JSON.stringify(p.entry)}: ${p.reason}`;
      this.fatal ??= this.refusal;
    }
    if (this.result.problems.length < MAX_PROBLEMS) this.result.problems.push(p);
    else this.result.moreProblems++;
  }
}
