// One pass over a volume archive before it is extracted: sha256 and size of the stored file (against
// the manifest) and every tar entry checked against the escape rules. Streams; memory stays flat.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { execa } from 'execa';
import { BbackupError, lastLines } from '../errors.js';
import type { CompressionMethod } from '../store/manifest.js';
import { TarScanner, type ScanResult } from './tar-scan.js';

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

export async function checkArchive(file: string, method: CompressionMethod, opts: { signal?: AbortSignal; onBytes?: (n: number) => void } = {}): Promise<ArchiveCheck> {
  const hash = createHash('sha256');
  const scanner = new TarScanner();
  let size = 0;
  const input = createReadStream(file, { highWaterMark: 1 << 20, signal: opts.signal });
  const tee = async function* (): AsyncGenerator<Buffer> {
    for await (const chunk of input as AsyncIterable<Buffer>) {
      hash.update(chunk);
      size += chunk.length;
      opts.onBytes?.(chunk.length);
      yield chunk;
    }
  };
  const argv = decompressor(method);
  if (!argv) {
    for await (const chunk of tee()) scanner.write(chunk);
  } else {
    const child = execa(argv[0]!, argv.slice(1), { input: Readable.from(tee()), buffer: { stdout: false }, stderr: 'pipe', cancelSignal: opts.signal, reject: false });
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) scanner.write(chunk);
    const r = await child;
    if (r.isCanceled) throw new BbackupError('CANCELLED', 'cancelled');
    if (r.exitCode !== 0) {
      return { ...scanner.end(), damaged: `${argv[0]} could not decompress it: ${lastLines(String(r.stderr), 3).replace(/\s+/g, ' ')}`, size, sha256: hash.digest('hex') };
    }
  }
  return { ...scanner.end(), size, sha256: hash.digest('hex') };
}
