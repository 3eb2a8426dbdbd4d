// SFTP remote over ssh2-sftp-client. The connection is opened on first use, TCP_NODELAY is set
// (ssh2 leaves Nagle on, and streamed writes then wait ~35 ms each: RECIPES §5), and uploads go
// in 1 MiB batches of WRITE requests no larger than the server takes whole (255 KiB on OpenSSH),
// with a budget of bytes in flight shared by every put. Files are written as <key>.bbtmp-* and
// renamed when whole.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type SftpClient from 'ssh2-sftp-client';
import { BbackupError, isAbortError } from '../errors.js';
import { RemoteError } from './errors.js';
import { verifyHostKey, type HostKeyPolicy } from './host-key.js';
import { Meter, Rebatch } from './meter.js';
import { sftpWriteAll, WriteBudget, type RawSftpWriter } from './sftp-write.js';
import type { ListOptions, OpOptions, PutOptions, PutResult, Remote, RemoteCaps, RemoteEntry } from './types.js';

export interface SftpSettings {
  host: string;
  port: number;
  user: string;
  path: string;
  keyFile?: string;
  keyPassphrase?: string;
  password?: string;
  knownHosts?: string;
  hostKey?: string;
  insecureAcceptAnyHostKey: boolean;
}

const TMP_MARK = '.bbtmp-';
/** twice OpenSSH's channel window: enough to keep it full */
const WRITE_BUDGET = 4 << 20;

class ShortWrite extends Error {}
type VfsStats = { f_frsize: number | bigint; f_bsize: number | bigint; f_bavail: number | bigint };
type RawSftp = { ext_openssh_statvfs(p: string, cb: (err: Error | undefined, st: VfsStats) => void): void };

export class SftpRemote implements Remote {
  readonly caps: RemoteCaps = { atomicRename: true, maxConnections: 1, hashes: [] };
  private client?: Promise<SftpClient>;
  private hostKeyProblem?: string;
  private madeDirs = new Map<string, Promise<void>>();
  /** WRITE bytes in flight for all puts at once: RSS stays flat however many packs are sent together */
  private readonly writeBudget = new WriteBudget(WRITE_BUDGET);

  constructor(
    readonly name: string,
    private readonly s: SftpSettings,
  ) {}

  private path(key: string): string {
    return posix.join(this.s.path, key);
  }

  private connect(): Promise<SftpClient> {
    this.client ??= this.open().catch((err: unknown) => {
      this.client = undefined;
      throw err;
    });
    return this.client;
  }

  private async open(): Promise<SftpClient> {
    const quiet = () => undefined; // the library logs to stdout by default, which would break --json
    const { default: Client } = await import('ssh2-sftp-client'); // loaded on first use, not at start-up
    const c = new Client('bbackup', { error: quiet, end: quiet, close: quiet });
    const policy: HostKeyPolicy = {
      host: this.s.host,
      port: this.s.port,
      pinned: this.s.hostKey,
      knownHostsFile: this.s.knownHosts,
      acceptAny: this.s.insecureAcceptAnyHostKey,
    };
    let privateKey: Buffer | undefined;
    if (this.s.keyFile) {
      try {
        privateKey = readFileSync(this.s.keyFile);
      } catch (err) {
        throw new RemoteError(
          'CONFIG_INVALID',
          this.name,
          `cannot read key_file ${this.s.keyFile}: ${(err as Error).message}`,
          false,
          { cause: err },
        );
      }
    }
    try {
      await c.connect({
        host: this.s.host,
        port: this.s.port,
        username: this.s.user,
        privateKey,
        passphrase: this.s.keyPassphrase,
        password: this.s.password,
        readyTimeout: 20_000,
        // AES-GCM runs on AES-NI through OpenSSL: the fastest cipher ssh2 offers on x86 (bench/upload.ts).
        algorithms: {
          cipher: [
            'aes128-gcm@openssh.com',
            'aes256-gcm@openssh.com',
            'chacha20-poly1305@openssh.com',
            'aes128-ctr',
            'aes256-ctr',
          ],
        },
        retries: 0,
        hostVerifier: (key: Buffer) => {
          const v = verifyHostKey(policy, key);
          this.hostKeyProblem = v.ok ? undefined : v.reason;
          return v.ok;
        },
      });
    } catch (err) {
      throw this.classify('connecting', err);
    }
    (c as unknown as { client: { setNoDelay(b: boolean): void } }).client.setNoDelay(true);
    return c;
  }

