// A local tool run in its own process group (spawned detached): pause reaches every process of
// it (rsync runs as 2-3), cancel stops all of them, and a terminal's Ctrl-C reaches only bbackup,
// which then stops the tool itself.
import type { Suspendable } from './volume-readers/types.js';

const KILL_AFTER_MS = 3000;

/** SIGSTOP/SIGCONT the tool's whole process group. */
export function groupSuspender(proc: { pid?: number }): Suspendable {
  const signal = (sig: NodeJS.Signals) => {
    if (proc.pid) {
      try {
        process.kill(-proc.pid, sig);
      } catch {
        /* already gone */
      }
    }
  };
  return { suspend: () => signal('SIGSTOP'), resume: () => signal('SIGCONT') };
}

/** On abort: SIGCONT + SIGTERM to the group, SIGKILL a little later. Returns the unhook function. */
export function killGroupOnAbort(proc: { pid?: number }, signal: AbortSignal): () => void {
  const onAbort = () => {
    if (!proc.pid) return;
    for (const sig of ['SIGCONT', 'SIGTERM'] as const) {
      try {
        process.kill(-proc.pid, sig);
      } catch {
        /* gone */
      }
    }
    setTimeout(() => {
      try {
        if (proc.pid) process.kill(-proc.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }, KILL_AFTER_MS).unref();
  };
  signal.addEventListener('abort', onAbort, { once: true });
  if (signal.aborted) onAbort();
  return () => signal.removeEventListener('abort', onAbort);
}
