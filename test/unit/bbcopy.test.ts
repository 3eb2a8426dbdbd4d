// bbcopy, the copy engine (native/), run for real on temp folders: what it copies and keeps, the
// index it writes (same order and bytes as JSON.stringify of IndexEntry), hash inheritance from
// the parent, the stream's hash list (adopt), the restore check, device nodes, and the sink.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  closeSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { bbcopyPath } from '../../src/paths.js';
import { comparePaths } from '../../src/backup/tree-index.js';
import type { IndexEntry } from '../../src/store/manifest.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'bbt-spd-bbcopy-'));
  dirs.push(d);
  return d;
};
const sha = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');

interface Run {
  code: number;
  lines: string[];
  summary: Record<string, number>;
  stderr: string;
}
function bbcopy(args: string[], input?: Buffer, env?: Record<string, string>): Run {
  const r = spawnSync(bbcopyPath(), args, { input, encoding: 'utf8', env: { ...process.env, ...env } });
  const lines = r.stdout.split('\n').filter(Boolean);
  const s = lines.find((l) => l.startsWith('S '));
  return {
    code: r.status ?? -1,
    lines,
    summary: s ? (JSON.parse(s.slice(2)) as Record<string, number>) : {},
    stderr: r.stderr,
  };
}
const readIndex = (p: string) =>
  readFileSync(p, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as IndexEntry);
const copy = (src: string, dst: string, index: string, parent?: [string, string]) => {
  mkdirSync(dst, { recursive: true });
  return bbcopy([
    'copy',
    '--source',
    src,
    '--target',
    dst,
    '--index',
    index,
    ...(parent ? ['--parent-root', parent[0], '--parent-index', parent[1]] : []),
  ]);
};

describe('comparePaths (the index order)', () => {
  it('orders component by component (a/b before a-c, unlike plain string order)', () => {
    const paths = ['a-c', 'a/b', '', 'a', 'b', 'a/b/c', 'A'];
    expect([...paths].sort(comparePaths)).toEqual(['', 'A', 'a', 'a/b', 'a/b/c', 'a-c', 'b']);
  });
});

