// Progress decorator: turns bytes moved by put/get into item.* events with a smoothed rate and
// ETA. The base remote reports bytes through onProgress (rclone from its own --stats lines, the
// others counted on the stream); downloads are counted on the returned stream.
import { Transform, type Readable } from 'node:stream';
import type { Emit } from '../events.js';
import type { OpOptions, PutOptions, PutResult, Remote } from './types.js';

export interface ProgressTarget {
  emit: Emit;
  jobId: string;
}

/** Rate tracker: exponential moving average over ~1 s windows, at most 5 events per second. */
export class RateMeter {
  private lastT = Date.now();
  private lastBytes = 0;
  private lastEmit = 0;
  rate = 0;

  constructor(private readonly report: (bytes: number, rate: number) => void) {}

  update(bytes: number, force = false): void {
    const now = Date.now();
    const dt = (now - this.lastT) / 1000;
    if (dt >= 0.5) {
      const instant = (bytes - this.lastBytes) / dt;
      this.rate = this.rate === 0 ? instant : this.rate * 0.6 + instant * 0.4;
      this.lastT = now;
      this.lastBytes = bytes;
    }
    if (force || now - this.lastEmit >= 200) {
      this.lastEmit = now;
      this.report(bytes, this.rate);
    }
  }
}

export function withProgress(inner: Remote, target: ProgressTarget): Remote {
  const { emit, jobId } = target;
  const progress = (item: string, total?: number) =>
    new RateMeter((bytes, rate) =>
      emit({ type: 'item.progress', jobId, item, bytes, total, rate: rate || undefined, eta: total && rate > 0 ? Math.max(0, (total - bytes) / rate) : undefined }),
    );
  return {
    ...bind(inner),
    async put(key: string, open: () => Readable, o: PutOptions): Promise<PutResult> {
      const item = `${inner.name}: ${o.label ?? key}`;
      emit({ type: 'item.start', jobId, item, kind: 'upload', total: o.size });
      const meter = progress(item, o.size);
      const result = await inner.put(key, open, {
        ...o,
        onProgress: (bytes) => {
          meter.update(bytes);
          o.onProgress?.(bytes);
        },
      });
      emit({ type: 'item.done', jobId, item, bytes: result.size });
      return result;
    },
    async get(key: string, o: OpOptions): Promise<Readable> {
      const item = `${inner.name}: ${key}`;
      const source = await inner.get(key, o);
      emit({ type: 'item.start', jobId, item, kind: 'download' });
      const meter = progress(item);
      let bytes = 0;
      const counter = new Transform({
        transform(chunk: Buffer, _e, cb) {
          bytes += chunk.length;
          meter.update(bytes);
          cb(null, chunk);
        },
        flush(cb) {
          emit({ type: 'item.done', jobId, item, bytes });
          cb();
        },
      });
      source.on('error', (err) => counter.destroy(err));
      return source.pipe(counter);
    },
  };
}

/** The remote's methods bound to it, for decorators that override only some. */
export function bind(r: Remote): Remote {
  return {
    name: r.name,
    caps: r.caps,
    put: r.put.bind(r),
    get: r.get.bind(r),
    list: r.list.bind(r),
    remove: r.remove.bind(r),
    removeDir: r.removeDir.bind(r),
    renameDir: r.renameDir.bind(r),
    close: r.close.bind(r),
  };
}
