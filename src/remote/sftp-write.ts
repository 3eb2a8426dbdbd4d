// Upload through the raw SFTP protocol: open, pipelined WRITE requests at explicit offsets,
// close. ssh2's WriteStream is not used because a failed write there destroys the stream without
// an error (its caller then sees a clean 'close' and a short file) or stalls the pipe for good.
// Here every WRITE's status is checked, and up to `depth` requests are in flight so throughput
// does not pay one round trip per chunk.
import type { Readable } from 'node:stream';

export interface RawSftpWriter {
  open(path: string, flags: string, cb: (err: Error | undefined, handle: Buffer) => void): void;
  write(handle: Buffer, buf: Buffer, off: number, len: number, pos: number, cb: (err: Error | undefined) => void): void;
  close(handle: Buffer, cb: (err: Error | undefined) => void): void;
}

const call = <T>(fn: (cb: (err: Error | undefined, v: T) => void) => void): Promise<T> =>
  new Promise((resolve, reject) => fn((err, v) => (err ? reject(err) : resolve(v))));

/**
 * Bytes of WRITE requests in flight across every upload on one connection. The channel's window
 * (2 MiB on OpenSSH) is all that moves at once; more in flight only waits in ssh2's buffers, so
 * packs sent at once share this instead of each holding its own depth of requests.
 */
export class WriteBudget {
  private used = 0;
  private waiters: (() => void)[] = [];
  constructor(readonly limit: number) {}

  async take(n: number): Promise<void> {
    while (this.used > 0 && this.used + n > this.limit) await new Promise<void>((r) => this.waiters.push(r));
    this.used += n;
  }

  give(n: number): void {
    this.used -= n;
    for (const wake of this.waiters.splice(0)) wake();
  }
}

export interface SftpWriteOptions {
  /** requests of this upload in flight at most */
  depth?: number;
  /** bytes per WRITE request: at most the server's max-write-length (OpenSSH: 255 KiB), else ssh2 sends the rest only after the reply */
  piece?: number;
  /** shared with the connection's other uploads */
  budget?: WriteBudget;
}

/** Write every chunk of source to path (created or truncated); resolves with the bytes written. */
export async function sftpWriteAll(
  raw: RawSftpWriter,
  path: string,
  source: Readable,
  signal: AbortSignal,
  o: SftpWriteOptions = {},
): Promise<number> {
  const depth = o.depth ?? 8;
  const piece = o.piece ?? 255 << 10;
  const handle = await call<Buffer>((cb) => raw.open(path, 'w', cb));
  let pos = 0;
  const inflight = new Set<Promise<void>>();
  let failure: Error | undefined;
  try {
    for await (const chunk of source) {
      const buf = chunk as Buffer;
      for (let off = 0; off < buf.length; off += piece) {
        signal.throwIfAborted();
        if (failure) throw failure;
        while (inflight.size >= depth) await Promise.race(inflight);
        const len = Math.min(piece, buf.length - off);
        await o.budget?.take(len);
        const at = pos;
        pos += len;
        const p: Promise<void> = call<void>((cb) => raw.write(handle, buf, off, len, at, cb)).then(
          () => {
            o.budget?.give(len);
            inflight.delete(p);
          },
          (err: Error) => {
            o.budget?.give(len);
            failure ??= err;
            inflight.delete(p);
          },
        );
        inflight.add(p);
      }
    }
    await Promise.all(inflight);
    if (failure) throw failure;
    signal.throwIfAborted();
  } catch (err) {
    source.destroy();
    await Promise.allSettled(inflight);
    throw err;
  } finally {
    await call<void>((cb) => raw.close(handle, cb)).catch(() => undefined);
  }
  return pos;
}
