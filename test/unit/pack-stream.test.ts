// The pack's stored bytes: a raw-block zstd frame made in-process must decompress with the real
// zstd to exactly its input, and the compressibility probe must tell random bytes from text.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compresses, packStream, rawZstdFrame, type PackItem } from '../../src/remote/repo/pack-stream.js';

async function collectAll(src: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const b of src) parts.push(b);
  return Buffer.concat(parts);
}

const unzstd = (b: Buffer): Buffer => execFileSync('zstd', ['-dcq'], { input: b, maxBuffer: 1 << 30 });
const text = (n: number) =>
  Buffer.from('the quick brown fox jumps over the lazy dog\n'.repeat(Math.ceil(n / 44))).subarray(0, n);

describe('rawZstdFrame', () => {
  it.each([
    ['empty', [] as number[]],
    ['one byte', [1]],
    ['one block exactly', [128 << 10]],
    ['chunks across blocks and buffers', [1, 5000, 128 << 10, 1 << 20, 3, (1 << 20) + 7]],
  ])('%s decompresses with zstd to its input', async (_name, sizes) => {
    const chunks = sizes.map((n) => randomBytes(n));
    const framed = await collectAll(
      rawZstdFrame(
        (async function* () {
          yield* chunks;
        })(),
      ),
    );
    expect(unzstd(framed).equals(Buffer.concat(chunks))).toBe(true);
  });
});

describe('compresses', () => {
  it.each([
    ['random bytes', randomBytes(256 << 10), false],
    ['text', text(256 << 10), true],
    ['half text, half random', Buffer.concat([text(128 << 10), randomBytes(128 << 10)]), true],
    ['tiny', randomBytes(100), true],
  ])('%s -> %s', (_name, sample, want) => {
    expect(compresses(sample)).toBe(want);
  });
});

describe('packStream', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  const item = async (dir: string, name: string, body: Buffer): Promise<PackItem> => {
    const path = join(dir, name);
    await writeFile(path, body);
    const sha256 = createHash('sha256').update(body).digest('hex');
    return {
      obj: sha256,
      size: body.length,
      sha256,
      source: path,
      path,
      open: () => [] as unknown as AsyncIterable<Buffer>,
    };
  };
  const check = () => ({ update: () => undefined, check: () => undefined });

  it.each([
    ['random (raw frame)', 4, (i: number) => randomBytes(i % 2 ? 3000 : (2 << 20) + 5)],
    ['text (zstd)', 4, (i: number) => text(i % 2 ? 3000 : (2 << 20) + 5)],
    ['random, smaller than the sample (raw frame)', 4, () => randomBytes(5000)],
    ['many small random files across buffers (raw frame)', 300, (i: number) => randomBytes(1 + ((i * 7919) % 20000))],
    ['text then random (zstd)', 300, (i: number) => (i < 100 ? text(3000) : randomBytes(10000))],
  ])('%s: zstd -dc | tar gives back every object', async (_name, count, body) => {
    const dir = await mkdtemp(join(tmpdir(), 'bbt-up-pack-'));
    dirs.push(dir);
    const items = await Promise.all(Array.from({ length: count }, (_, i) => item(dir, `f${i}`, body(i))));
    const stored = await collectAll(
      packStream('0'.repeat(32), items, { level: 3, signal: new AbortController().signal, hash: check }),
    );
    const out = join(dir, 'out');
    execFileSync('mkdir', [out]);
    execFileSync('tar', ['-C', out, '-xf', '-'], { input: unzstd(stored) });
    for (const it of items)
      expect(
        createHash('sha256')
          .update(readFileSync(join(out, it.obj)))
          .digest('hex'),
      ).toBe(it.sha256);
  });

  it('refuses a file that is not the size its index says', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bbt-up-pack-'));
    dirs.push(dir);
    const it = await item(dir, 'f', randomBytes(5000));
    const lying = { ...it, size: 4000 };
    await expect(
      collectAll(packStream('0'.repeat(32), [lying], { level: 3, signal: new AbortController().signal, hash: check })),
    ).rejects.toThrow(/more bytes than its index says/);
  });
});
