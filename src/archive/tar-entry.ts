// What one tar entry means, read the way GNU tar and Go's archive/tar read it: its header plus the
// pax records and GNU long name/link that came before it. Pure: the scanner (tar-scan.ts) keeps the
// stream state and applies the path rules (entry-rules.ts) to what this returns.
import type { EntryProblem } from './entry-rules.js';
import { cString, headerName, shown, type Magic } from './tar-header.js';

export const DATALESS = new Set(['1', '2', '3', '4', '5', '6']);
const REGULAR = new Set(['0', '\0', '7']);
/** pax keys with a meaning we model, or none that changes where or what tar writes */
const PAX_KEYS = new Set([
  'path',
  'linkpath',
  'size',
  'uid',
  'gid',
  'uname',
  'gname',
  'mtime',
  'atime',
  'ctime',
  'comment',
  'charset',
  'hdrcharset',
  'SCHILY.acl.access',
  'SCHILY.acl.default',
  'RHT.security.selinux',
  'SCHILY.dev',
  'SCHILY.ino',
  'SCHILY.nlink',
  'SCHILY.fflags',
  'LIBARCHIVE.creationtime',
  'GNU.sparse.major',
  'GNU.sparse.minor',
  'GNU.sparse.name',
  'GNU.sparse.realsize',
]);
const PAX_PREFIXES = ['SCHILY.xattr.', 'LIBARCHIVE.xattr.'];
const DECIMAL = /^\d{1,16}$/;

export interface EntryInput {
  header: Buffer;
  magic: Magic;
  /** the header's size field, already parsed */
  headerSize: number;
  pax: ReadonlyMap<string, string>;
  longName?: string;
  longLink?: string;
}

export interface EntryModel {
  /** typeflag ("\0" read as "0") */
  type: string;
  /** what the path rules see: regular files (also old GNU sparse) are "0", named like a directory "5" */
  ruleType: string;
  path: string;
  linkpath: string;
  /** bytes of data that follow the header (0 for links, directories, devices, fifos) */
  dataSize: number;
  /** pax sparse 1.0: the file's real size (its map starts the data) */
  paxSparseRealsize?: number;
  /** entry-level findings: the archive can still be read past them */
  problems: EntryProblem[];
}

/** The entry, or why the archive cannot be read on safely (readers would disagree about what follows). */
export function modelEntry(e: EntryInput): EntryModel | { fatal: string } {
  const { pax, magic } = e;
  const raw = String.fromCharCode(e.header[156]!);
  const type = raw === '\0' ? '0' : raw;
  if (pax.size > 0 && magic === 'gnu') return { fatal: 'pax records before an old GNU header' };
  const paxSize = pax.get('size');
  if (paxSize !== undefined && !DECIMAL.test(paxSize)) return { fatal: `malformed pax size "${shown(paxSize)}"` };
  const size = paxSize !== undefined ? Number(paxSize) : e.headerSize;
  const sparse = [...pax.keys()].some((k) => k.startsWith('GNU.sparse.'));
  // GNU tar honours GNU.sparse.name even without a version; Go only for a sparse version: require 1.0
  if (
    sparse &&
    !(
      type === '0' &&
      magic === 'ustar' &&
      pax.get('GNU.sparse.major') === '1' &&
      pax.get('GNU.sparse.minor') === '0' &&
      DECIMAL.test(pax.get('GNU.sparse.realsize') ?? '') &&
      pax.get('GNU.sparse.name') !== ''
    )
  ) {
    return { fatal: "unsupported sparse file format (only GNU tar's pax format 1.0 is read)" };
  }
  // GNU tar skips data after some of these and not after others; Go never does: only 0 is unambiguous
  if (DATALESS.has(type) && size !== 0)
    return {
      fatal: `an entry of type "${type}" declares ${size} bytes of data (readers disagree on whether to skip them)`,
    };
  const path =
    (sparse ? pax.get('GNU.sparse.name') : undefined) ?? pax.get('path') ?? e.longName ?? headerName(e.header, magic);
  const linkpath = pax.get('linkpath') ?? e.longLink ?? cString(e.header, 157, 100);
  // GNU tar (and Go) extract a regular entry named "x/" as a directory, without reading its data
  if (REGULAR.has(raw) && path.endsWith('/') && size > 0)
    return { fatal: `${shown(path)}: a file entry named like a directory carries data` };
  const problems: EntryProblem[] = [];
  for (const k of pax.keys())
    if (!PAX_KEYS.has(k) && !PAX_PREFIXES.some((p) => k.startsWith(p)))
      problems.push({ entry: shown(path), reason: `unsupported pax record "${shown(k)}"` });
  // GNU tar cuts a pax path at a NUL, Go refuses it: either way not the path that was checked
  if (path.includes('\0') || linkpath.includes('\0'))
    problems.push({ entry: shown(path), reason: 'NUL byte in a pax path' });
  const ruleType = REGULAR.has(raw) || type === 'S' ? (path.endsWith('/') ? '5' : '0') : type;
  return {
    type,
    ruleType,
    path,
    linkpath,
    dataSize: DATALESS.has(type) ? 0 : size,
    paxSparseRealsize: sparse ? Number(pax.get('GNU.sparse.realsize')) : undefined,
    problems,
  };
}
