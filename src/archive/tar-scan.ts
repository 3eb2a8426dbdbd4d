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
import { modelEntry } from './tar-entry.js';
import {
  BLOCK,
  checksumOk,
  cString,
  isZeroBlock,
  magicOf,
  padded,
  parsePax,
  readNumber,
  shown,
  type Magic,
} from './tar-header.js';

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
      const again =
        (type === 'x' && this.pax) ||
        (type === 'L' && this.longName !== undefined) ||
        (type === 'K' && this.longLink !== undefined);
      if (again) return this.stop(`two "${type}" records for one entry (readers disagree on which counts)`);
      this.hold(b);
      this.metaPending = true;
      this.meta = { type, size, blocks: padded(size) / BLOCK, parts: [] };
      this.mode = 'meta';
      if (size === 0) this.finishMeta();
      return;
    }
    this.onEntry(b, magicOf(b), size);
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
      else
        for (const [k] of parsed.records)
          if (k !== 'comment')
            this.problem({
              entry: '(global pax header)',
              reason: `sets "${shown(k)}" for every later entry (not supported)`,
            });
    }
  }

  private onEntry(h: Buffer, magic: Magic, headerSize: number): void {
    const input = {
      header: h,
      magic,
      headerSize,
      pax: this.pax ?? new Map<string, string>(),
      longName: this.longName,
      longLink: this.longLink,
    };
    this.pax = this.longName = this.longLink = undefined;
    this.metaPending = false;
    this.result.entries++;
    const e = modelEntry(input);
    if ('fatal' in e) return this.stop(e.fatal);
    for (const p of e.problems) this.problem(p);
    const problem = checkEntry({ path: e.path, type: e.ruleType, linkpath: e.linkpath }, this.state);
    if (problem) this.problem(problem);
    if (this.fatal) return;
    this.result.dataBytes += e.dataSize;
    if (e.type === 'S') return this.startOldSparse(h, magic, e.dataSize);
    this.hold(h);
    this.approve();
    this.sparse = e.paxSparseRealsize !== undefined ? new PaxSparseMap(e.dataSize, e.paxSparseRealsize) : undefined;
    this.startData(e.dataSize);
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
