// The archive scanner as a filter in the extraction stream: tar (or the engine) reads only what the
// scanner approved, entry by entry, so a file swapped after the preflight cannot slip an unchecked
// entry through. The first refusal ends the stream with an INTEGRITY error; tar sees a cut archive
// and fails, and the caller removes what was half extracted.
import { Transform, type TransformCallback } from 'node:stream';
import { BbackupError } from '../errors.js';
import { TarScanner } from './tar-scan.js';

export class TarGate extends Transform {
  private readonly scanner = new TarScanner((b) => this.push(b));
  /** the refusal, once there is one */
  error?: BbackupError;
  private ended = false;

  /** what: the archive in words, for the error ("volume data of db") */
  constructor(private readonly what: string) {
    super({ readableHighWaterMark: 1 << 20 });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.scanner.write(chunk);
    // tar stops reading at the end-of-archive marker: end its input there, and keep reading the
    // rest (record padding) here so the whole file is still hashed.
    if (this.scanner.result.complete && !this.ended) {
      this.ended = true;
      this.push(null);
    }
    cb(this.check());
  }

  override _flush(cb: TransformCallback): void {
    this.scanner.end();
    cb(this.check());
  }

  private check(): BbackupError | null {
    const why = this.scanner.refusal;
    if (!why) return null;
    this.error ??= new BbackupError(
      'INTEGRITY',
      `refused ${this.what}: ${why}; nothing from that entry on was extracted`,
      { refusal: why },
    );
    return this.error;
  }
}
