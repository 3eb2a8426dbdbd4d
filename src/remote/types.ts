// The Remote contract (STYLE §3): one small interface, extra behaviour by wrapping (retry,
// progress, encryption are decorators composed only in open.ts). Keys are POSIX paths relative to
// the remote's root, never starting with "/", never containing "..".
import type { Readable } from 'node:stream';

export interface OpOptions {
  signal: AbortSignal;
}

export interface PutOptions extends OpOptions {
  /** expected plaintext size when known: only used for progress totals */
  size?: number;
  /** how progress events name this transfer (default: the key) */
  label?: string;
  /** the base remote reports bytes it has sent so far (rclone from its own stats, others counted) */
  onProgress?: (bytes: number) => void;
  /** store the bytes as they are even when encryption is on: only for files that say nothing secret (retention.json) */
  plaintext?: boolean;
}

/** What the base remote actually stored: byte count and the hashes it computed on those bytes. */
export interface PutResult {
  /** the key the bytes were stored under (an encrypting wrapper appends .age) */
  key: string;
  size: number;
  /** hex digests of the stored bytes, for the hash types in caps.hashes */
  hashes: Partial<Record<HashType, string>>;
}

export type HashType = 'md5' | 'sha256';

export interface RemoteEntry {
  key: string;
  size: number;
  mtime: Date;
  /** hex digests the remote offers cheaply (only when list was asked for hashes) */
  hashes?: Partial<Record<HashType, string>>;
}

export interface ListOptions extends OpOptions {
  /** ask the remote for hashes too (may cost a read on some backends) */
  hashes?: boolean;
  /** only files this many folder levels below prefix (1 = directly in it); default: all */
  maxDepth?: number;
}

export interface RemoteCaps {
  /** renameDir makes every file visible at once, or at least the manifest last (see renameDir) */
  atomicRename: boolean;
  /** transfers that may run at the same time */
  maxConnections: number;
  /** hashes list({hashes:true}) may return; empty = sizes only */
  hashes: HashType[];
}

export interface Remote {
  /** display name from the config; never contains credentials */
  readonly name: string;
  readonly caps: RemoteCaps;
  /**
   * Store the bytes of open() under key, creating parent folders. open() is called once per
   * attempt and must yield the same bytes from offset 0 each time. A failed put leaves no file
   * under key (it may leave a temporary one next to it, which list() never returns).
   */
  put(key: string, open: () => Readable, o: PutOptions): Promise<PutResult>;
  /** A stream of the stored bytes. Rejects with NOT_FOUND when key does not exist. */
  get(key: string, o: OpOptions): Promise<Readable>;
  /** Every file under prefix ("" = all), recursively, in no particular order. A missing prefix is empty. */
  list(prefix: string, o: ListOptions): AsyncIterable<RemoteEntry>;
  /** Remove one file; a missing file is not an error. */
  remove(key: string, o: OpOptions): Promise<void>;
  /** Remove a folder and everything in it; a missing folder is not an error. */
  removeDir(prefix: string, o: OpOptions): Promise<void>;
  /**
   * Rename folder from to to (to must not exist). Files named manifest.json* become visible at
   * `to` last, so a reader that trusts only a manifest never sees a half-moved backup.
   */
  renameDir(from: string, to: string, o: OpOptions): Promise<void>;
  close(): Promise<void>;
}

export const isManifestKey = (key: string): boolean => /(^|\/)manifest\.json(\.age)?$/.test(key);

export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}
