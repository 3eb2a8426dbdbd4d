// A directory as a remote (a mounted NAS, a USB disk). Files are written under a temporary name
// and renamed, so a cut transfer never leaves a file that looks whole; a full disk or a
// permission error is permanent, not retried (restic's local backend does the same).
// Durable like the store (src/store/durable.ts): each file is fsynced before its rename, a
// backup's folders before renameDir completes it, and the folders above it after. Folders this
// remote creates are 0700 and files 0600: a backup holds container secrets.
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fsyncDirs, fsyncParents } from '../store/durable.js';
import { PRIVATE_DIR, PRIVATE_FILE } from '../store/private.js';
import { classifyErrno } from './errors.js';
import { Meter } from './meter.js';
import type { ListOptions, OpOptions, PutOptions, PutResult, Remote, RemoteCaps, RemoteEntry } from './types.js';

const TMP_MARK = '.bbtmp-';

export class LocalRemote implements Remote {
  readonly caps: RemoteCaps = { atomicRename: true, maxConnections: 4, hashes: [] };

  constructor(
    readonly name: string,
    private readonly root: string,
  ) {}

  private path(key: string): string {
    return join(this.root, ...key.split('/'));
  }

  async put(key: string, open: () => import('node:stream').Readable, o: PutOptions): Promise<PutResult> {
    o.signal.throwIfAborted();
    const target = this.path(key);
    const tmp = `${target}${TMP_MARK}${randomBytes(4).toString('hex')}`;
    const meter = new Meter(this.caps.hashes, o.onProgress);
    try {
      await mkdir(dirname(target), { recursive: true, mode: PRIVATE_DIR });
      // flush: fsync before close, so the rename below never names a file whose bytes are not on disk
      await pipeline(open(), meter, createWriteStream(tmp, { flags: 'wx', mode: PRIVATE_FILE, flush: true }), {
        signal: o.signal,
      });
      await rename(tmp, target);
      return { key, ...meter.result() };
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw classifyErrno(this.name, `writing ${key}`, err);
    }
  }

  async get(key: string, o: OpOptions): Promise<import('node:stream').Readable> {
    o.signal.throwIfAborted();
    const path = this.path(key);
    try {
      await stat(path);
    } catch (err) {
      throw classifyErrno(this.name, `reading ${key}`, err);
    }
    return createReadStream(path, { highWaterMark: 1 << 20, signal: o.signal });
  }

  async *list(prefix: string, o: ListOptions): AsyncIterable<RemoteEntry> {
    const walk = async function* (this: LocalRemote, dir: string, keyPrefix: string): AsyncGenerator<RemoteEntry> {
      o.signal.throwIfAborted();
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR')
          return;
        throw classifyErrno(this.name, `listing ${keyPrefix || '/'}`, err);
      }
      for (const e of entries) {
        const key = keyPrefix ? `${keyPrefix}/${e.name}` : e.name;
        if (e.isDirectory()) yield* walk.call(this, join(dir, e.name), key);
        else if (e.isFile() && !e.name.includes(TMP_MARK)) {
          const s = await stat(join(dir, e.name));
          yield { key, size: s.size, mtime: s.mtime };
        }
      }
    };
    yield* walk.call(this, prefix ? this.path(prefix) : this.root, prefix);
  }

  async remove(key: string, o: OpOptions): Promise<void> {
    o.signal.throwIfAborted();
    await rm(this.path(key), { force: true }).catch((err: unknown) => {
      throw classifyErrno(this.name, `removing ${key}`, err);
    });
  }

  async removeDir(prefix: string, o: OpOptions): Promise<void> {
    o.signal.throwIfAborted();
    if (!prefix) throw new Error('refusing to remove the remote root');
    await rm(this.path(prefix), { recursive: true, force: true }).catch((err: unknown) => {
      throw classifyErrno(this.name, `removing ${prefix}`, err);
    });
  }

  async renameDir(from: string, to: string, o: OpOptions): Promise<void> {
    o.signal.throwIfAborted();
    try {
      await mkdir(dirname(this.path(to)), { recursive: true, mode: PRIVATE_DIR });
      // Files were fsynced by put(); their names live in the folders, flushed here. rename(2) of
      // a folder is atomic: manifest and data appear together, and the flush of its parents
      // (up to the remote's root, in case put() created them) makes the rename itself durable.
      await fsyncDirs(this.path(from));
      await rename(this.path(from), this.path(to));
      await fsyncParents(this.path(to), this.root);
    } catch (err) {
      throw classifyErrno(this.name, `renaming ${from} to ${to}`, err);
    }
  }

  async close(): Promise<void> {}
}
