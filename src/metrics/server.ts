// The daemon's /metrics endpoint: every scrape collects afresh from the store (collect.ts).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from '../config/schema.js';
import { BbackupError, describeError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { collectMetrics } from './collect.js';

/** "127.0.0.1:9469" or "[::1]:9469" -> host and port. */
export function parseListen(spec: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(spec);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535)
    throw new BbackupError('USAGE', `--metrics ${spec}: expected ADDRESS:PORT, e.g. 127.0.0.1:9469`);
  return { host: (m[1] ?? m[2])!, port };
}

export async function serveMetrics(
  spec: string,
  config: () => Config,
  logger?: Logger,
): Promise<{ url: string; address: string; close: () => Promise<void> }> {
  const { host, port } = parseListen(spec);
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('bbackup serves /metrics\n');
      return;
    }
    collectMetrics(config(), { daemon: true }).then(
      async (registry) => res.writeHead(200, { 'content-type': registry.contentType }).end(await registry.metrics()),
      (err: unknown) => {
        logger?.error(`metrics: ${describeError(err)}`);
        res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics could not be collected; see the log\n');
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) =>
      reject(new BbackupError('USAGE', `--metrics ${spec}: cannot listen: ${err.message}`, {}, { cause: err })),
    );
    server.listen(port, host, resolve);
  });
  const a = server.address() as AddressInfo;
  const address = `${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
  return {
    url: `http://${address}/metrics`,
    address,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
