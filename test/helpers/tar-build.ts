// Tar archives byte by byte, the way an attacker would make them: any header field, any record,
// any checksum. Used by the archive scanner tests and the hostile-remote pull tests.

export interface HeaderSpec {
  name: string;
  /** typeflag, default "0" */
  type?: string;
  /** file data (size defaults to its length) */
  data?: Buffer | string;
  /** the size field when it should not match the data */
  size?: number;
  linkname?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  magic?: 'ustar' | 'gnu' | 'v7';
  prefix?: string;
  /** change the block after the fields are written, before the checksum */
  edit?: (h: Buffer) => void;
  /** add this to the correct checksum (0: correct) */
  badChecksum?: number;
}

const octal = (n: number, len: number): string => n.toString(8).padStart(len - 1, '0') + '\0';

export function header(s: HeaderSpec): Buffer {
  const h = Buffer.alloc(512);
  const data = s.data === undefined ? Buffer.alloc(0) : Buffer.from(s.data);
  h.write(s.name, 0, 100, 'utf8');
  h.write(octal(s.mode ?? 0o644, 8), 100, 'latin1');
  h.write(octal(s.uid ?? 0, 8), 108, 'latin1');
  h.write(octal(s.gid ?? 0, 8), 116, 'latin1');
  h.write(octal(s.size ?? data.length, 12), 124, 'latin1');
  h.write(octal(s.mtime ?? 1_700_000_000, 12), 136, 'latin1');
  h.write(s.type ?? '0', 156, 'latin1');
  if (s.linkname) h.write(s.linkname, 157, 100, 'utf8');
  const magic = s.magic ?? 'ustar';
  if (magic === 'ustar') h.write('ustar\x0000', 257, 'latin1');
  if (magic === 'gnu') h.write('ustar  \x00', 257, 'latin1');
  if (s.prefix) h.write(s.prefix, 345, 155, 'utf8');
  s.edit?.(h);
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum + (s.badChecksum ?? 0), 7) + ' ', 148, 'latin1');
  return h;
}

const pad = (b: Buffer): Buffer => Buffer.concat([b, Buffer.alloc((512 - (b.length % 512)) % 512)]);

/** A header and its data, padded to whole blocks. */
export function entry(s: HeaderSpec): Buffer {
  const data = s.data === undefined ? Buffer.alloc(0) : Buffer.from(s.data);
  return Buffer.concat([header(s), pad(data)]);
}

/** "len key=value\n" records. */
export function paxBody(records: [string, string][]): Buffer {
  return Buffer.concat(
    records.map(([k, v]) => {
      const rest = ` ${k}=${v}\n`;
      let len = Buffer.byteLength(rest) + 1;
      while (String(len).length + Buffer.byteLength(rest) !== len) len++;
      return Buffer.from(`${len}${rest}`);
    }),
  );
}

/** A pax extended header ("x", or "g" for global) holding records, or a raw body. */
export function pax(records: [string, string][] | Buffer, type: 'x' | 'g' = 'x'): Buffer {
  const body = Buffer.isBuffer(records) ? records : paxBody(records);
  return entry({ name: type === 'g' ? 'pax_global_header' : 'PaxHeaders/x', type, data: body });
}

/** GNU long name ("L") or long link ("K") for the next entry. */
export const longName = (name: string, type: 'L' | 'K' = 'L'): Buffer =>
  entry({ name: '././@LongLink', type, data: Buffer.from(`${name}\0`), magic: 'gnu' });

export const END = Buffer.alloc(1024);

export const archive = (...parts: Buffer[]): Buffer => Buffer.concat([...parts, END]);

export const dir = (name: string): Buffer => entry({ name, type: '5', mode: 0o755 });
export const file = (name: string, data = 'x'): Buffer => entry({ name, data });
export const symlink = (name: string, target: string): Buffer =>
  entry({ name, type: '2', linkname: target, mode: 0o777 });
export const hardlink = (name: string, target: string): Buffer => entry({ name, type: '1', linkname: target });
