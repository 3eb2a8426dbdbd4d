// Remote format 2, the parts that are pure or need only a folder: version fields (a newer major is
// refused with what to do, a missing one is damage), key names, pack planning, and the pack tar
// (what the writer makes, the reader takes back; what it would not make, the reader refuses).
import { execa } from 'execa';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listRemoteBackups } from '../../src/remote/list.js';
import { LocalRemote } from '../../src/remote/local.js';
import { checkFormat, parsePackKey, parseSnapshotKey, REPO_FILE } from '../../src/remote/repo/format.js';
import { planPacks } from '../../src/remote/repo/packs.js';
import { openRepo } from '../../src/remote/repo/repo.js';
import {
  ByteReader,
  END_OF_ARCHIVE,
  memberHeader,
  PACK_HEADER_MEMBER,
  PackReader,
  padding,
} from '../../src/remote/repo/tar-pack.js';

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'bbt-repo-unit-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('version fields', () => {
  it.each([
    { name: 'current', doc: { format: 2 }, ok: true },
    {
      name: 'newer major',
      doc: { format: 3 },
      code: 'USAGE',
      msg: /newer bbackup \(remote format 3\).*upgrade bbackup/,
    },
    { name: 'missing', doc: {}, code: 'INTEGRITY', msg: /no valid format/ },
    { name: 'older than 2 in a format 2 file', doc: { format: 1 }, code: 'INTEGRITY', msg: /no valid format/ },
    { name: 'not an integer', doc: { format: '2' }, code: 'INTEGRITY', msg: /no valid format/ },
    { name: 'not an object', doc: [2], code: 'INTEGRITY', msg: /not a JSON object/ },
  ])('checkFormat: $name', ({ doc, ok, code, msg }) => {
    if (ok) expect(checkFormat(doc, 'x')).toEqual(doc);
    else
      expect(() => checkFormat(doc, 'x')).toThrow(
        expect.objectContaining({ code, message: expect.stringMatching(msg!) }),
      );
  });

  it('a repository of a newer major format is refused by listing and by upload, naming the file', async () => {
    const root = join(tmp, 'newer');
    await mkdir(root);
    await writeFile(
      join(root, REPO_FILE),
      JSON.stringify({ format: 3, id: 'a'.repeat(32), created: '2030-01-01T00:00:00Z' }),
    );
    const remote = new LocalRemote('far', root);
    const signal = AbortSignal.timeout(10_000);
    await expect(listRemoteBackups(remote, signal)).rejects.toMatchObject({
      code: 'USAGE',
      message: expect.stringMatching(
        /remote far: bbackup-repo\.json was written by a newer bbackup \(remote format 3\)/,
      ),
    });
    await expect(openRepo(remote, join(tmp, 'store'), { create: true, signal })).rejects.toMatchObject({
      code: 'USAGE',
    });
  });
});

describe('key names', () => {
  const P = 'ab'.repeat(16);
  it.each([
    { key: `packs/${P}.tar.zst`, want: { packId: P, kind: 'pack', encrypted: false } },
    { key: `packs/${P}.tar.zst.age`, want: { packId: P, kind: 'pack', encrypted: true } },
    { key: `packs/${P}.idx.json`, want: { packId: P, kind: 'index', encrypted: false } },
    { key: `packs/${P}.idx.json.age`, want: undefined },
    { key: `packs/${P.slice(2)}.tar.zst`, want: undefined },
    { key: `packs/x/${P}.tar.zst`, want: undefined },
    { key: `packs/${P}.tar.zst.bbtmp-1234`, want: undefined },
  ])('parsePackKey($key)', ({ key, want }) => {
    expect(parsePackKey(key)).toEqual(want);
  });

  it.each([
    {
      key: 'snapshots/h1/20261201T000000Z/manifest.json',
      want: { hostSeg: 'h1', id: '20261201T000000Z', file: 'manifest.json' },
    },
    { key: 'snapshots/h1/20261201T000000Z', want: undefined },
    { key: 'snapshots/h1/notanid/manifest.json', want: undefined },
    { key: 'snapshots/h1/20261201T000000Z/trees/x', want: undefined },
  ])('parseSnapshotKey($key)', ({ key, want }) => {
    expect(parseSnapshotKey(key)).toEqual(want);
  });
});

