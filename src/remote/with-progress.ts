// Progress decorator: turns bytes moved by put/get into item.start/progress/done events. It only
// counts: the job's emit adds rate and ETA and throttles (src/jobs/progress.ts). The base remote
// reports bytes through onProgress (rclone from its own --stats lines, the others counted on the
// stream); downloads are counted on the returned stream.
import { Transform, type Readable } from 'node:stream';
import type { Emit } from '../events.js';
import type { OpOptions, PutOptions, PutResult, Remote } from './types.js';

export interface ProgressTarget {
  emit: Emit;
  jobId: string;
}

export function withProgress(inner: Remote, target: ProgressTarget): Remote {
  const { emit, jobId } = target;
  return {
    ...bind(inner),
    async put(key: string, open: () => Readable, o: PutOptions): Promise<PutResult> {
      const item = `${inner.name}: ${o.label ?? key}`;
      emit({ type: 'item.start', jobId, item, kind: 'upload', total: o.size });
      const result = await inner.put(key, open, {
        ...o,
        onProgress: (bytes) => {
          emit({ type: 'item.progress', jobId, item, bytes, total: o.size });
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
      let bytes = 0;
      const counter = new Transform({
        transform(chunk: Buffer, _e, cb) {
          bytes += chunk.length;
          emit({ type: 'item.progress', jobId, item, bytes });
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
