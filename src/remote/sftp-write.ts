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

/** Write every chunk of source to path (created or truncated); resolves with the bytes written. */
export async function sftpWriteAll(
  raw: RawSftpWriter,
  path: string,
  source: Readable,
  signal: AbortSignal,
  depth = 8,
): Promise<number> {
  const handle = await call<Buffer>((cb) => raw.open(path, 'w', cb));
  let pos = 0;
  const inflight = new Set<Promise<void>>();
  let failure: Error | undefined;
  try {
    for await (const chunk of source) {
      signal.throwIfAborted();
      if (failure) throw failure;
      const buf = chunk as Buffer;
      const at = pos;
      pos += buf.length;
      const p: Promise<void> = call<void>((cb) => raw.write(handle, buf, 0, buf.length, at, cb)).then(
        () => void inflight.delete(p),
        (err: Error) => {
          failure ??= err;
          inflight.delete(p);
        },
      );
      inflight.add(p);
      while (inflight.size >= depth) await Promise.race(inflight);
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