  private classify(what: string, err: unknown): Error {
    if (isAbortError(err) || err instanceof BbackupError) return err as Error;
    const e = err as { message?: string; code?: string | number; level?: string };
    const msg = e.message ?? String(err);
    const at = `${this.s.user}@${this.s.host}:${this.s.port}`;
    if (this.hostKeyProblem && /verification failed|Host denied/i.test(msg))
      return new RemoteError('REMOTE_AUTH', this.name, `${what} ${at}: ${this.hostKeyProblem}`, false, { cause: err });
    if (e.level === 'client-authentication' || /authentication methods failed|All configured authentication/i.test(msg))
      return new RemoteError(
        'REMOTE_AUTH',
        this.name,
        `${what} ${at}: authentication failed (key or password rejected)`,
        false,
        { cause: err },
      );
    if (/ECONNREFUSED/.test(msg) || e.code === 'ECONNREFUSED')
      return new RemoteError('REMOTE_IO', this.name, `${what} ${at}: connection refused (is the server up?)`, true, {
        cause: err,
      });
    if (/ENOTFOUND|EAI_AGAIN/.test(msg))
      return new RemoteError('REMOTE_IO', this.name, `${what} ${at}: host not found`, false, { cause: err });
    if (/timed out|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ECONNRESET|Not connected|No SFTP connection/i.test(msg))
      return new RemoteError('REMOTE_IO', this.name, `${what} ${at}: ${msg}`, true, { cause: err });
    if (e.code === 2 || /No such file/i.test(msg))
      return new RemoteError('NOT_FOUND', this.name, `${what}: not found`, false, { cause: err });
    if (e.code === 3 || /Permission denied/i.test(msg))
      return new RemoteError('REMOTE_IO', this.name, `${what}: permission denied`, false, { cause: err });
    return new RemoteError('REMOTE_IO', this.name, `${what}: ${msg}`, true, { cause: err });
  }

  /** A failed write on OpenSSH is a bare "Failure": ask the server whether its disk is full. */
  private async diskFull(c: SftpClient, dir: string): Promise<boolean> {
    const raw = (c as unknown as { sftp?: RawSftp }).sftp;
    if (!raw) return false;
    return new Promise((resolve) => {
      try {
        raw.ext_openssh_statvfs(dir, (err, st) =>
          resolve(!err && Number(st.f_bavail) * Number(st.f_frsize || st.f_bsize) < 1 << 20),
        );
      } catch {
        resolve(false);
      }
    });
  }

  /** Several puts run at once (packs): one mkdir per folder, and a folder another client made meanwhile is fine. */
  private mkdirp(c: SftpClient, dir: string): Promise<void> {
    let p = this.madeDirs.get(dir);
    if (!p) {
      p = (async () => {
        if ((await c.exists(dir)) === 'd') return;
        try {
          await c.mkdir(dir, true);
        } catch (err) {
          if ((await c.exists(dir).catch(() => false)) !== 'd') throw err;
        }
      })();
      this.madeDirs.set(dir, p);
      p.catch(() => this.madeDirs.delete(dir));
    }
    return p;
  }

  private watch(signal: AbortSignal): () => void {
    // ssh2 has no AbortSignal: ending the connection is the only way to stop a transfer.
    const stop = () => {
      const c = this.client;
      this.client = undefined; // the next operation connects again
      this.madeDirs.clear();
      void c?.then((x) => x.end()).catch(() => undefined);
    };
    signal.addEventListener('abort', stop, { once: true });
    return () => signal.removeEventListener('abort', stop);
  }

