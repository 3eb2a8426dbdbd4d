// Retry decorator. Outermost wrapper (open.ts), so every attempt re-runs open(), encryption and
// byte counting from offset 0. A cancelled signal stops at once: nothing changes on the remote
// after a cancel (restic's retry backend). Only errors the remote marked retryable are retried.
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { describeError } from '../errors.js';
import type { Emit } from '../events.js';
import { isRetryable } from './errors.js';
import type { ListOptions, OpOptions, PutOptions, PutResult, Remote, RemoteEntry } from './types.js';

export interface RetryPolicy {
  retries: number;
  /** first pause in ms; doubles each attempt */
  delayMs: number;
}

export function withRetry(inner: Remote, policy: RetryPolicy, emit: Emit): Remote {
  async function attempt<T>(what: string, signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
    for (let n = 0; ; n++) {
      signal.throwIfAborted();
      try {
        return await fn();
      } catch (err) {
        if (n >= policy.retries || !isRetryable(err) || signal.aborted) throw err;
        const pause = policy.delayMs * 2 ** n;
        emit({
          type: 'log',
          level: 'warn',
          source: `remote ${inner.name}`,
          msg: `${what} failed (${describeError(err)}); retry ${n + 1}/${policy.retries} in ${pause} ms`,
        });
        await sleep(pause, undefined, { signal });
      }
    }
  }
  return {
    name: inner.name,
    caps: inner.caps,
    put: (key: string, open: () => Readable, o: PutOptions): Promise<PutResult> =>
      attempt(`upload of ${key}`, o.signal, () => inner.put(key, open, o)),
    get: (key: string, o: OpOptions) => attempt(`download of ${key}`, o.signal, () => inner.get(key, o)),
    // A listing is retried as a whole: entries are collected first so a retry cannot yield duplicates.
    list: (prefix: string, o: ListOptions): AsyncIterable<RemoteEntry> => ({
      [Symbol.asyncIterator]: async function* () {
        const all = await attempt(`listing ${prefix || '/'}`, o.signal, async () => {
          const out: RemoteEntry[] = [];
          for await (const e of inner.list(prefix, o)) out.push(e);
          return out;
        });
        yield* all;
      },
    }),
    remove: (key, o) => attempt(`removal of ${key}`, o.signal, () => inner.remove(key, o)),
    removeDir: (prefix, o) => attempt(`removal of ${prefix}`, o.signal, () => inner.removeDir(prefix, o)),
    renameDir: (from, to, o) => attempt(`rename of ${from}`, o.signal, () => inner.renameDir(from, to, o)),
    close: () => inner.close(),
  };
}
