import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { EngineEvent } from '../../src/events.js';
import { RemoteError } from '../../src/remote/errors.js';
import { LocalRemote } from '../../src/remote/local.js';
import { bind } from '../../src/remote/with-progress.js';
import { withRetry } from '../../src/remote/with-retry.js';
import type { Remote } from '../../src/remote/types.js';

/** A real local remote whose first `failures` puts fail after reading part of the source. */
function flaky(failures: number, retryable = true): { remote: Remote; opens: () => number } {
  const inner = new LocalRemote('flaky', mkdtempSync(join(tmpdir(), 'bbt-rm-retry-')));
  let left = failures;
  let opened = 0;
  const remote: Remote = {
    ...bind(inner),
    async put(key, open, o) {
      if (left-- > 0) {
        const s = open();
        opened++;
        s.destroy();
        throw new RemoteError('REMOTE_IO', 'flaky', 'connection reset', retryable);
      }
      opened++;
      return inner.put(key, open, o);
    },
  };
  return { remote, opens: () => opened };
}

const signal = () => AbortSignal.timeout(10_000);

describe('withRetry', () => {
  it('retries a retryable failure, re-opening the source from the start each time', async () => {
    const { remote, opens } = flaky(2);
    const events: EngineEvent[] = [];
    const r = withRetry(remote, { retries: 2, delayMs: 1 }, (e) => events.push(e));
    let calls = 0;
    const put = await r.put('k', () => (calls++, Readable.from([Buffer.from('payload')])), { signal: signal() });
    expect(put.size).toBe(7);
    expect(calls).toBe(3);
    expect(opens()).toBe(3);
    expect(events.filter((e) => e.type === 'log' && e.level === 'warn')).toHaveLength(2);
  });

  it("gives up after the configured retries with the remote's error", async () => {
    const r = withRetry(flaky(5).remote, { retries: 1, delayMs: 1 }, () => undefined);
    await expect(r.put('k', () => Readable.from([Buffer.from('x')]), { signal: signal() })).rejects.toThrow(
      /remote flaky: connection reset/,
    );
  });

  it('never retries a permanent error (auth, host key, full disk)', async () => {
    const { remote, opens } = flaky(1, false);
    const r = withRetry(remote, { retries: 5, delayMs: 1 }, () => undefined);
    await expect(r.put('k', () => Readable.from([Buffer.from('x')]), { signal: signal() })).rejects.toThrow();
    expect(opens()).toBe(1);
  });

  it('stops at once when cancelled, also while waiting to retry', async () => {
    const ac = new AbortController();
    const r = withRetry(flaky(5).remote, { retries: 5, delayMs: 5_000 }, () => undefined);
    setTimeout(() => ac.abort(), 50);
    const t = Date.now();
    await expect(r.put('k', () => Readable.from([Buffer.from('x')]), { signal: ac.signal })).rejects.toThrow();
    expect(Date.now() - t).toBeLessThan(2_000);
  });
});
