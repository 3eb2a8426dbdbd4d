// The two sparse-file layouts GNU tar writes, checked so that every reader consumes exactly
// padded(size) bytes of data: GNU tar reads each region padded to a whole block, Go reads regions
// back to back, and both trust the map over the size field. A map whose regions do not add up to
// the size, overlap, pass the real size, or leave a partial block anywhere but at the end would
// make a reader take a later header from the middle of data (or the reverse): refused.
import { BLOCK, readNumber } from './tar-header.js';

/** Accumulates regions in order and checks them. */
class Regions {
  private end = 0;
  private partial = false;
  sum = 0;

  constructor(private readonly realsize: number) {}

  add(offset: number, numbytes: number): string | undefined {
    if (offset < this.end) return 'sparse regions overlap or are out of order';
    if (offset + numbytes > this.realsize) return 'a sparse region lies past the end of the file';
    if (this.partial && numbytes > 0) return 'a sparse region follows a partial block';
    if (numbytes % BLOCK !== 0) this.partial = true;
    this.end = offset + numbytes;
    this.sum += numbytes;
    return undefined;
  }
}

/**
 * Old GNU sparse ("S" entries): map entries in the header (4 at byte 386) and in extension blocks
 * (21 each), 24 bytes each (offset, numbytes). An entry with an empty offset or numbytes ends the
 * map; GNU tar looks at numbytes, Go at offset, so both must be empty, everything after it in the
 * block too, and no extension block may follow it.
 */
export class OldGnuSparse {
  private readonly regions: Regions;

  constructor(
    private readonly size: number,
    realsize: number,
  ) {
    this.regions = new Regions(realsize);
  }

  /** Entries of one block; returns whether an extension block follows, or a problem. */
  read(block: Buffer, base: number, count: number, extendedAt: number): { more: boolean } | { error: string } {
    let ended = false;
    for (let i = 0; i < count; i++) {
      const at = base + i * 24;
      if (ended || block[at] === 0 || block[at + 12] === 0) {
        if (block.subarray(at, at + 24).some((b) => b !== 0)) return { error: 'malformed old GNU sparse map' };
        ended = true;
        continue;
      }
      const offset = readNumber(block, at, 12);
      const numbytes = readNumber(block, at + 12, 12);
      if (offset === undefined || numbytes === undefined)
        return { error: 'malformed number in the old GNU sparse map' };
      const bad = this.regions.add(offset, numbytes);
      if (bad) return { error: bad };
    }
    const more = block[extendedAt] !== 0;
    if (more && ended) return { error: 'old GNU sparse map ends but announces an extension block' };
    if (!more && this.regions.sum !== this.size)
      return { error: `sparse regions hold ${this.regions.sum} bytes, the header says ${this.size}` };
    return { more };
  }
}

/**
 * pax sparse format 1.0: the map is text at the start of the data ("count\n" then "offset\n
 * numbytes\n" pairs, decimal), padded to a block; the regions follow.
 */
export class PaxSparseMap {
  private readonly regions: Regions;
  private digits = '';
  private tokens: number[] = [];
  private count = -1;
  private read = 0;
  done = false;

  constructor(
    private readonly size: number,
    realsize: number,
  ) {
    this.regions = new Regions(realsize);
  }

  /** Feed data bytes from the start of the entry; returns a problem or undefined. */
  feed(part: Buffer): string | undefined {
    for (let i = 0; i < part.length && !this.done; i++) {
      const c = part[i]!;
      this.read++;
      if (c >= 0x30 && c <= 0x39 && this.digits.length < 16) {
        this.digits += String.fromCharCode(c);
        continue;
      }
      if (c !== 0x0a || this.digits === '') return 'malformed pax sparse map';
      const n = Number(this.digits);
      this.digits = '';
      if (this.count < 0) this.count = n;
      else this.tokens.push(n);
      if (this.tokens.length === 2) {
        const bad = this.regions.add(this.tokens[0]!, this.tokens[1]!);
        if (bad) return bad;
        this.tokens = [];
        this.count--;
      }
      if (this.count === 0) return this.finish();
    }
    return this.read >= this.size && !this.done ? 'the pax sparse map runs past the data' : undefined;
  }

  private finish(): string | undefined {
    this.done = true;
    const mapBytes = Math.ceil(this.read / BLOCK) * BLOCK;
    if (mapBytes + this.regions.sum !== this.size)
      return `sparse map and regions hold ${mapBytes + this.regions.sum} bytes, the header says ${this.size}`;
    return undefined;
  }
}
