// One contract suite for every Remote implementation (restic's backend test suite): the same
// behaviour is required of local, sftp and rclone (with any backend).
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BbackupError } from '../../src/errors.js';
import { collect, type Remote } from '../../src/remote/types.js';

export interface RemoteFixture {
  remote: Remote;
  /** remove what the suite left behind */
  cleanup(): Promise<void>;
}

const o = () => ({ signal: AbortSignal.timeout(60_000) });

async function readAll(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

/** A source that sends `good` bytes and then fails, like a tar that dies mid-volume. */
function failingSource(good: Buffer): Readable {
  let sent = false;
  return new Readable({
    read() {
      if (!sent) {
        sent = true;
        this.push(good);
      } else this.destroy(new Error('source broke mid-way'));
    },
  });
}

export function describeRemoteContract(name: string, make: () => Promise<RemoteFixture>): void {
  describe(`Remote contract: ${name}`, () => {
    let fx: RemoteFixture;
    let r: Remote;
    beforeAll(async () => {
      fx = await make();
      r = fx.remote;
    });
    afterAll(async () => {
      await r?.close();
      await fx?.cleanup();
    });

    it('put then get returns the same bytes; list shows the size', async () => {
      const data = randomBytes(3 * 1024 * 1024 + 17);
      const put = await r.put(
        'c1/sub/file.bin',
        () => Readable.from([data.subarray(0, 1000), data.subarray(1000)]),
        o(),
      );
      expect(put).toMatchObject({ key: 'c1/sub/file.bin', size: data.length });
      expect((await readAll(await r.get('c1/sub/file.bin', o()))).equals(data)).toBe(true);
      const listed = await collect(r.list('c1', o()));
      expect(listed.map((e) => [e.key, e.size])).toEqual([['c1/sub/file.bin', data.length]]);
    });

    it('put reports progress through onProgress, ending at the bytes stored', async () => {
      const data = randomBytes(2 * 1024 * 1024);
      const seen: number[] = [];
      const put = await r.put('c8/progress.bin', () => Readable.from([data]), {
        ...o(),
        onProgress: (b) => seen.push(b),
      });
      expect(seen.length).toBeGreaterThan(0);
      expect(seen.at(-1)).toBe(put.size);
      expect([...seen].sort((a, b) => a - b)).toEqual(seen);
    });

    it('an empty file round-trips', async () => {
      await r.put('c2/empty', () => Readable.from([]), o());
      expect((await readAll(await r.get('c2/empty', o()))).length).toBe(0);
      expect((await collect(r.list('c2', o())))[0]).toMatchObject({ key: 'c2/empty', size: 0 });
    });

    it('put replaces an existing file', async () => {
      await r.put('c3/f', () => Readable.from([Buffer.from('first version')]), o());
      await r.put('c3/f', () => Readable.from([Buffer.from('second')]), o());
      expect((await readAll(await r.get('c3/f', o()))).toString()).toBe('second');
    });

    it('get of a missing key rejects NOT_FOUND; list of a missing prefix is empty', async () => {
      const err = await r.get('nope/missing', o()).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BbackupError);
      expect((err as BbackupError).code).toBe('NOT_FOUND');
      expect((err as BbackupError).message).toContain(r.name);
      expect(await collect(r.list('nope', o()))).toEqual([]);
    });

    it('a put whose source fails leaves no file under the key (nor a visible temp file)', async () => {
      await expect(r.put('c4/broken.bin', () => failingSource(randomBytes(200_000)), o())).rejects.toThrow();
      expect(await collect(r.list('c4', o()))).toEqual([]);
    });

    it('an aborted put rejects and leaves nothing', async () => {
      const ac = new AbortController();
      const slow = new Readable({
        read() {
          setTimeout(() => this.push(randomBytes(64 * 1024)), 20);
        },
      });
      setTimeout(() => ac.abort(), 300);
      await expect(r.put('c5/slow.bin', () => slow, { signal: ac.signal })).rejects.toThrow();
      const left = await collect(r.list('c5', o()));
      expect(left).toEqual([]);
    });

    it('remove deletes one file; removing a missing one is fine', async () => {
      await r.put('c6/a', () => Readable.from([Buffer.from('a')]), o());
      await r.put('c6/b', () => Readable.from([Buffer.from('b')]), o());
      await r.remove('c6/a', o());
      await r.remove('c6/a', o());
      expect((await collect(r.list('c6', o()))).map((e) => e.key)).toEqual(['c6/b']);
    });

    it('renameDir moves a whole folder, manifest included', async () => {
      await r.put('h/1.partial/data/x.bin', () => Readable.from([Buffer.from('x')]), o());
      await r.put('h/1.partial/manifest.json', () => Readable.from([Buffer.from('{}')]), o());
      await r.renameDir('h/1.partial', 'h/1', o());
      expect((await collect(r.list('h/1', o()))).map((e) => e.key).sort()).toEqual([
        'h/1/data/x.bin',
        'h/1/manifest.json',
      ]);
      expect(await collect(r.list('h/1.partial', o()))).toEqual([]);
    });

    it('removeDir removes a folder and everything in it; a missing one is fine', async () => {
      await r.put('c7/deep/a/b', () => Readable.from([Buffer.from('b')]), o());
      await r.removeDir('c7', o());
      await r.removeDir('c7', o());
      expect(await collect(r.list('c7', o()))).toEqual([]);
    });
  });
}
