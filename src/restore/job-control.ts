// Skip and throttled progress events for a restore job (pause is the shared PauseGate). A restore runs its items
// one after the other (networks, volumes, containers: each may depend on the ones before).
import type { Emit } from '../events.js';

/** The reason an item's signal carries when the user skipped it (as opposed to cancelling the job). */
export class Skipped extends Error {
  override name = 'Skipped';
}

/** item.progress at most every 200 ms, with a smoothed rate and an ETA when the total is known. */
export function progressReporter(emit: Emit, jobId: string, item: string, total?: number): { add(n: number): void; flush(): void; readonly bytes: number } {
  const started = Date.now();
  let bytes = 0;
  let last = 0;
  const send = () => {
    const secs = (Date.now() - started) / 1000;
    const rate = secs > 0 ? bytes / secs : undefined;
    const eta = total !== undefined && rate ? Math.max(0, (total - bytes) / rate) : undefined;
    emit({ type: 'item.progress', jobId, item, bytes, total, rate, eta });
  };
  return {
    add(n: number) {
      bytes += n;
      const now = Date.now();
      if (now - last >= 200) {
        last = now;
        send();
      }
    },
    flush: send,
    get bytes() {
      return bytes;
    },
  };
}
