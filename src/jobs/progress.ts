// Progress: a smoothed rate and an ETA per item, and the ONE place item.progress events are
// throttled (at most 10 per second per item). Other events pass through untouched; a pending
// progress of an item is dropped when the item's next event (done/failed/skipped) supersedes it.
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
    this.rate_ = this.rate_ === undefined ? Math.max(0, instant) : Math.max(0, this.rate_ + alpha * (instant - this.rate_));
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

/** Reports one item's progress with rate and ETA through `emit`. */
export function progressReporter(emit: Emit, jobId: string, item: string, now: () => number = Date.now): (bytes: number, total?: number) => void {
  const meter = new RateMeter(now);
  return (bytes, total) => {
    const rate = meter.update(bytes);
    emit({ type: 'item.progress', jobId, item, bytes, total, rate, eta: etaSeconds(bytes, total, rate) });
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
      const key = `${e.jobId}\0${e.item}`;
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
    if ('item' in e) pending.delete(`${e.jobId}\0${e.item}`);
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
