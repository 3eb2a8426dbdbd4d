// Compression through the real tools (zstd, gzip), streamed: a tar stream goes in, the
// compressed bytes are hashed on their way to the file, so nothing is read twice and nothing
// is held in memory.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { spawn } from 'node:child_process';
import { execa } from 'execa';
import { BbackupError, lastLines } from '../errors.js';
import type { CompressionMethod } from '../store/manifest.js';
import { PRIVATE_FILE } from '../store/private.js';

export const extensionFor = (method: CompressionMethod): string => (method === 'zstd' ? '.zst' : method === 'gzip' ? '.gz' : '');

/** argv of the compressor reading stdin and writing stdout; undefined for none. */
export function compressorArgv(method: CompressionMethod, level: number): [string, string[]] | undefined {
  switch (method) {
    case 'zstd':
      return ['zstd', ['-q', '-c', '-T0', `-${Math.min(19, Math.max(1, level))}`]];
    case 'gzip':
      return ['gzip', ['-c', `-${Math.min(9, Math.max(1, level))}`]];
    case 'none':
      return undefined;
  }
}

/** Count bytes flowing through (for progress) without copying them. */
export function byteCounter(onBytes: (total: number) => void): Transform {
  let total = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      total += chunk.length;
      onBytes(total);
      cb(null, chunk);
    },
  });
}

/** A child process's stdout pipe that nobody has read from yet. */
function hasPipeHandle(s: Readable): boolean {
  const handle = (s as unknown as { _handle?: { fd?: number } })._handle;
  return typeof handle?.fd === 'number' && handle.fd >= 0 && s.readableFlowing === null;
}

export interface WrittenFile {
  size: number;
  sha256: string;
}

/**
 * Compress `input` into `outPath`; returns size and sha256 of the written (compressed) file.
 * `onInputBytes` counts uncompressed bytes, which is what progress shows.
 */
export async function compressToFile(
  input: Readable,
  outPath: string,
  compression: { method: CompressionMethod; level: number },
  opts: { signal: AbortSignal; onInputBytes?: (total: number) => void; what: string },
): Promise<WrittenFile> {
  const hash = createHash('sha256');
  let size = 0;
  const hasher = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      size += chunk.length;
      cb(null, chunk);
    },
  });
  const counted = opts.onInputBytes ? input.pipe(byteCounter(opts.onInputBytes)) : input;
  const argv = compressorArgv(compression.method, compression.level);
  const out = createWriteStream(outPath, { mode: PRIVATE_FILE });
  if (!argv) {
    await pipeline(counted, hasher, out, { signal: opts.signal });
    return { size, sha256: hash.digest('hex') };
  }
  if (!opts.onInputBytes && hasPipeHandle(input)) return compressDirect(input, argv, out, hasher, () => ({ size, sha256: hash.digest('hex') }), outPath, opts);
  const proc = execa(argv[0], argv[1], { stdin: 'pipe', stdout: 'pipe', stderr: 'pipe', buffer: { stdout: false, stderr: true }, cancelSignal: opts.signal, forceKillAfterDelay: 2000 });
  try {
    await Promise.all([pipeline(counted, proc.stdin!, { signal: opts.signal }), pipeline(proc.stdout!, hasher, out, { signal: opts.signal }), proc]);
  } catch (err) {
    proc.kill();
    if (opts.signal.aborted) throw opts.signal.reason;
    if (err instanceof BbackupError) throw err; // from a stage before us (the device filter): it says what went wrong
    const e = err as { stderr?: string; code?: string; message: string };
    if (e.code === 'ENOSPC') throw new BbackupError('DISK', `no space left on the store while writing ${opts.what} (${outPath})`, { path: outPath }, { cause: err });
    throw new BbackupError('TOOL_FAILED', `${argv[0]} failed while writing ${opts.what}: ${lastLines(e.stderr, 5) || e.message}`, { path: outPath }, { cause: err });
  }
  return { size, sha256: hash.digest('hex') };
}

/** The producer's pipe becomes the compressor's stdin: the uncompressed bytes never enter JavaScript. */
async function compressDirect(
  input: Readable,
  argv: [string, string[]],
  out: NodeJS.WritableStream,
  hasher: Transform,
  result: () => WrittenFile,
  outPath: string,
  opts: { signal: AbortSignal; what: string },
): Promise<WrittenFile> {
  const child = spawn(argv[0], argv[1], { stdio: [input, 'pipe', 'pipe'] });
  // The compressor holds its own copy of the pipe now; ours would only keep it open.
  input.destroy();
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (t: string) => (stderr = (stderr + t).slice(-16384)));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('exit', (code) => resolve(code));
    child.once('error', reject);
  });
  const onAbort = () => child.kill('SIGKILL');
  opts.signal.addEventListener('abort', onAbort, { once: true });
  try {
    const [, code] = await Promise.all([pipeline(child.stdout!, hasher, out as unknown as NodeJS.WritableStream), exited]);
    opts.signal.throwIfAborted();
    if (code !== 0) throw new BbackupError('TOOL_FAILED', `${argv[0]} failed (exit ${code}) while writing ${opts.what}: ${lastLines(stderr, 5)}`, { path: outPath });
    return result();
  } catch (err) {
    child.kill('SIGKILL');
    if (opts.signal.aborted) throw opts.signal.reason;
    if ((err as NodeJS.ErrnoException).code === 'ENOSPC' || /No space left/i.test(stderr)) throw new BbackupError('DISK', `no space left on the store while writing ${opts.what} (${outPath})`, { path: outPath }, { cause: err });
    throw err;
  } finally {
    opts.signal.removeEventListener('abort', onAbort);
  }
}
