// Engine work that is a plain async function (verify, pull) made into a JobHandle with the same
// events as the engine's jobs, so the jobs pane, the gauges and Q/X treat it like any job.
// Pause is not offered by these functions: pause/resume only report that.
import { randomBytes } from 'node:crypto';
import { describeError, isAbortError } from '../../src/errors.js';
import type { Emit, ItemKind, JobKind } from '../../src/events.js';
import type { JobHandle, JobResult } from '../../src/jobs/types.js';

export interface FunctionJobContext {
  signal: AbortSignal;
  jobId: string;
  progress: (bytes: number, total: number) => void;
}

export function functionJob(
  kind: JobKind,
  title: string,
  item: string | undefined,
  itemKind: ItemKind,
  emit: Emit,
  body: (ctx: FunctionJobContext) => Promise<{ bytes?: number; detail?: string }>,
): JobHandle {
  const jobId = `${kind}-${randomBytes(4).toString('hex')}`;
  const abort = new AbortController();
  let lastProgress = 0;
  let moved = 0;
  const run = async (): Promise<JobResult> => {
    emit({ type: 'job.start', jobId, kind, title, items: item ? 1 : 0 });
    if (item) emit({ type: 'item.start', jobId, item, kind: itemKind });
    try {
      const r = await body({
        signal: abort.signal,
        jobId,
        progress: (bytes, total) => {
          moved = bytes;
          const now = Date.now();
          if (item && now - lastProgress >= 100) {
            lastProgress = now;
            emit({ type: 'item.progress', jobId, item, bytes, total });
          }
        },
      });
      if (item) emit({ type: 'item.done', jobId, item, bytes: r.bytes ?? moved, detail: r.detail });
      emit({ type: 'job.end', jobId, outcome: 'ok', summary: r.detail });
      return { outcome: 'ok', errors: [] };
    } catch (err) {
      const cancelled = abort.signal.aborted || isAbortError(err);
      const message = describeError(err);
      const code = (err as { code?: string }).code ?? (cancelled ? 'CANCELLED' : 'FAILED');
      if (item && !cancelled) emit({ type: 'item.failed', jobId, item, error: { code, message } });
      emit({ type: 'job.end', jobId, outcome: cancelled ? 'cancelled' : 'failed', summary: message });
      return { outcome: cancelled ? 'cancelled' : 'failed', errors: [{ item: item ?? title, code, message }] };
    }
  };
  return {
    id: jobId,
    done: run(),
    pause: () => emit({ type: 'log', jobId, level: 'info', source: kind, msg: `${kind} cannot pause; it keeps running (X cancels)` }),
    resume: () => undefined,
    paused: false,
    skip: () => abort.abort(),
    cancel: () => abort.abort(),
  };
}
