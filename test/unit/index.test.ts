// The tree index: walk order, metadata per entry, hash inheritance by inode from the parent.
import { execFileSync } from 'node:child_process';
import { link, mkdir, mkdtemp, readdir, rm, stat, symlink, writeFile, utimes } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { comparePaths, readIndex, writeTreeIndex } from '../../src/backup/tree-index.js';
import type { IndexEntry } from '../../src/store/manifest.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});
const tmp = async () => {
  const d = await mkdtemp(join(tmpdir(), 'bbt-bk-index-'));
  dirs.push(d);
  return d;
};
const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const read = async (p: string) => {
  const out: IndexEntry[] = [];
  for await (const e of readIndex(p)) out.push(e);
  return out;
};

describe('comparePaths', () => {
  it('orders component by component (a/b before a-c, unlike plain string order)', () => {
    const paths = ['a-c', 'a/b', '', 'a', 'b', 'a/b/c', 'A'];
    expect([...paths].sort(comparePaths)).toEqual(['', 'A', 'a', 'a/b', 'a/b/c', 'a-c', 'b']);
  });
});

describe('writeTreeIndex', () => {
  it('lists every entry in walk order with type, mode, owner, ns mtime, size, link and sha256', async () => {
    const root = join(await tmp(), 'tree');
    await mkdir(join(root, 'a/b'), { recursive: true });
    await mkdir(join(root, 'a-c'));
    await writeFile(join(root, 'a/b/f'), 'hello');
    await symlink('b/f', join(root, 'a/l'));
    await utimes(join(root, 'a/b/f'), 1.5, 1614834367.123);
    const index = join(root, '..', 'i.jsonl');
    const r = await writeTreeIndex(root, index);
    const entries = await read(index);
    expect(entries.map((e) => `${e.t} ${e.p}`)).toEqual(['d ', 'd a', 'd a/b', 'f a/b/f', 'l a/l', 'd a-c']);
    const f = entries.find((e) => e.p === 'a/b/f')!;
    expect(f).toMatchObject({ size: 5, sha256: sha('hello'), uid: process.getuid!(), mode: 0o644 & ~process.umask() });
    expect(Math.abs(Number(BigInt(f.mtime) / 1_000_000n) - 1614834367123)).toBeLessThanOrEqual(1);
    expect(entries.find((e) => e.p === 'a/l')!.link).toBe('b/f');
    expect(r).toEqual({ bytes: 5, fileCount: 1, hashed: 1, hashedBytes: 5, skippedDevices: { count: 0, paths: [] } });
  });

  it('inherits the parent hash for hard-linked files and hashes only the rest', async () => {
    const base = await tmp();
    const parent = join(base, 'p');
    const child = join(base, 'c');
    await mkdir(join(parent, 'd'), { recursive: true });
    await mkdir(join(child, 'd'), { recursive: true });
    for (const n of ['same1', 'same2', 'changed']) await writeFile(join(parent, 'd', n), `v1 ${n}`);
    await writeTreeIndex(parent, join(base, 'p.jsonl'));
    await link(join(parent, 'd/same1'), join(child, 'd/same1'));
    await link(join(parent, 'd/same2'), join(child, 'd/same2'));
    await writeFile(join(child, 'd/changed'), 'v2');
    await writeFile(join(child, 'd/new'), 'new');
    const r = await writeTreeIndex(child, join(base, 'c.jsonl'), { parent: { root: parent, index: join(base, 'p.jsonl') } });
    expect(r.hashed).toBe(2);
    expect(r.fileCount).toBe(4);
    const entries = await read(join(base, 'c.jsonl'));
    expect(entries.find((e) => e.p === 'd/same1')!.sha256).toBe(sha('v1 same1'));
    expect(entries.find((e) => e.p === 'd/changed')!.sha256).toBe(sha('v2'));
    expect(entries.find((e) => e.p === 'd/new')!.sha256).toBe(sha('new'));
  });

  it('does not trust a parent entry for a different inode with the same path', async () => {
    const base = await tmp();
    await mkdir(join(base, 'p'));
    await mkdir(join(base, 'c'));
    await writeFile(join(base, 'p/f'), 'old');
    await writeTreeIndex(join(base, 'p'), join(base, 'p.jsonl'));
    await writeFile(join(base, 'c/f'), 'new!');
    const r = await writeTreeIndex(join(base, 'c'), join(base, 'c.jsonl'), { parent: { root: join(base, 'p'), index: join(base, 'p.jsonl') } });
    expect(r.hashed).toBe(1);
    expect((await read(join(base, 'c.jsonl')))[1]!.sha256).toBe(sha('new!'));
  });

  it('never lists a device node: one found in the snapshot is removed and counted (readers leave them out first)', async () => {
    const root = join(await tmp(), 'tree');
    await mkdir(join(root, 'dev'), { recursive: true });
    await writeFile(join(root, 'dev/keep'), 'x');
    execFileSync('mknod', [join(root, 'dev/null0'), 'c', '1', '3']);
    execFileSync('mknod', [join(root, 'loop0'), 'b', '7', '0']);
    const r = await writeTreeIndex(root, `${root}.jsonl`);
    expect((await read(`${root}.jsonl`)).map((e) => e.p)).toEqual(['', 'dev', 'dev/keep']);
    expect(r.skippedDevices).toEqual({ count: 2, paths: ['dev/null0', 'loop0'] });
    expect(await readdir(join(root, 'dev'))).toEqual(['keep']);
    expect(((await stat(`${root}.jsonl`)).mode & 0o777).toString(8)).toBe('600');
  });
});
