// sha256 of many files on every core: a few worker threads read files with plain blocking reads
// (cheap in a worker: no event loop to stall) and hash them with OpenSSL. The main thread keeps
// walking and writing the index. Workers are evaluated from a small JS string so they start the
// same way from sources (tsx) and from the build.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { BbackupError } from '../errors.js';

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const buf = Buffer.allocUnsafe(1 << 20);
parentPort.on('message', ({ id, path }) => {
  let fd;
  try {
    fd = fs.openSync(path, 'r');
    const h = createHash('sha256');
    let size = 0, n;
    while ((n = fs.readSync(fd, buf, 0, buf.length, null)) > 0) { h.update(buf.subarray(0, n)); size += n; }
    parentPort.postMessage({ id, sha256: h.digest('hex'), size });
  } catch (e) {
    parentPort.postMessage({ id, error: String(e && e.message), code: e && e.code });
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
});
`;

interface Pending {
  resolve(v: { sha256: string; size: number }): void;
  reject(e: Error): void;
}

export class HashPool {
  private readonly workers: Worker[];
  private readonly pending = new Map<number, Pending>();
  private next = 0;
  private id = 0;
  private closed = false;

  constructor(size = Math.max(1, Math.min(4, availableParallelism()))) {
    this.workers = Array.from({ length: size }, () => {
      const w = new Worker(WORKER_SOURCE, { eval: true });
      w.on('message', (m: { id: number; sha256?: string; size?: number; error?: string; code?: string }) => {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if (m.error !== undefined) p.reject(Object.assign(new Error(m.error), { code: m.code }));
        else p.resolve({ sha256: m.sha256!, size: m.size! });
      });
      w.on('error', (err) => this.failAll(err));
      return w;
    });
  }

  /** sha256 and size of a file; jobs go to the workers round-robin. */
  hash(path: string): Promise<{ sha256: string; size: number }> {
    if (this.closed) return Promise.reject(new BbackupError('USAGE', 'hash pool is closed'));
    const id = ++this.id;
    const worker = this.workers[this.next++ % this.workers.length]!;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, path });
    });
  }

  get inFlight(): number {
    return this.pending.size;
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.failAll(new BbackupError('CANCELLED', 'hashing stopped'));
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
