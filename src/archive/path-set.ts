// Compact path memory for the archive scanner, so checking an archive of millions of entries does
// not keep millions of path strings. A path is remembered as a 64-bit hash (two 32-bit halves);
// hashes of all its parent folders come out of the same single pass over the string.
//   PathSet   - exact set of hashes, grows with what is added (the scanner adds only symlinks).
//               A collision can only make a lookup say "present": an innocent entry refused, never
//               a hostile one let through.
//   SeenPaths - exact for the first 65 536 paths, then a Bloom filter of fixed size (4 MiB): memory
//               stops growing. It may then answer "seen" for a path never seen, which only lets
//               through a hard link that tar then fails to make (see entry-rules.ts); it never
//               answers "unseen" for a path that was added.

export type PathHash = readonly [number, number];

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Hashes of every prefix of a normalised path that ends at a "/" or at its end: "a", "a/b", "a/b/c". */
export function prefixHashes(path: string): PathHash[] {
  const out: PathHash[] = [];
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c === 0x2f) out.push([fmix(a), fmix(b ^ i)]);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  out.push([fmix(a), fmix(b ^ path.length)]);
  return out;
}

export class PathSet {
  private keys = new Uint32Array(2 * 1024);
  private count = 0;

  get size(): number {
    return this.count;
  }

  has([a, b]: PathHash): boolean {
    return this.slot(a, b, this.keys) >= 0;
  }

  add([a, b]: PathHash): void {
    if (this.has([a, b])) return;
    if ((this.count + 1) * 2 > this.keys.length / 2) this.grow();
    this.insert(a, b, this.keys);
    this.count++;
  }

  /** index of the pair when present, else -(free index) - 1 */
  private slot(a: number, b: number, keys: Uint32Array): number {
    [a, b] = a === 0 && b === 0 ? [0, 1] : [a, b];
    const mask = keys.length / 2 - 1;
    for (let i = (a ^ Math.imul(b, 0x9e3779b1)) & mask; ; i = (i + 1) & mask) {
      const ka = keys[2 * i]!;
      const kb = keys[2 * i + 1]!;
      if (ka === 0 && kb === 0) return -i - 1;
      if (ka === a && kb === b) return i;
    }
  }

  private insert(a: number, b: number, keys: Uint32Array): void {
    const i = -this.slot(a, b, keys) - 1;
    keys[2 * i] = a === 0 && b === 0 ? 0 : a;
    keys[2 * i + 1] = a === 0 && b === 0 ? 1 : b;
  }

  private grow(): void {
    const old = this.keys;
    const next = new Uint32Array(old.length * 2);
    for (let i = 0; i < old.length; i += 2)
      if (old[i] !== 0 || old[i + 1] !== 0) this.insert(old[i]!, old[i + 1]!, next);
    this.keys = next;
  }
}

const BLOOM_BITS = 1 << 25; // 4 MiB: about 1% false "seen" after 3 million entries
const BLOOM_K = 4;
/** Up to this many entries are kept exactly (1 MiB at most); past it they move into the filter. */
const EXACT_MAX = 1 << 16;

export class SeenPaths {
  private exact? = new PathSet();
  private exactKeys: PathHash[] = [];
  private bits?: Uint8Array;

  add(h: PathHash): void {
    if (this.exact) {
      if (this.exact.has(h)) return;
      this.exact.add(h);
      this.exactKeys.push(h);
      if (this.exactKeys.length <= EXACT_MAX) return;
      // small archives never pay for the filter; big ones never pay more than it
      this.bits = new Uint8Array(BLOOM_BITS / 8);
      for (const k of this.exactKeys) this.setBits(k);
      this.exact = undefined;
      this.exactKeys = [];
      return;
    }
    this.setBits(h);
  }

  has(h: PathHash): boolean {
    if (this.exact) return this.exact.has(h);
    const [a, b] = h;
    for (let i = 0; i < BLOOM_K; i++) {
      const bit = (a + Math.imul(i, b | 1)) & (BLOOM_BITS - 1);
      if ((this.bits![bit >>> 3]! & (1 << (bit & 7))) === 0) return false;
    }
    return true;
  }

  private setBits([a, b]: PathHash): void {
    for (let i = 0; i < BLOOM_K; i++) {
      const bit = (a + Math.imul(i, b | 1)) & (BLOOM_BITS - 1);
      this.bits![bit >>> 3]! |= 1 << (bit & 7);
    }
  }
}
