// The bench volume: ~size bytes, 30% in small files (1-32 KiB, 200 per folder), the rest in
// 128 MiB files; every file distinct, none compressible (random pool with a counter per chunk).
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';

const SMALL_SHARE = 0.3;
const LARGE = 128 * 1024 * 1024;

export function generate(dir: string, size: number): { files: string[] } {
  const pool = randomBytes(8 << 20);
  let offset = 0;
  const chunk = (n: number, tag: number) => {
    if (offset + n > pool.length) offset = 0;
    const b = Buffer.from(pool.subarray(offset, offset + n));
    offset += n;
    if (n >= 8) b.writeDoubleBE(tag, 0);
    return b;
  };
  const files: string[] = [];
  let small = 0;
  let i = 0;
  while (small < size * SMALL_SHARE) {
    const folder = join(dir, `d${Math.floor(i / 200)}`);
    if (i % 200 === 0) mkdirSync(folder, { recursive: true });
    const n = 1024 + ((i * 7919) % (31 * 1024));
    const p = join(folder, `f${i}.dat`);
    const fd = openSync(p, 'w');
    writeSync(fd, chunk(n, i));
    closeSync(fd);
    files.push(p);
    small += n;
    i++;
  }
  for (let j = 0; small + j * LARGE < size; j++) {
    const p = join(dir, `large${j}.bin`);
    const fd = openSync(p, 'w');
    for (let k = 0; k < LARGE / (1 << 20); k++) writeSync(fd, chunk(1 << 20, j * 1e6 + k));
    closeSync(fd);
    files.push(p);
  }
  return { files };
}
