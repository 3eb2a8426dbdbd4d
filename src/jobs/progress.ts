// Progress: the ONE rate meter and the ONE throttle, both applied at a job's emit (src/jobs/job.ts).
// Whatever moves bytes (rsync lines, a remote's stream, a restore's copy) only counts them and emits
// item.progress {bytes, total}; here each item gets a smoothed rate and an ETA, and item.progress is
// coalesced to at most one event per item per interval. Other events pass through untouched; a
// pending progress of an item is dropped when the item's next event (done/failed/skipped) supersedes it.
import { assertNever } from '../errors.js';
import type { Emit, EngineEvent } from '../events.js';

/** Exponentially smoothed bytes/second. */
export class RateMeter {
  private lastBytes = 0;
  private lastTime: number;
  private rate_?: number;
  constructor(
    private readonly now: () => number = Date.now,
    /** smoothing time constant in ms: older samples fade with it */
    private readonly tauMs = 2000,
  ) {
    this.lastTime = now();
  }

  /** Feed the running byte count; returns the smoothed rate (undefined until time passed). */
  update(bytes: number): number | undefined {
    const t = this.now();
    const dt = t - this.lastTime;
    if (dt < 50) return this.rate_;
    const instant = ((bytes - this.lastBytes) * 1000) / dt;
    const alpha = 1 - Math.exp(-dt / this.tauMs);
    this.rate_ =
      this.rate_ === undefined ? Math.max(0, instant) : Math.max(0, this.rate_ + alpha * (instant - this.rate_));
    this.lastBytes = bytes;
    this.lastTime = t;
    return this.rate_;
  }

  get rate(): number | undefined {
    return this.rate_;
  }
}

/** Seconds left at `rate`, when both the total and a positive rate are known. */
export function etaSeconds(bytes: number, total: number | undefined, rate: number | undefined): number | undefined {
  if (total === undefined || rate === undefined || rate <= 0) return undefined;
  return Math.max(0, (total - bytes) / rate);
}

const itemKey = (e: { jobId?: string; item: string }) => `${e.jobId ?? ''}\0${e.item}`;

/** Adds rate and ETA to every item.progress: one RateMeter per item, from its item.start (or first progress) to its end. */
export function withRates(out: Emit, now: () => number = Date.now): Emit {
  const meters = new Map<string, RateMeter>();
  return (e) => {
    switch (e.type) {
      case 'item.start':
        meters.set(itemKey(e), new RateMeter(now));
        break;
      case 'item.progress': {
        const key = itemKey(e);
        const meter = meters.get(key) ?? meters.set(key, new RateMeter(now)).get(key)!;
        const rate = meter.update(e.bytes);
        out({ ...e, rate, eta: etaSeconds(e.bytes, e.total, rate) });
        return;
      }
      case 'item.done':
      case 'item.failed':
      case 'item.skipped':
        meters.delete(itemKey(e));
        break;
      case 'job.end':
        meters.clear();
        break;
      case 'job.start':
      case 'item.queued':
      case 'job.paused':
      case 'job.resumed':
      case 'log':
        break;
      default:
        assertNever(e, 'event');
    }
    out(e);
  };
}

/**
 * Counts the bytes of one item and reports the running total as item.progress. For copies that
 * see chunks (a restore's stream); the job's emit rates and throttles what this sends.
 */
export function byteCounter(
  emit: Emit,
  jobId: string,
  item: string,
  total?: number,
): { add(n: number): void; readonly bytes: number } {
  let bytes = 0;
  return {
    add(n: number) {
      bytes += n;
      emit({ type: 'item.progress', jobId, item, bytes, total });
    },
    get bytes() {
      return bytes;
    },
  };
}

export interface ThrottledEmit {
  emit: Emit;
  /** send every pending progress event now (call before job.end) */
  flush(): void;
  /** stop the timer */
  close(): void;
}

/** Coalesce item.progress to at most one per item per `intervalMs`; never drop other events. */
export function throttleProgress(out: Emit, intervalMs = 100, now: () => number = Date.now): ThrottledEmit {
  const pending = new Map<string, EngineEvent>();
  const lastSent = new Map<string, number>();
  let timer: NodeJS.Timeout | undefined;
  const sendPending = (key: string) => {
    const e = pending.get(key);
    if (!e) return;
    pending.delete(key);
    lastSent.set(key, now());
    out(e);
  };
  const flush = () => {
    for (const key of [...pending.keys()]) sendPending(key);
  };
  const schedule = () => {
    if (timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      flush();
    }, intervalMs);
    timer.unref?.();
  };
  const emit: Emit = (e) => {
    if (e.type === 'item.progress') {
      const key = itemKey(e);
      const last = lastSent.get(key);
      if (last === undefined || now() - last >= intervalMs) {
        pending.delete(key);
        lastSent.set(key, now());
        out(e);
      } else {
        pending.set(key, e);
        schedule();
      }
      return;
    }
    if ('item' in e) pending.delete(itemKey(e));
    else if (e.type === 'job.end') flush();
    out(e);
  };
  return {
    emit,
    flush,
    close: () => {
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
}
