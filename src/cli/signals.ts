// The CLI's one place for process signals. While a command runs, SIGINT and SIGTERM (the TUI adds
// SIGHUP) abort its signal: a job started with it ends cancelled and cleans up (exit 5).
// Listeners are added with `on`, not `once`: execa's signal-exit re-raises a signal when its own
// handler is the last one left, which would kill the process in the middle of its clean-up; a
// second Ctrl-C is harmless.
import { BbackupError } from '../errors.js';

export interface Interrupt {
  /** aborted by the first signal; its reason is a CANCELLED BbackupError naming the signal */
  readonly signal: AbortSignal;
  /** remove the listeners (in a finally) */
  dispose(): void;
}

export function onInterrupt(
  o: { signals?: readonly NodeJS.Signals[]; onSignal?: (sig: NodeJS.Signals, count: number) => void } = {},
): Interrupt {
  const abort = new AbortController();
  const signals = o.signals ?? ['SIGINT', 'SIGTERM'];
  let count = 0;
  const handler = (sig: NodeJS.Signals) => {
    o.onSignal?.(sig, ++count);
    if (!abort.signal.aborted) abort.abort(new BbackupError('CANCELLED', `stopped by ${sig}`, { signal: sig }));
  };
  for (const s of signals) process.on(s, handler);
  return {
    signal: abort.signal,
    dispose: () => {
      for (const s of signals) process.off(s, handler);
    },
  };
}

/** Runs `body` with an interrupt signal that lives exactly as long as the body. */
export async function withInterrupt<T>(
  body: (signal: AbortSignal) => Promise<T>,
  o: Parameters<typeof onInterrupt>[0] = {},
): Promise<T> {
  const interrupt = onInterrupt(o);
  try {
    return await body(interrupt.signal);
  } finally {
    interrupt.dispose();
  }
}