  /** Abort needs no connection reset here: the pipeline's signal destroys the source and the write stream. */
  async put(key: string, open: () => Readable, o: PutOptions): Promise<PutResult> {
    o.signal.throwIfAborted();
    const c = await this.connect();
    const target = this.path(key);
    const tmp = `${target}${TMP_MARK}${randomBytes(4).toString('hex')}`;
    const meter = new Meter(this.caps.hashes, o.onProgress);
    try {
      await this.mkdirp(c, posix.dirname(target));
      const source = open();
      const batched = new PassThrough({ highWaterMark: 1 << 20 });
      const feeding = pipeline(source, meter, new Rebatch(), batched, { signal: o.signal });
      feeding.catch(() => undefined); // reported through the writer, which reads `batched`
      const raw = (c as unknown as { sftp?: RawSftpWriter }).sftp;
      if (!raw) throw new RemoteError('REMOTE_IO', this.name, 'no SFTP session', true);
      await sftpWriteAll(raw, tmp, batched, o.signal, { depth: 16, budget: this.writeBudget });
      await feeding;
      // Belt and braces: the size on the server is the proof the bytes arrived.
      const stored = (await c.stat(tmp)).size;
      if (stored !== meter.bytes) throw new ShortWrite(`the server stored ${stored} of ${meter.bytes} bytes`);
      await c.posixRename(tmp, target); // posix-rename@openssh.com replaces an existing file
      return { key, ...meter.result() };
    } catch (err) {
      const full = !o.signal.aborted && (await this.diskFull(c, posix.dirname(target)).catch(() => false));
      await c.delete(tmp, true).catch(() => undefined);
      if (full)
        throw new RemoteError(
          'DISK',
          this.name,
          `writing ${key}: no space left on ${this.s.host}:${this.s.path} (disk full)`,
          false,
          { cause: err },
        );
      if (err instanceof ShortWrite)
        throw new RemoteError('REMOTE_IO', this.name, `writing ${key}: ${err.message}`, true, { cause: err });
      throw this.classify(`writing ${key}`, err);
    }
  }

  async get(key: string, o: OpOptions): Promise<Readable> {
    o.signal.throwIfAborted();
    const c = await this.connect();
    const path = this.path(key);
    try {
      await c.stat(path);
    } catch (err) {
      throw this.classify(`reading ${key}`, err);
    }
    const stream = c.createReadStream(path, { highWaterMark: 1 << 20 });
    const out = new PassThrough({ highWaterMark: 1 << 20 });
    const unwatch = this.watch(o.signal);
    pipeline(stream, out)
      .catch((err: unknown) => out.destroy(this.classify(`reading ${key}`, err)))
      .finally(unwatch);
    return out;
  }

  async *list(prefix: string, o: ListOptions): AsyncIterable<RemoteEntry> {
    const c = await this.connect();
    const walk = async function* (this: SftpRemote, keyDir: string, depth: number): AsyncGenerator<RemoteEntry> {
      o.signal.throwIfAborted();
      let entries;
      try {
        entries = await c.list(this.path(keyDir));
      } catch (err) {
        const e = this.classify(`listing ${keyDir || '/'}`, err);
        if (e instanceof BbackupError && e.code === 'NOT_FOUND') return;
        throw e;
      }
      for (const e of entries) {
        const key = keyDir ? `${keyDir}/${e.name}` : e.name;
        if (e.type === 'd') {
          if (o.maxDepth === undefined || depth < o.maxDepth) yield* walk.call(this, key, depth + 1);
        } else if (e.type === '-' && !e.name.includes(TMP_MARK))
          yield { key, size: e.size, mtime: new Date(e.modifyTime) };
      }
    };
    yield* walk.call(this, prefix, 1);
  }

  async remove(key: string, o: OpOptions): Promise<void> {
    o.signal.throwIfAborted();
    const c = await this.connect();
    await c.delete(this.path(key), true).catch((err: unknown) => {
      throw this.classify(`removing ${key}`, err);
    });
  }

  async removeDir(prefix: string, o: OpOptions): Promise<void> {
    o.signal.throwIfAborted();
    if (!prefix) throw new Error('refusing to remove the remote root');
    const c = await this.connect();
    const path = this.path(prefix);
    this.madeDirs.clear(); // folders we made may be gone now
    try {
      if (await c.exists(path)) await c.rmdir(path, true);
    } catch (err) {
      throw this.classify(`removing ${prefix}`, err);
    }
  }

  async renameDir(from: string, to: string, o: OpOptions): Promise<void> {
    o.signal.throwIfAborted();
    const c = await this.connect();
    try {
      await this.mkdirp(c, posix.dirname(this.path(to)));
      this.madeDirs.clear(); // folders under `from` moved away
      await c.rename(this.path(from), this.path(to)); // rename(2) on the server: atomic
    } catch (err) {
      throw this.classify(`renaming ${from} to ${to}`, err);
    }
  }

  async close(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    if (c) await (await c.catch(() => undefined))?.end().catch(() => undefined);
  }
}