describe('bbcopy copy', () => {
  it('lists every entry in walk order with type, mode, owner, ns mtime, size, link and sha256, exactly as JSON.stringify does', () => {
    const base = tmp();
    const src = join(base, 'src');
    mkdirSync(join(src, 'a/b'), { recursive: true });
    mkdirSync(join(src, 'a-c'));
    writeFileSync(join(src, 'a/b/f'), 'hello');
    chownSync(join(src, 'a/b/f'), 1234, 5678);
    chmodSync(join(src, 'a/b/f'), 0o4750);
    symlinkSync('b/f', join(src, 'a/l'));
    execFileSync('touch', ['-m', '-d', '2021-03-04 05:06:07.123456789', join(src, 'a/b/f')]);
    writeFileSync(join(src, 'q"uote\\back\nline\u0001'), 'odd name');
    const r = copy(src, join(base, 'dst'), join(base, 'i.jsonl'));
    expect(r.code, r.stderr).toBe(0);
    const text = readFileSync(join(base, 'i.jsonl'), 'utf8');
    const entries = readIndex(join(base, 'i.jsonl'));
    expect(entries.map((e) => `${e.t} ${e.p}`)).toEqual([
      'd ',
      'd a',
      'd a/b',
      'f a/b/f',
      'l a/l',
      'd a-c',
      'f q"uote\\back\nline\u0001',
    ]);
    // byte for byte what JSON.stringify writes for the same entries (the Node index's format)
    expect(text).toBe(entries.map((e) => `${JSON.stringify(e)}\n`).join(''));
    expect(entries.find((e) => e.p === 'a/b/f')).toEqual({
      p: 'a/b/f',
      t: 'f',
      mode: 0o4750,
      uid: 1234,
      gid: 5678,
      mtime: '1614834367123456789',
      size: 5,
      sha256: sha('hello'),
    });
    expect(entries.find((e) => e.p === 'a/l')!.link).toBe('b/f');
    const st = lstatSync(join(base, 'dst/a/b/f'), { bigint: true });
    expect([Number(st.mode & 0o7777n), Number(st.uid), Number(st.gid), String(st.mtimeNs)]).toEqual([
      0o4750,
      1234,
      5678,
      '1614834367123456789',
    ]);
    expect(readFileSync(join(base, 'dst', 'q"uote\\back\nline\u0001'), 'utf8')).toBe('odd name');
    expect(r.summary).toMatchObject({ files: 2, bytes: 13, hashed: 2, hashedBytes: 13, linked: 0 });
    expect((statSync(join(base, 'i.jsonl')).mode & 0o777).toString(8)).toBe('600');
  });

  it('orders names as JavaScript compares strings (UTF-16 code units), so verify can merge the index with its own walk', () => {
    const base = tmp();
    const src = join(base, 'src');
    const names = ['b', 'a-c', 'a', '\u{E000}x', '\u{1F600}', 'Z', 'é', 'ab', '\uFFFDz'];
    mkdirSync(join(src, 'a'), { recursive: true });
    writeFileSync(join(src, 'a/inner'), '');
    for (const n of names.filter((x) => x !== 'a')) writeFileSync(join(src, n), n);
    expect(copy(src, join(base, 'dst'), join(base, 'i.jsonl')).code).toBe(0);
    const order = readIndex(join(base, 'i.jsonl')).map((e) => e.p);
    expect(order).toEqual([...order].sort(comparePaths));
    expect(order).toContain('a/inner');
  });

  it('leaves device nodes out and names them; the index never lists one', () => {
    const base = tmp();
    const src = join(base, 'src');
    mkdirSync(join(src, 'dev'), { recursive: true });
    writeFileSync(join(src, 'dev/keep'), 'x');
    execFileSync('mknod', [join(src, 'dev/null0'), 'c', '1', '3']);
    execFileSync('mknod', [join(src, 'loop0'), 'b', '7', '0']);
    const r = copy(src, join(base, 'dst'), join(base, 'i.jsonl'));
    expect(r.code).toBe(0);
    expect(r.lines.filter((l) => l.startsWith('D '))).toEqual(['D "dev/null0"', 'D "loop0"']);
    expect(r.summary.devices).toBe(2);
    expect(readIndex(join(base, 'i.jsonl')).map((e) => e.p)).toEqual(['', 'dev', 'dev/keep']);
    expect(readdirSync(join(base, 'dst/dev'))).toEqual(['keep']);
  });

  it('incremental: a file the parent proves unchanged is a hard link to it with the parent hash, not read; anything else is copied', () => {
    const base = tmp();
    const src = join(base, 'src');
    mkdirSync(join(src, 'd'), { recursive: true });
    for (const n of ['same1', 'same2', 'changed', 'touched', 'attrs']) writeFileSync(join(src, 'd', n), `v1 ${n}`);
    expect(copy(src, join(base, 'p'), join(base, 'p.jsonl')).code).toBe(0);
    writeFileSync(join(src, 'd/changed'), 'v2 changed!');
    utimesSync(join(src, 'd/touched'), 1, 1_000_000); // same bytes, other mtime: copied (and hashed) again
    execFileSync('setfattr', ['-n', 'user.new', '-v', '1', join(src, 'd/attrs')]); // other xattrs: copied
    writeFileSync(join(src, 'd/new'), 'new');
    const r = copy(src, join(base, 'c'), join(base, 'c.jsonl'), [join(base, 'p'), join(base, 'p.jsonl')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.summary).toMatchObject({ files: 6, linked: 2, hashed: 4 });
    const ino = (root: string, n: string) => statSync(join(base, root, 'd', n)).ino;
    expect(ino('c', 'same1')).toBe(ino('p', 'same1'));
    for (const n of ['changed', 'touched', 'attrs']) expect(ino('c', n)).not.toBe(ino('p', n));
    const entries = readIndex(join(base, 'c.jsonl'));
    for (const e of entries.filter((x) => x.t === 'f')) expect(e.sha256).toBe(sha(readFileSync(join(base, 'c', e.p))));
    expect(
      execFileSync('getfattr', ['--absolute-names', '--only-values', '-n', 'user.new', join(base, 'c/d/attrs')], {
        encoding: 'utf8',
      }),
    ).toBe('1');
  });

  it('does not trust a parent whose copy no longer matches its index, nor an index it cannot read', () => {
    const base = tmp();
    const src = join(base, 'src');
    mkdirSync(src);
    writeFileSync(join(src, 'f'), 'same');
    writeFileSync(join(src, 'g'), 'same too');
    expect(copy(src, join(base, 'p'), join(base, 'p.jsonl')).code).toBe(0);
    chmodSync(join(base, 'p/f'), 0o600); // the parent's copy changed since its index was written
    const lines = readFileSync(join(base, 'p.jsonl'), 'utf8').split('\n');
    writeFileSync(join(base, 'bad.jsonl'), [lines[0], lines[1], '{"p":"g", broken', ''].join('\n'));
    const r = copy(src, join(base, 'c'), join(base, 'c.jsonl'), [join(base, 'p'), join(base, 'bad.jsonl')]);
    expect(r.code).toBe(0);
    expect(r.summary).toMatchObject({ linked: 0, hashed: 2 });
    expect(r.stderr).toMatch(/line 3 is not a valid index line/);
  });

  it('refuses a name that is not UTF-8, naming it', () => {
    const base = tmp();
    const src = Buffer.from(join(base, 'src'));
    mkdirSync(src);
    writeFileSync(Buffer.concat([src, Buffer.from('/bad\xff', 'latin1')]), 'x');
    const r = copy(join(base, 'src'), join(base, 'dst'), join(base, 'i.jsonl'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/is not valid UTF-8: bad\\xff/);
  });
});

describe('bbcopy with files bigger than one chunk (hashed on a second thread while written)', () => {
  // random bytes, so a chunk hashed twice, skipped or taken from a reused buffer changes the sha256
  const big = (n: number) => randomBytes(n);
  it('copies them byte for byte with their holes, and their sha256 equals a fresh one; restore finds one changed byte', () => {
    const base = tmp();
    const src = join(base, 'src');
    mkdirSync(src);
    const sizes = { a: (5 << 20) + 12345, b: 2 << 20, c: (1 << 20) + 1, small: 1000 };
    const data = Object.fromEntries(Object.entries(sizes).map(([k, n]) => [k, big(n)]));
    for (const [k, d] of Object.entries(data)) writeFileSync(join(src, k), d);
    // 24 MiB with 3 MiB of data at 9 MiB: holes before, after and inside the chunk walk
    const sparse = join(src, 'sparse');
    const mid = big(3 << 20);
    execFileSync('truncate', ['-s', String(24 << 20), sparse]);
    const fd = openSync(sparse, 'r+');
    writeSync(fd, mid, 0, mid.length, 9 << 20);
    closeSync(fd);
    const sparseData = readFileSync(sparse);
    const r = copy(src, join(base, 'dst'), join(base, 'i.jsonl'));
    expect(r.code, r.stderr).toBe(0);
    const hashes = Object.fromEntries(readIndex(join(base, 'i.jsonl')).map((e) => [e.p, e.sha256]));
    for (const [k, d] of Object.entries(data)) {
      expect(readFileSync(join(base, 'dst', k)).equals(d), k).toBe(true);
      expect(hashes[k], k).toBe(sha(d));
    }
    expect(hashes.sparse).toBe(sha(sparseData));
    expect(readFileSync(join(base, 'dst/sparse')).equals(sparseData)).toBe(true);
    expect(statSync(join(base, 'dst/sparse')).blocks * 512).toBeLessThan(8 << 20);

    const restore = (to: string) => {
      mkdirSync(join(base, to));
      return bbcopy([
        'restore',
        '--source',
        join(base, 'dst'),
        '--target',
        join(base, to),
        '--expect',
        join(base, 'i.jsonl'),
      ]);
    };
    const good = restore('v1');
    expect(good.code, good.stderr).toBe(0);
    expect(readFileSync(join(base, 'v1/a')).equals(data.a!)).toBe(true);
    expect(readFileSync(join(base, 'v1/sparse')).equals(sparseData)).toBe(true);
    const fa = openSync(join(base, 'dst/a'), 'r+');
    writeSync(fa, Buffer.from([data.a![3 << 20]! ^ 1]), 0, 1, 3 << 20); // one byte, in the fourth chunk
    closeSync(fa);
    const bad = restore('v2');
    expect(bad.code).toBe(3);
    expect(bad.lines.filter((l) => l.startsWith('X '))).toEqual([
      `X ${JSON.stringify({ p: 'a', problem: 'content differs from the index (sha256)' })}`,
    ]);
  });
});

describe('bbcopy with copy threads (files copied at once, the index in walk order)', () => {
  it.each(['0', '1', '2', '4'])(
    'BBCOPY_THREADS=%s: every name, hard links included, has its own bytes and sha256, in walk order; restore agrees',
    (threads) => {
      const base = tmp();
      const src = join(base, 'src');
      const data = new Map<string, Buffer>();
      for (let d = 0; d < 4; d++) {
        mkdirSync(join(src, `d${d}`), { recursive: true });
        for (let f = 0; f < 40; f++) {
          const b = randomBytes(f % 10 === 0 ? (1 << 20) + f : 100 + f * 37);
          const p = `d${d}/f${f}`;
          writeFileSync(join(src, p), b);
          data.set(p, b);
          // a second name of some files, in a folder walked later: linked to the first copy
          if (f % 7 === 0) {
            mkdirSync(join(src, `z${d}`), { recursive: true });
            linkSync(join(src, p), join(src, `z${d}/l${f}`));
            data.set(`z${d}/l${f}`, b);
          }
        }
      }
      const env = { BBCOPY_THREADS: threads };
      mkdirSync(join(base, 'dst'));
      const args = ['copy', '--source', src, '--target', join(base, 'dst'), '--index', join(base, 'i.jsonl')];
      const r = bbcopy(args, undefined, env);
      expect(r.code, r.stderr).toBe(0);
      const entries = readIndex(join(base, 'i.jsonl'));
      expect(entries.map((e) => e.p)).toEqual([...entries.map((e) => e.p)].sort(comparePaths));
      const files = entries.filter((e) => e.t === 'f');
      expect(files.length).toBe(data.size);
      for (const e of files) {
        expect(e.sha256, e.p).toBe(sha(data.get(e.p)!));
        expect(readFileSync(join(base, 'dst', e.p)).equals(data.get(e.p)!), e.p).toBe(true);
      }
      expect(statSync(join(base, 'dst/z0/l0')).ino).toBe(statSync(join(base, 'dst/d0/f0')).ino);
      mkdirSync(join(base, 'v'));
      const back = bbcopy(
        ['restore', '--source', join(base, 'dst'), '--target', join(base, 'v'), '--expect', join(base, 'i.jsonl')],
        undefined,
        env,
      );
      expect(back.code, back.stderr).toBe(0);
      expect(back.summary.files).toBe(data.size);
      expect(statSync(join(base, 'v/z3/l35')).ino).toBe(statSync(join(base, 'v/d3/f35')).ino);
    },
  );
});

describe('bbcopy adopt (a tree extracted from the stream)', () => {
  it('takes hashes from the list where path and size agree, reads the rest, and links files equal to the parent', () => {
    const base = tmp();
    const t = join(base, 't');
    mkdirSync(t);
    writeFileSync(join(t, 'a'), 'alpha');
    writeFileSync(join(t, 'b'), 'beta');
    expect(copy(t, join(base, 'p'), join(base, 'p.jsonl')).code).toBe(0);
    writeFileSync(join(t, 'c'), 'gamma');
    execFileSync('mknod', [join(t, 'dev0'), 'c', '1', '3']);
    // the list: right for a, a wrong size for c (so c is read), b missing (read)
    writeFileSync(
      join(base, 'h.jsonl'),
      `${JSON.stringify({ p: 'a', size: 5, sha256: sha('alpha') })}\n${JSON.stringify({ p: 'c', size: 99, sha256: sha('x') })}\n`,
    );
    const r = bbcopy([
      'adopt',
      '--target',
      t,
      '--index',
      join(base, 'i.jsonl'),
      '--hashes',
      join(base, 'h.jsonl'),
      '--parent-root',
      join(base, 'p'),
      '--parent-index',
      join(base, 'p.jsonl'),
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.summary).toMatchObject({ files: 3, hashed: 2, linked: 2, devices: 1 });
    expect(statSync(join(t, 'a')).ino).toBe(statSync(join(base, 'p/a')).ino);
    expect(readdirSync(t).sort()).toEqual(['a', 'b', 'c']);
    expect(
      readIndex(join(base, 'i.jsonl'))
        .filter((e) => e.t === 'f')
        .map((e) => [e.p, e.sha256]),
    ).toEqual([
      ['a', sha('alpha')],
      ['b', sha('beta')],
      ['c', sha('gamma')],
    ]);
  });
});

describe('bbcopy restore', () => {
  it('copies a snapshot checking every entry against its index on the way, and names what differs', () => {
    const base = tmp();
    const src = join(base, 'src');
    mkdirSync(join(src, 'd'), { recursive: true });
    writeFileSync(join(src, 'd/a'), 'alpha');
    writeFileSync(join(src, 'd/b'), 'beta');
    linkSync(join(src, 'd/a'), join(src, 'd/a2'));
    expect(copy(src, join(base, 'snap'), join(base, 'i.jsonl')).code).toBe(0);
    const ok = bbcopy(
      ['restore', '--source', join(base, 'snap'), '--target', join(base, 'v1'), '--expect', join(base, 'i.jsonl')].map(
        String,
      ),
      undefined,
    );
    expect(ok.code).toBe(1); // the target must exist
    mkdirSync(join(base, 'v1'));
    const good = bbcopy([
      'restore',
      '--source',
      join(base, 'snap'),
      '--target',
      join(base, 'v1'),
      '--expect',
      join(base, 'i.jsonl'),
    ]);
    expect(good.code, good.stderr).toBe(0);
    expect(statSync(join(base, 'v1/d/a2')).ino).toBe(statSync(join(base, 'v1/d/a')).ino);
    writeFileSync(join(base, 'snap/d/b'), 'BETA'); // same size, other bytes
    rmSync(join(base, 'snap/d/a2'));
    writeFileSync(join(base, 'snap/extra'), '');
    mkdirSync(join(base, 'v2'));
    const bad = bbcopy([
      'restore',
      '--source',
      join(base, 'snap'),
      '--target',
      join(base, 'v2'),
      '--expect',
      join(base, 'i.jsonl'),
    ]);
    expect(bad.code).toBe(3);
    const problems = bad.lines
      .filter((l) => l.startsWith('X '))
      .map((l) => JSON.parse(l.slice(2)) as { p: string; problem: string });
    expect(problems).toEqual([
      { p: 'd/a2', problem: 'missing from the snapshot' },
      { p: 'd/b', problem: 'content differs from the index (sha256)' },
      { p: 'extra', problem: 'not listed in the index' },
    ]);
  });
});

describe('bbcopy sink', () => {
  it('writes stdin to a new private file and reports its size and sha256', () => {
    const base = tmp();
    const data = randomBytes((5 << 20) + 777); // several chunks, each different
    const r = bbcopy(['sink', '--out', join(base, 'f')], data);
    expect(r.code, r.stderr).toBe(0);
    expect(r.summary).toMatchObject({ size: data.length, sha256: sha(data) });
    expect(readFileSync(join(base, 'f')).equals(data)).toBe(true);
    expect((statSync(join(base, 'f')).mode & 0o777).toString(8)).toBe('600');
    expect(bbcopy(['sink', '--out', join(base, 'f')], data).code).toBe(1); // never overwrites
  });
});
