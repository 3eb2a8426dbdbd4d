// How a volume tree travels: one tar stream (GNU tar, POSIX/pax format for sub-second mtimes,
// numeric owners, xattrs, ACLs, sparse files) through zstd, made on the fly (no scratch copy),
// and unpacked on pull through the archive gate (src/archive/tar-gate.ts).
import { Readable } from 'node:stream';
import { TarGate } from '../archive/tar-gate.js';
import { runChain } from './proc-stream.js';

export const REMOTE_INDEX = 'remote-index.json';
export const REMOTE_INDEX_FORMAT = 1;

/** What the remote copy holds: written before the manifest, read first on pull. */
export interface RemoteIndex {
  format: typeof REMOTE_INDEX_FORMAT;
  id: string;
  host: string;
  uploaded: string;
  encrypted: boolean;
  files: RemoteFile[];
}

export interface RemoteFile {
  /** path in the local backup layout (for a packed tree: the archive path) */
  path: string;
  /** key inside the remote backup folder (…​.age when encrypted) */
  stored: string;
  /** plaintext size and sha256: what pull checks after decrypting (packed trees: no sha256, zstd's own checksum covers them) */
  size: number;
  sha256?: string;
  /** bytes stored on the remote (after encryption) */
  storedSize: number;
  /** set when this archive is a packed tree: the folder to unpack it into */
  unpackTo?: string;
}

export function packTree(dir: string, level: number, signal?: AbortSignal): Readable {
  return runChain(
    [
      {
        file: 'tar',
        args: [
          '-C',
          dir,
          '--format=posix',
          '--pax-option=delete=atime,delete=ctime',
          '--numeric-owner',
          '--xattrs',
          '--xattrs-include=*',
          '--acls',
          '--sparse',
          '-cf',
          '-',
          '.',
        ],
      },
      { file: 'zstd', args: ['-q', '-T0', `-${Math.min(19, Math.max(1, level))}`, '-c'] },
    ],
    { signal, what: `packing ${dir}` },
  );
}

/**
 * Unpack a packed tree into dir (which must exist and be empty); resolves when every byte is on
 * disk. The remote is untrusted: tar reads only what the archive gate approved (the archive entry
 * rules: nothing absolute, no "..", nothing through a symlink, no hard link out, no device), and
 * runs in the C locale so it writes names byte for byte as they were checked.
 */
export async function unpackTree(
  input: Readable,
  dir: string,
  signal: AbortSignal | undefined,
  what: string,
): Promise<void> {
  const plain = runChain([{ file: 'zstd', args: ['-q', '-d', '-c'] }], {
    signal,
    input,
    what: `decompressing ${what}`,
  });
  const gate = new TarGate(what);
  const gated = new Promise<void>((resolve, reject) => {
    gate.on('finish', resolve);
    gate.on('error', reject);
  });
  gated.catch(() => undefined);
  plain.on('error', (err) => gate.destroy(err));
  plain.pipe(gate);
  const out = runChain(
    [
      {
        file: 'tar',
        args: [
          '-C',
          dir,
          '--numeric-owner',
          '--same-owner',
          '--same-permissions',
          '--xattrs',
          '--xattrs-include=*',
          '--acls',
          '-xf',
          '-',
        ],
        env: { LC_ALL: 'C' },
      },
    ],
    { signal, input: gate, what: `unpacking ${what}` },
  );
  out.resume();
  const extracted = new Promise<void>((resolve, reject) => {
    out.on('end', resolve);
    out.on('error', reject);
  });
  try {
    await extracted;
  } catch (err) {
    throw gate.error ?? err; // the gate's refusal, not tar's "unexpected EOF"
  }
  await gated; // the rest of the stream (record padding) read, zstd's checksum checked
}
