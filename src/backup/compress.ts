// Compression through the real tools (zstd, gzip), streamed, and one pass: a tar stream goes into
// the compressor, whose output goes straight into bbcopy sink, which writes the stored file and
// hashes it on the way (README "The copy engine"). When the tar comes from a local process (host
// mode, the metadata archive), its pipe is the compressor's stdin: no byte passes through
// JavaScript at all. Nothing is read twice and nothing is held in memory.
import { spawn } from 'node:child_process';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BbackupError, lastLines } from '../errors.js';
import type { CompressionMethod } from '../store/manifest.js';
import { hasPipeHandle, runBbcopy, sinkArgs, type SinkSummary } from './bbcopy.js';

export const extensionFor = (method: CompressionMethod): string =>
  method === 'zstd' ? '.zst' : method === 'gzip' ? '.gz' : '';

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

export interface WrittenFile {
  size: number;
  sha256: string;
  /** where bbcopy sink spent its time */
  phases?: SinkSummary;
}

/**
 * Compress `input` into `outPath` (a new file); returns size and sha256 of the written
 * (compressed) file. `onInputBytes` counts uncompressed bytes, which is what progress shows.
 */
export async function compressToFile(
  input: Readable,
  outPath: string,
  compression: { method: CompressionMethod; level: number },
  opts: { signal: AbortSignal; onInputBytes?: (total: number) => void; what: string },
): Promise<WrittenFile> {
  const argv = compressorArgv(compression.method, compression.level);
  const direct = !opts.onInputBytes && hasPipeHandle(input);
  const counted = opts.onInputBytes ? input.pipe(byteCounter(opts.onInputBytes)) : input;
  if (opts.onInputBytes) input.on('error', (err) => counted.destroy(err));
  if (!argv)
    return written(
      await runBbcopy<SinkSummary>(sinkArgs(outPath), { signal: opts.signal, stdin: counted, what: opts.what }, {}),
    );

  const child = spawn(argv[0], argv[1], { stdio: [direct ? input : 'pipe', 'pipe', 'pipe'] });
  // The compressor holds its own copy of the producer's pipe now; ours would only keep it open.
  if (direct) input.destroy();
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (t: string) => (stderr = (stderr + t).slice(-16384)));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('close', (code) => resolve(code));
    child.once('error', reject);
  });
  const onAbort = () => child.kill('SIGKILL');
  opts.signal.addEventListener('abort', onAbort, { once: true });
  const feed = direct ? Promise.resolve() : pipeline(counted, child.stdin!, { signal: opts.signal });
  try {
    // Wait for all three, then blame the sink first: when the store fills up, bbcopy's DISK error is
    // the cause, and the compressor's EPIPE that follows it only an echo. A failure anywhere stops
    // the compressor and the input, so the other two always settle.
    const stop = (err: unknown) => {
      child.kill('SIGKILL');
      counted.destroy(); // a producer that has gone quiet must not keep the feed open
      throw err;
    };
    const [sinkR, codeR, feedR] = await Promise.allSettled([
      runBbcopy<SinkSummary>(
        sinkArgs(outPath),
        { signal: opts.signal, stdin: child.stdout!, what: opts.what },
        {},
      ).catch(stop),
      exited,
      feed.catch(stop),
    ]);
    opts.signal.throwIfAborted();
    if (sinkR.status === 'rejected') throw sinkR.reason;
    if (codeR.status === 'rejected') throw codeR.reason;
    if (feedR.status === 'rejected') throw feedR.reason;
    const sink = sinkR.value;
    const code = codeR.value;
    if (code !== 0)
      throw new BbackupError(
        'TOOL_FAILED',
        `${argv[0]} failed (exit ${code}) while writing ${opts.what}: ${lastLines(stderr, 5)}`,
        { path: outPath },
      );
    return written(sink);
  } catch (err) {
    child.kill('SIGKILL');
    if (opts.signal.aborted) throw opts.signal.reason;
    if (err instanceof BbackupError) throw err; // the sink's DISK / TOOL_FAILED, or a stage before us (the device filter)
    if ((err as NodeJS.ErrnoException).code === 'ENOSPC' || /No space left/i.test(stderr))
      throw new BbackupError(
        'DISK',
        `no space left on the store while writing ${opts.what} (${outPath})`,
        { path: outPath },
        { cause: err },
      );
    throw new BbackupError(
      'TOOL_FAILED',
      `${argv[0]} failed while writing ${opts.what}: ${lastLines(stderr, 5) || (err as Error).message}`,
      { path: outPath },
      { cause: err },
    );
  } finally {
    opts.signal.removeEventListener('abort', onAbort);
  }
}

const written = (r: { summary: SinkSummary }): WrittenFile => ({
  size: r.summary.size,
  sha256: r.summary.sha256,
  phases: r.summary,
});
