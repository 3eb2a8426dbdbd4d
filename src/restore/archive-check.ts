// Volume archives are read twice: once before anything is restored (checkArchive: sha256 and size of
// the stored file against the manifest, every tar entry against the escape rules), and once to
// extract (checkedTar). The second read goes through the same scanner as a gate, so tar extracts
// only entries the gate approved, and its sha256 must equal the first read's: an archive swapped in
// between fails the restore instead of slipping past the check. Streams; memory stays flat.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { execa } from 'execa';
import { BbackupError, lastLines } from '../errors.js';
import type { CompressionMethod } from '../store/manifest.js';
import { TarGate } from '../archive/tar-gate.js';
import { TarScanner, type ScanResult } from '../archive/tar-scan.js';

export interface ArchiveCheck extends ScanResult {
  size: number;
  sha256: string;
}

/** Decompressor for an archive: argv reading stdin, writing the tar stream to stdout. */
export function decompressor(method: CompressionMethod): string[] | undefined {
  if (method === 'zstd') return ['zstd', '-dcq'];
  if (method === 'gzip') return ['gzip', '-dc'];
  return undefined;
}

/** zstd / gzip / none from an archive's file name, when the manifest does not say. */
export function compressionOf(path: string): CompressionMethod {
  if (path.endsWith('.zst')) return 'zstd';
  if (path.endsWith('.gz')) return 'gzip';
  return 'none';
}

interface ReadOptions {
  signal?: AbortSignal;
  onBytes?: (n: number) => void;
}

/** The stored file's bytes, hashed on the way; digest() once they have all been read. */
function hashedRead(
  file: string,
  o: ReadOptions,
): { chunks: AsyncGenerator<Buffer>; digest: () => { size: number; sha256: string } } {
  const hash = createHash('sha256');
  let size = 0;
  const input = createReadStream(file, { highWaterMark: 1 << 20, signal: o.signal });
  const chunks = (async function* () {
    for await (const chunk of input as AsyncIterable<Buffer>) {
      hash.update(chunk);
      size += chunk.length;
      o.onBytes?.(chunk.length);
      yield chunk;
    }
  })();
  return { chunks, digest: () => ({ size, sha256: hash.digest('hex') }) };
}

export async function checkArchive(
  file: string,
  method: CompressionMethod,
  opts: ReadOptions = {},
): Promise<ArchiveCheck> {
  const read = hashedRead(file, opts);
  const scanner = new TarScanner();
  const argv = decompressor(method);
  if (!argv) {
    for await (const chunk of read.chunks) scanner.write(chunk);
  } else {
    const child = execa(argv[0]!, argv.slice(1), {
      input: Readable.from(read.chunks),
      buffer: { stdout: false },
      stderr: 'pipe',
      cancelSignal: opts.signal,
      reject: false,
    });
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) scanner.write(chunk);
    const r = await child;
    if (r.isCanceled) throw new BbackupError('CANCELLED', 'cancelled');
    if (r.exitCode !== 0) {
      return {
        ...scanner.end(),
        damaged: `${argv[0]} could not decompress it: ${lastLines(String(r.stderr), 3).replace(/\s+/g, ' ')}`,
        ...read.digest(),
      };
    }
  }
  return { ...scanner.end(), ...read.digest() };
}

export interface CheckedTar {
  /** the approved tar stream, to feed to tar -x or the engine */
  stream: Readable;
  /** settles when the file was read to its end and (if given) its sha256 compared */
  done: Promise<void>;
  /** call when the consumer exited: if it stopped before the end, reading stops too */
  consumerExited: () => void;
}

export interface CheckedTarOptions extends ReadOptions {
  method: CompressionMethod;
  /** sha256 of the stored file when it was checked: a different second read fails */
  sha256?: string;
  /** the archive in words, for errors */
  what: string;
}

/**
 * The archive decompressed and passed through the gate (see the header comment). `done` rejects
 * with the most telling producer-side failure, in this order: the gate's refusal, a read or
 * decompressor failure, a second read that differs from the first; it resolves when the consumer
 * stopped early (its own error says why).
 */
export function checkedTar(file: string, o: CheckedTarOptions): CheckedTar {
  const read = hashedRead(file, o);
  const gate = new TarGate(o.what);
  const source = Readable.from(read.chunks);
  const argv = decompressor(o.method);
  const child = argv
    ? execa(argv[0]!, argv.slice(1), {
        input: source,
        cancelSignal: o.signal,
        reject: false,
        stderr: 'pipe',
        buffer: { stdout: false },
      })
    : undefined;
  // execa drops unbuffered output nobody reads yet: attach the gate now.
  const tarBytes = child ? child.stdout : source;
  let readError: Error | undefined;
  source.on('error', (err) => {
    readError = err;
    gate.destroy(err);
  });
  tarBytes.pipe(gate);
  let stopped = false;
  const gateSettled = new Promise<void>((resolve) => {
    gate.on('finish', resolve);
    gate.on('close', () => {
      // refused, or the consumer went away: stop reading, or the decompressor would block forever
      if (!gate.writableFinished) {
        stopped = true;
        source.destroy();
        child?.kill();
      }
      resolve();
    });
  });
  const producer = child ?? new Promise<void>((resolve) => source.on('close', resolve));
  const done = (async () => {
    const r = await producer;
    await gateSettled;
    if (gate.error) throw gate.error;
    if (readError) throw readError;
    if (stopped) return;
    if (r && r.isCanceled) throw new BbackupError('CANCELLED', `${o.what}: cancelled`);
    if (r && r.failed)
      throw new BbackupError(
        'TOOL_FAILED',
        `${argv![0]} failed reading ${o.what}: ${lastLines(String(r.stderr ?? ''), 5) || r.shortMessage}`,
        { command: r.command },
      );
    const got = read.digest();
    if (o.sha256 !== undefined && got.sha256 !== o.sha256) {
      throw new BbackupError(
        'INTEGRITY',
        `${o.what}: ${file} changed after it was checked (sha256 ${got.sha256.slice(0, 12)}…, checked ${o.sha256.slice(0, 12)}…); refusing what was extracted`,
        { file },
      );
    }
  })();
  done.catch(() => undefined);
  return { stream: gate, done, consumerExited: () => void (gate.readableEnded ? undefined : gate.destroy()) };
}
