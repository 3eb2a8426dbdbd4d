// A pass-through that counts and hashes the bytes that flow through it, so a remote can report
// exactly what it stored without reading it back.
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import type { HashType, PutResult } from './types.js';

export class Meter extends Transform {
  bytes = 0;
  private readonly hashes: [HashType, Hash][];

  constructor(
    types: readonly HashType[],
    private readonly onBytes?: (bytes: number) => void,
  ) {
    super();
    this.hashes = types.map((t) => [t, createHash(t)]);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    for (const [, h] of this.hashes) h.update(chunk);
    this.onBytes?.(this.bytes);
    cb(null, chunk);
  }

  result(): Omit<PutResult, 'key'> {
    return { size: this.bytes, hashes: Object.fromEntries(this.hashes.map(([t, h]) => [t, h.digest('hex')])) };
  }
}

/**
 * Re-chunks a stream into blocks of `size` bytes. SFTP sends one request per chunk, and 64 KiB
 * chunks from a pipe cost a round trip each (RECIPES §5): 1 MiB blocks reach 180+ MiB/s.
 */
export class Rebatch extends Transform {
  private parts: Buffer[] = [];
  private length = 0;

  constructor(private readonly size = 1 << 20) {
    super({ readableHighWaterMark: size });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.parts.push(chunk);
    this.length += chunk.length;
    if (this.length >= this.size) this.flushParts();
    cb();
  }

  override _flush(cb: TransformCallback): void {
    if (this.length > 0) this.flushParts();
    cb();
  }

  private flushParts(): void {
    this.push(this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts, this.length));
    this.parts = [];
    this.length = 0;
  }
}