describe('planPacks', () => {
  it.each([
    { name: 'empty', sizes: [], target: 100, want: [] },
    { name: 'one pack', sizes: [10, 10], target: 10_000, want: [[10, 10]] },
    { name: 'a large object is a pack of its own', sizes: [5000, 10], target: 1000, want: [[5000], [10]] },
    {
      name: 'closes at the target (512-byte headers count)',
      sizes: [300, 300, 300],
      target: 1600,
      want: [[300, 300], [300]],
    },
  ])('$name', ({ sizes, target, want }) => {
    expect(
      planPacks(
        sizes.map((size) => ({ size })),
        target,
      ).map((p) => p.map((x) => x.size)),
    ).toEqual(want);
  });
});

describe('pack tar', () => {
  const obj = (c: string) => c.repeat(64);
  const member = (name: string, body: Buffer) => [memberHeader(name, body.length), body, padding(body.length)];
  const pack = (members: [string, Buffer][]) =>
    Buffer.concat([...members.flatMap(([n, b]) => member(n, b)), END_OF_ARCHIVE]);

  async function readAll(buf: Buffer): Promise<[string, string][]> {
    const r = new PackReader(new ByteReader(Readable.from([buf])), 'pack x');
    const out: [string, string][] = [];
    for (let m = await r.next(); m; m = await r.next()) {
      const parts: Buffer[] = [];
      for await (const c of r.body(m)) parts.push(c);
      out.push([m.name, Buffer.concat(parts).toString()]);
    }
    await r.finish();
    return out;
  }

  it('what the writer makes, GNU tar lists and the reader takes back', async () => {
    const buf = pack([
      [PACK_HEADER_MEMBER, Buffer.from('{"format":2}\n')],
      [obj('a'), Buffer.from('hello')],
      [obj('b'), Buffer.alloc(0)],
      [obj('c'), Buffer.alloc(1024, 1)],
    ]);
    expect((await execa('tar', ['-tvf', '-'], { input: buf })).stdout.split('\n')).toHaveLength(4);
    expect((await execa('tar', ['-xOf', '-', obj('a')], { input: buf })).stdout).toBe('hello');
    expect((await readAll(buf)).map(([n, b]) => [n, b.length])).toEqual([
      [PACK_HEADER_MEMBER, 13],
      [obj('a'), 5],
      [obj('b'), 0],
      [obj('c'), 1024],
    ]);
  });

  it.each([
    { name: 'first member is not the pack header', members: [[obj('a'), 'x']], msg: /unexpected member/ },
    {
      name: 'a member name that is not an object id',
      members: [
        [PACK_HEADER_MEMBER, '{}'],
        ['../etc/passwd', 'x'],
      ],
      msg: /unexpected member/,
    },
    { name: 'no end marker', members: [[PACK_HEADER_MEMBER, '{}']], cut: 1024, msg: /no end-of-archive|ended/ },
  ])('refused: $name', async ({ members, cut, msg }) => {
    let buf = pack(members.map(([n, b]) => [n!, Buffer.from(b!)]));
    if (cut) buf = buf.subarray(0, buf.length - cut);
    await expect(readAll(buf)).rejects.toMatchObject({ code: 'INTEGRITY', message: expect.stringMatching(msg) });
  });

  it('refused: a header with a wrong checksum', async () => {
    const buf = pack([
      [PACK_HEADER_MEMBER, Buffer.from('{}')],
      [obj('a'), Buffer.from('x')],
    ]);
    buf[512 * 2 + 10] = buf[512 * 2 + 10]! ^ 1; // a byte of the second header's name
    await expect(readAll(buf)).rejects.toMatchObject({ code: 'INTEGRITY', message: expect.stringMatching(/checksum/) });
  });
});
