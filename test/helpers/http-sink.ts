// A loopback HTTP server that records every request (method, path, body), in arrival order; it
// answers with the status `answer` gives (default 200). Closed after the test.
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { onTestFinished } from 'vitest';

export interface Received {
  method: string;
  path: string;
  body: string;
  headers: IncomingMessage['headers'];
}

export async function httpSink(
  answer: (r: Received, n: number) => number = () => 200,
): Promise<{ url: string; received: Received[]; waitFor: (n: number) => Promise<void> }> {
  const received: Received[] = [];
  const waiters: (() => void)[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = {
        method: req.method ?? '',
        path: req.url ?? '',
        body: Buffer.concat(chunks).toString('utf8'),
        headers: req.headers,
      };
      received.push(r);
      res.statusCode = answer(r, received.length);
      res.end('ok');
      for (const w of waiters.splice(0)) w();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const waitFor = async (n: number) => {
    while (received.length < n) await new Promise<void>((resolve) => waiters.push(resolve));
  };
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received, waitFor };
}
