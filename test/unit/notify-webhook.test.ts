// sendWebhook's retry rules against a real HTTP server on 127.0.0.1 (short back-off for speed).
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { buildReport } from '../../src/notify/report.js';
import { sendWebhook } from '../../src/notify/webhook.js';

const report = buildReport({ host: 'h', status: 'failed', started: new Date() });

async function server(handle: (n: number, res: ServerResponse) => void): Promise<{ url: string; count: () => number }> {
  let n = 0;
  const s = createServer((req, res) => {
    req.resume();
    req.on('end', () => handle(++n, res));
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  onTestFinished(() => new Promise<void>((r) => s.close(() => r())));
  s.closeIdleConnections?.();
  return { url: `http://127.0.0.1:${(s.address() as AddressInfo).port}/x?token=secret`, count: () => n };
}

const cfg = (url: string, over: Partial<{ retries: number; timeout: number }> = {}) => ({
  url,
  format: 'json' as const,
  headers: {},
  timeout: 2,
  retries: 3,
  ...over,
});

describe('sendWebhook', () => {
  it('does not retry a 4xx other than 408/429, and names the status without the token', async () => {
    const s = await server((_n, res) => {
      res.statusCode = 404;
      res.end('no such hook');
    });
    await expect(sendWebhook(cfg(s.url), report, { backoffMs: 10 })).rejects.toThrow(
      /webhook http:\/\/127\.0\.0\.1:\d+\/… failed after 1 attempt\(s\) \(not retried: the request itself was refused\): HTTP 404: no such hook/,
    );
    expect(s.count()).toBe(1);
  });

  it('retries 429 and succeeds', async () => {
    const s = await server((n, res) => {
      res.statusCode = n < 3 ? 429 : 200;
      res.end();
    });
    const retries: number[] = [];
    const r = await sendWebhook(cfg(s.url), report, { backoffMs: 10, onRetry: (_a, _e, d) => retries.push(d) });
    expect(r).toEqual({ attempts: 3, status: 200 });
    expect(retries).toEqual([10, 20]);
  });

  it('an endpoint that never answers times out on every attempt', async () => {
    const s = await server(() => undefined);
    const started = Date.now();
    await expect(sendWebhook(cfg(s.url, { retries: 1, timeout: 0.3 }), report, { backoffMs: 10 })).rejects.toThrow(
      /failed after 2 attempt\(s\): no answer within 0.3 s/,
    );
    expect(s.count()).toBe(2);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('stops retrying when aborted', async () => {
    const s = await server((_n, res) => {
      res.statusCode = 500;
      res.end();
    });
    const abort = new AbortController();
    const p = sendWebhook(cfg(s.url, { retries: 5 }), report, {
      backoffMs: 200,
      signal: abort.signal,
      onRetry: () => abort.abort(new Error('shutting down')),
    });
    await expect(p).rejects.toThrow('shutting down');
    expect(s.count()).toBe(1);
  });
});
