// The archive entry checks, on archives made by the real GNU tar (good ones with every kind of
// entry, and hostile ones built the way an attacker would), through the real zstd and gzip.
import { mkdir, mkdtemp, rm, symlink, truncate, writeFile, link } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkArchive } from '../../src/restore/archive-check.js';
import { checkEntry, newEntryState, normalise } from '../../src/archive/entry-rules.js';

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'bbt-rs-tar-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const TAR = ['--numeric-owner', '--xattrs', '--xattrs-include=*', '--acls', '--sparse'];

async function goodTree(): Promise<string> {
  const src = await mkdtemp(join(tmp, 'good-'));
  await mkdir(join(src, 'sub', 'empty'), { recursive: true });
  await writeFile(join(src, 'a.txt'), 'hello');
  await link(join(src, 'a.txt'), join(src, 'sub', 'hard.txt'));
  await symlink('../a.txt', join(src, 'sub', 'rel-link'));
  await symlink('/etc/passwd', join(src, 'abs-link')); // a link may point anywhere; it is never followed
  await writeFile(join(src, 'sparse.bin'), '');
  await truncate(join(src, 'sparse.bin'), 50 * 1024 * 1024);
  const long = 'd'.repeat(120);
  await mkdir(join(src, long, long), { recursive: true });
  await writeFile(join(src, long, long, `${'f'.repeat(150)}.txt`), 'long');
  await execa('setfattr', ['-n', 'user.test', '-v', 'x', join(src, 'a.txt')]);
  return src;
}

describe('checkArchive on real archives', () => {
  it.each(['none', 'zstd', 'gzip'] as const)(
    'accepts a normal volume archive (%s): links, long names, sparse, xattrs',
    async (method) => {
      const src = await goodTree();
      const file = join(tmp, `good.tar${method === 'zstd' ? '.zst' : method === 'gzip' ? '.gz' : ''}`);
      if (method === 'none') await execa('tar', ['-C', src, ...TAR, '-cf', file, '.']);
      else
        await execa('tar', ['-C', src, ...TAR, '-cf', '-', '.']).pipe(
          method === 'zstd' ? 'zstd' : 'gzip',
          ['-q', '-c'],
          { stdout: { file } },
        );
      const r = await checkArchive(file, method);
      expect(r.problems).toEqual([]);
      expect(r.complete).toBe(true);
      expect(r.entries).toBeGreaterThanOrEqual(9);
      expect(r.sha256).toMatch(/^[0-9a-f]{64}$/);
      const { stdout } = await execa('sha256sum', [file]);
      expect(r.sha256).toBe(stdout.split(' ')[0]);
    },
  );

  it('refuses ../ entries, absolute paths, writing through a symlink, devices and outside hard links, naming each', async () => {
    const evil = join(tmp, 'evil');
    await mkdir(join(evil, 'stage', 'link'), { recursive: true });
    await writeFile(join(evil, 'stage', 'link', 'pwned'), 'x');
    await symlink('/tmp', join(evil, 'link'));
    await writeFile(join(tmp, 'outside.txt'), 'o');
    const file = join(evil, 'evil.tar');
    await execa('tar', ['-C', evil, '-cf', file, 'link']); // a symlink "link" -> /tmp ...
    await execa('tar', ['-C', join(evil, 'stage'), '-rf', file, 'link/pwned']); // ... then a file through it
    await execa('tar', ['-C', evil, '-rPf', file, `${tmp}/outside.txt`]); // absolute path
    await execa('tar', ['-C', evil, '-rPf', file, '../outside.txt']); // ../
    await execa('tar', ['-C', '/', '-rf', file, 'dev/null']); // a device node
    const r = await checkArchive(file, 'none');
    const reasons = r.problems.map((p) => `${p.entry}: ${p.reason}`);
    expect(reasons).toContainEqual(expect.stringMatching(/^link\/pwned: goes through the symlink link/));
    expect(reasons).toContainEqual(expect.stringMatching(/outside\.txt: absolute path/));
    expect(reasons).toContainEqual(expect.stringMatching(/^\.\.\/outside\.txt: path contains a "\.\." component/));
    expect(reasons).toContainEqual(expect.stringMatching(/dev\/null: character device node/));
    expect(reasons.some((x) => x.startsWith('link:'))).toBe(false); // the symlink itself is fine
  });

  it('reports a truncated archive', async () => {
    const src = await goodTree();
    const file = join(tmp, 'cut.tar');
    await execa('tar', ['-C', src, '-cf', file, '.']);
    await truncate(file, 2048);
    const r = await checkArchive(file, 'none');
    expect(r.damaged).toMatch(/^truncated at byte \d+/);
  });
});

describe('entry rules', () => {
  const fresh = newEntryState;
  it.each([
    { path: './a/b', norm: 'a/b' },
    { path: 'a//b/', norm: 'a/b' },
    { path: './', norm: '' },
    { path: '/etc', problem: 'absolute path' },
    { path: 'a/../../b', problem: 'path contains a ".." component' },
  ])('normalise $path', ({ path, norm, problem }) => {
    expect(normalise(path)).toEqual(problem ? { problem } : { path: norm });
  });

  it.each([
    {
      name: 'hard link to an earlier file',
      entries: [
        ['f', '0', ''],
        ['h', '1', 'f'],
      ],
      bad: undefined,
    },
    { name: 'hard link to nothing earlier', entries: [['h', '1', 'etc/shadow']], bad: 'not an earlier file' },
    { name: 'hard link with ..', entries: [['h', '1', '../x']], bad: '".."' },
    {
      name: 'hard link through a symlink',
      entries: [
        ['l', '2', '/etc'],
        ['h', '1', 'l/passwd'],
      ],
      bad: 'goes through the symlink l',
    },
    {
      name: 'symlink replaced by a directory',
      entries: [
        ['l', '2', '/etc'],
        ['l', '5', ''],
      ],
      bad: 'replaces the symlink',
    },
    {
      name: 'nested below a symlinked dir',
      entries: [
        ['d', '5', ''],
        ['d/l', '2', '../..'],
        ['d/l/x/y', '0', ''],
      ],
      bad: 'goes through the symlink d/l',
    },
    { name: 'block device', entries: [['sda', '4', '']], bad: 'block device' },
    { name: 'fifo is fine', entries: [['p', '6', '']], bad: undefined },
  ])('$name', ({ entries, bad }) => {
    const state = fresh();
    const problems = entries
      .map(([path, type, linkpath]) => checkEntry({ path: path!, type: type!, linkpath: linkpath! }, state))
      .filter(Boolean);
    if (bad === undefined) expect(problems).toEqual([]);
    else expect(problems[0]?.reason).toContain(bad);
  });
});
