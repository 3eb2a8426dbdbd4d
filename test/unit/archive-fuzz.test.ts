// Property-based tests of the archive scanner (fast-check, seeded, bounded): generated benign
// archives (from our builder, and from the real GNU tar on generated trees) always pass and go
// through the gate byte for byte; the same archives with one hostile trick spliced in anywhere
// (an escape by "..", an absolute path, a symlink then a write through it, a hard link outward or to
// a later entry, a device, a global header, a pax override, a long name, a checksum or size trick)
// are always refused, by the check and by the gate.
import { mkdir, mkdtemp, rm, symlink as fsSymlink, writeFile, link, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TarScanner } from '../../src/archive/tar-scan.js';
import { archive, entry, END, header, longName, pax } from '../helpers/tar-build.js';

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'bbt-untr-fuzz-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** A tree model: entries in archive order, only ever below real directories. */
type Node =
  | { kind: 'dir'; path: string }
  | { kind: 'file'; path: string; data: string }
  | { kind: 'symlink'; path: string; target: string }
  | { kind: 'hardlink'; path: string; target: string }
  | { kind: 'fifo'; path: string };

const nameChar = fc.constantFrom(...'abcxyz019_-. é€'.split(''));
const segment = fc
  .string({ unit: nameChar, minLength: 1, maxLength: 12 })
  .filter((s) => s !== '.' && s !== '..' && s.trim() === s);
const longSegment = fc
  .string({ unit: nameChar, minLength: 60, maxLength: 120 })
  .filter((s) => s.trim() === s && !/^\.+$/.test(s));

/** Steps that grow a tree; each picks among what exists so far. */
const steps = fc.array(
  fc.record({
    op: fc.constantFrom('dir', 'file', 'file', 'symlink', 'hardlink', 'fifo'),
    pick: fc.nat(),
    name: fc.oneof({ weight: 5, arbitrary: segment }, { weight: 1, arbitrary: longSegment }),
    data: fc.string({ maxLength: 40 }),
    target: fc.string({ unit: fc.constantFrom(...'ab/.é'.split('')), maxLength: 20 }),
  }),
  { minLength: 1, maxLength: 25 },
);

function buildTree(ops: { op: string; pick: number; name: string; data: string; target: string }[]): Node[] {
  const dirs = [''];
  const files: string[] = [];
  const used = new Set<string>();
  const nodes: Node[] = [];
  for (const s of ops) {
    const parent = dirs[s.pick % dirs.length]!;
    const path = parent ? `${parent}/${s.name}` : s.name;
    if (used.has(path) || Buffer.byteLength(path) > 250) continue;
    used.add(path);
    if (s.op === 'dir') {
      dirs.push(path);
      nodes.push({ kind: 'dir', path });
    } else if (s.op === 'file') {
      files.push(path);
      nodes.push({ kind: 'file', path, data: s.data });
    } else if (s.op === 'symlink') nodes.push({ kind: 'symlink', path, target: s.target || 'x' });
    else if (s.op === 'hardlink' && files.length > 0) {
      nodes.push({ kind: 'hardlink', path, target: files[s.pick % files.length]! });
      files.push(path);
    } else nodes.push({ kind: 'fifo', path });
  }
  return nodes;
}

/** One entry as bytes; a long name goes into a pax path or a GNU long name (style picks which). */
function encode(n: Node, style: number): Buffer {
  const bytes = Buffer.byteLength(n.path);
  const long = bytes > 99;
  const name = long ? 'placeholder' : n.path;
  const link = n.kind === 'symlink' || n.kind === 'hardlink' ? n.target : undefined;
  const longLink = link !== undefined && Buffer.byteLength(link) > 99;
  const spec =
    n.kind === 'dir'
      ? { name, type: '5' }
      : n.kind === 'file'
        ? { name, data: n.data }
        : n.kind === 'fifo'
          ? { name, type: '6' }
          : { name, type: n.kind === 'symlink' ? '2' : '1', linkname: longLink ? 'x' : link };
  const pre: Buffer[] = [];
  const records: [string, string][] = [];
  if (long) style % 2 === 0 ? records.push(['path', n.path]) : pre.push(longName(n.path));
  if (longLink) style % 2 === 0 ? records.push(['linkpath', link!]) : pre.push(longName(link!, 'K'));
  if (records.length > 0) pre.unshift(pax(records));
  return Buffer.concat([...pre, entry(spec)]);
}

