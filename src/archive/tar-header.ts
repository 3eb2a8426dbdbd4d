// Strict readers for the pieces of a tar header block. Strict on purpose: the archive scanner and
// the tar that extracts (GNU tar, or the engine's Go archive/tar) must read every header the same
// way, so anything two readers could parse differently (a number with trailing junk, a pax record
// with odd spacing, base-64 or negative sizes) is refused instead of guessed.
// Names are decoded as latin1: one character per byte, so two names are equal here exactly when
// they are equal on disk (tar runs with LC_ALL=C, which makes its charset conversion the identity).

export const BLOCK = 512;

export const padded = (n: number): number => Math.ceil(n / BLOCK) * BLOCK;

const ZERO_BLOCK = Buffer.alloc(BLOCK);
export const isZeroBlock = (b: Buffer): boolean => b.equals(ZERO_BLOCK);

/** Bytes up to the first NUL within [start, start+len), as latin1. */
export function cString(buf: Buffer, start: number, len: number): string {
  const end = buf.indexOf(0, start);
  return buf.toString('latin1', start, end === -1 || end > start + len ? start + len : end);
}

/** A latin1 name as the UTF-8 a user would read, for messages only. */
export const shown = (name: string): string => Buffer.from(name, 'latin1').toString('utf8');

/**
 * A numeric header field: octal digits (after optional spaces) followed only by spaces or NULs,
 * or GNU base-256 with a first byte of exactly 0x80. undefined for anything else (blank fields,
 * base-64, negative base-256, digits followed by junk, values beyond 2^53).
 */
export function readNumber(buf: Buffer, start: number, len: number): number | undefined {
  const end = start + len;
  if (buf[start] === 0x80) {
    let n = 0;
    for (let i = start + 1; i < end; i++) n = n * 256 + buf[i]!;
    return Number.isSafeInteger(n) ? n : undefined;
  }
  let i = start;
  while (i < end && buf[i] === 0x20) i++;
  let n = 0;
  const first = i;
  while (i < end && buf[i]! >= 0x30 && buf[i]! <= 0x37) n = n * 8 + (buf[i++]! - 0x30);
  if (i === first || !Number.isSafeInteger(n)) return undefined;
  for (; i < end; i++) if (buf[i] !== 0 && buf[i] !== 0x20) return undefined;
  return n;
}

/** The stored checksum matches the block (unsigned sum, or the signed sum old tars wrote). */
export function checksumOk(h: Buffer): boolean {
  const stored = readNumber(h, 148, 8);
  if (stored === undefined) return false;
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : h[i]!;
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  return stored === unsigned || stored === signed;
}

export type Magic = 'ustar' | 'gnu' | 'v7';

/** POSIX ustar/pax ("ustar\0"), old GNU ("ustar  \0") or anything else (v7). */
export function magicOf(h: Buffer): Magic {
  const m = h.toString('latin1', 257, 265);
  if (m.startsWith('ustar\0')) return 'ustar';
  if (m === 'ustar  \0') return 'gnu';
  return 'v7';
}

/** The member name as GNU tar and Go read it: ustar prefix + "/" + name when the prefix is set. */
export function headerName(h: Buffer, magic: Magic): string {
  const name = cString(h, 0, 100);
  const prefix = magic === 'ustar' ? cString(h, 345, 155) : '';
  return prefix ? `${prefix}/${name}` : name;
}

/**
 * pax extended header records, "<len> <key>=<value>\n", in order (a key may repeat; the last one
 * counts). Refuses leading blanks, several blanks, leading zeros or signs in the length, a record
 * without "=" or the newline, and anything after the last record: GNU tar and Go disagree there.
 */
export function parsePax(body: Buffer): { records: [string, string][] } | { error: string } {
  const records: [string, string][] = [];
  let i = 0;
  while (i < body.length) {
    const space = body.indexOf(0x20, i);
    if (space === -1 || space === i || space - i > 12) return { error: `malformed pax record at byte ${i}` };
    const digits = body.toString('latin1', i, space);
    if (!/^[1-9][0-9]*$/.test(digits)) return { error: `malformed pax record length "${digits}"` };
    const end = i + Number(digits);
    if (end > body.length || end <= space + 1) return { error: `pax record length ${digits} is out of range` };
    if (body[end - 1] !== 0x0a) return { error: 'pax record does not end with a newline' };
    const eq = body.indexOf(0x3d, space + 1);
    if (eq === -1 || eq >= end - 1 || eq === space + 1) return { error: 'pax record without key=value' };
    const key = body.toString('latin1', space + 1, eq);
    if (/[\0\n\t ]/.test(key)) return { error: `malformed pax key ${JSON.stringify(shown(key))}` };
    records.push([key, body.toString('latin1', eq + 1, end - 1)]);
    i = end;
  }
  return { records };
}