const scan = (tar: Buffer) => {
  const s = new TarScanner();
  for (let i = 0; i < tar.length; i += 1000) s.write(tar.subarray(i, i + 1000));
  return s.end();
};

function gate(tar: Buffer): { out: Buffer; refusal?: string } {
  const out: Buffer[] = [];
  const s = new TarScanner((b) => out.push(b));
  for (let i = 0; i < tar.length && !s.refusal; i += 777) s.write(tar.subarray(i, i + 777));
  s.end();
  return { out: Buffer.concat(out), refusal: s.refusal };
}

/** Tricks, each given the names used so far so it can pick fresh ones. Every one must be refused. */
const fresh = (k: number) => `fresh${k}`;
const escapes = fc.constantFrom('../x', 'a/../../x', '/etc/passwd', '/', './../x', 'a/./../../x');
const tricks: fc.Arbitrary<{ what: string; bytes: Buffer }> = fc.oneof(
  escapes.map((p) => ({ what: `header name ${p}`, bytes: entry({ name: p, data: 'x' }) })),
  escapes.map((p) => ({
    what: `pax path ${p}`,
    bytes: Buffer.concat([pax([['path', p]]), entry({ name: 'harmless', data: 'x' })]),
  })),
  escapes.map((p) => ({
    what: `long name ${p}`,
    bytes: Buffer.concat([longName(p), entry({ name: 'harmless', data: 'x' })]),
  })),
  escapes.map((p) => ({ what: `hard link to ${p}`, bytes: entry({ name: fresh(1), type: '1', linkname: p }) })),
  escapes.map((p) => ({
    what: `long link hard link to ${p}`,
    bytes: Buffer.concat([longName(p, 'K'), entry({ name: fresh(1), type: '1', linkname: 'x' })]),
  })),
  fc.constantFrom('/etc', '.', 'a', '../..').map((t) => ({
    what: `symlink -> ${t} then a file through it`,
    bytes: Buffer.concat([
      entry({ name: fresh(2), type: '2', linkname: t }),
      entry({ name: `${fresh(2)}/f`, data: 'x' }),
    ]),
  })),
  fc.constantFrom('5', '0', '1').map((t) => ({
    what: `symlink replaced by type ${t}`,
    bytes: Buffer.concat([
      entry({ name: fresh(3), type: '2', linkname: '/etc' }),
      entry({ name: fresh(3), type: t, linkname: t === '1' ? fresh(3) : undefined }),
    ]),
  })),
  fc.constant({
    what: 'hard link to a symlink then through it',
    bytes: Buffer.concat([
      entry({ name: fresh(4), type: '2', linkname: '/etc' }),
      entry({ name: fresh(5), type: '1', linkname: fresh(4) }),
      entry({ name: `${fresh(5)}/passwd`, data: 'x' }),
    ]),
  }),
  fc.constant({
    what: 'hard link to a later entry',
    bytes: Buffer.concat([
      entry({ name: fresh(6), type: '1', linkname: fresh(7) }),
      entry({ name: fresh(7), data: 'x' }),
    ]),
  }),
  fc.constantFrom('3', '4').map((t) => ({ what: `device type ${t}`, bytes: entry({ name: fresh(8), type: t }) })),
  fc.constantFrom('path', 'linkpath', 'size', 'uid', 'GNU.sparse.name', 'mtime').map((k) => ({
    what: `global header setting ${k}`,
    bytes: pax([[k, k === 'size' || k === 'uid' || k === 'mtime' ? '1' : '../x']], 'g'),
  })),
  fc.constant({
    what: 'two pax headers',
    bytes: Buffer.concat([pax([['path', 'ok']]), pax([['mtime', '1']]), entry({ name: '../x', data: 'x' })]),
  }),
  fc
    .integer({ min: -3, max: 3 })
    .filter((d) => d !== 0)
    .map((d) => ({ what: `checksum off by ${d}`, bytes: entry({ name: fresh(9), data: 'x', badChecksum: d }) })),
  fc.constantFrom('1e3', '-1', '+5', ' 5', '5 ', '0x10', '').map((v) => ({
    what: `pax size ${JSON.stringify(v)}`,
    bytes: Buffer.concat([pax([['size', v]]), entry({ name: fresh(10), data: 'x' })]),
  })),
  fc.constantFrom('2', '5', '6', '1').map((t) => ({
    what: `type ${t} carrying data`,
    bytes: entry({ name: fresh(11), type: t, linkname: 'x', data: header({ name: '../x' }) }),
  })),
  fc
    .constantFrom('GNU.dumpdir', 'GNU.volume.label', 'GNU.sparse.numblocks', 'SCHILY.devmajor', 'X.unknown')
    .map((k) => ({
      what: `pax key ${k}`,
      bytes: Buffer.concat([pax([[k, '1']]), entry({ name: fresh(12), type: '5' })]),
    })),
  fc.constant({
    what: 'a lone zero block',
    bytes: Buffer.concat([Buffer.alloc(512), entry({ name: '../x', data: 'x' })]),
  }),
);

describe('fuzzing the archive scanner (seeded)', () => {
  it('benign archives from the builder pass, and the gate passes them on unchanged', () => {
    fc.assert(
      fc.property(steps, fc.nat(), (ops, style) => {
        const tar = archive(entry({ name: './', type: '5' }), ...buildTree(ops).map((n) => encode(n, style)));
        const r = scan(tar);
        expect(r.problems).toEqual([]);
        expect(r.damaged).toBeUndefined();
        const g = gate(tar);
        expect(g.refusal).toBeUndefined();
        expect(g.out.equals(tar)).toBe(true);
      }),
      { seed: 20261202, numRuns: 200, endOnFailure: true },
    );
  });

  it('a hostile trick anywhere in a benign archive is always refused, by the check and by the gate', () => {
    fc.assert(
      fc.property(steps, fc.nat(), tricks, fc.nat(), (ops, style, trick, at) => {
        const parts = buildTree(ops).map((n) => encode(n, style));
        const i = at % (parts.length + 1);
        const tar = archive(...parts.slice(0, i), trick.bytes, ...parts.slice(i));
        const r = scan(tar);
        expect(r.problems.length > 0 || r.damaged !== undefined, trick.what).toBe(true);
        expect(gate(tar).refusal, trick.what).toBeDefined();
      }),
      { seed: 20261203, numRuns: 400, endOnFailure: true },
    );
  });

  it('a benign archive cut short anywhere is refused as damaged', () => {
    fc.assert(
      fc.property(steps, fc.nat(), (ops, cut) => {
        const tar = archive(...buildTree(ops).map((n) => encode(n, 0)));
        const short = tar.subarray(0, cut % (tar.length - END.length));
        expect(scan(short).damaged).toBeDefined();
      }),
      { seed: 20261204, numRuns: 100, endOnFailure: true },
    );
  });

  it('archives the real GNU tar makes of generated trees pass (posix and gnu formats)', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(steps, fc.boolean(), async (ops, posix) => {
        const root = join(tmp, `tree${run++}`);
        await mkdir(root);
        for (const n of buildTree(ops)) {
          const p = join(root, n.path);
          if (n.kind === 'dir') await mkdir(p);
          else if (n.kind === 'file') await writeFile(p, n.data);
          else if (n.kind === 'symlink') await fsSymlink(n.target, p);
          else if (n.kind === 'hardlink') await link(join(root, n.target), p);
          else await execa('mkfifo', [p]);
        }
        await chmod(root, 0o755);
        const { stdout } = await execa('tar', ['-C', root, `--format=${posix ? 'posix' : 'gnu'}`, '-cf', '-', '.'], {
          encoding: 'buffer',
        });
        const tar = Buffer.from(stdout);
        const r = scan(tar);
        expect(r.problems).toEqual([]);
        expect(r.damaged).toBeUndefined();
        expect(gate(tar).out.equals(tar.subarray(0, gate(tar).out.length))).toBe(true);
      }),
      { seed: 20261205, numRuns: 15, endOnFailure: true },
    );
  });
});
