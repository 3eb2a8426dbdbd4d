// The in-process skeleton must be the very bytes GNU tar makes of a `cp -a --attributes-only` copy
// (skeleton.ts's other way): same object id, same extraction. A tree with an extended attribute
// or an ACL is left to GNU tar.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { link, mkdir, mkdtemp, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeSkeleton, TAR_CREATE } from '../../src/remote/repo/skeleton.js';
import { writeSkeletonTar } from '../../src/remote/repo/skeleton-tar.js';

const signal = new AbortController().signal;
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function tree(): Promise<{ base: string; tree: string }> {
  const base = await mkdtemp('/var/tmp/bbt-upl-skel-');
  dirs.push(base);
  const t = join(base, 'tree');
  await mkdir(join(t, 'b/deep'), { recursive: true });
  await writeFile(join(t, 'b/deep/x'), 'content that must not be in the skeleton');
  await writeFile(join(t, 'a'), 'a');
  await link(join(t, 'a'), join(t, 'b/hard-a'));
  await symlink('../a', join(t, 'b/to-a'));
  await symlink('x'.repeat(150), join(t, 'dangling-long'));
  const long = join(t, 'n'.repeat(90), 'm'.repeat(60));
  await mkdir(join(t, 'n'.repeat(90)));
  await writeFile(long, '');
  await writeFile(join(t, 'é ü'), 'utf8 name');
  execFileSync('mkfifo', [join(t, 'fifo')]);
  execFileSync('chown', ['-h', '3000000:70000', join(t, 'b/to-a')]);
  execFileSync('chmod', ['4750', join(t, 'b/deep/x')]);
  await utimes(join(t, 'a'), 1, 1.5);
  execFileSync('touch', ['-h', '-m', '-d', '@1700000000.123456789', join(t, 'b/deep/x'), join(t, 'b/deep')]);
  return { base, tree: t };
}

function gnuSkeleton(t: string, base: string): Buffer {
  const scratch = join(base, 'scratch');
  execFileSync('cp', ['-a', '--attributes-only', '-T', t, scratch]);
  const out = join(base, 'gnu.tar');
  // the options of the GNU tar way itself, so the comparison follows them
  execFileSync('tar', ['-C', scratch, ...TAR_CREATE, '-cf', out, '.']);
  return readFileSync(out);
}

describe('writeSkeletonTar', () => {
  it('writes the bytes GNU tar makes of an attributes-only copy', async () => {
    const { base, tree: t } = await tree();
    const out = join(base, 'mine.tar');
    expect(await writeSkeletonTar(t, out, signal)).toBe(true);
    const mine = readFileSync(out);
    expect(mine.equals(gnuSkeleton(t, base))).toBe(true);
    expect(mine.includes('content that must not')).toBe(false);
  });

  it.each([
    ['an extended attribute', (p: string) => execFileSync('setfattr', ['-n', 'user.k', '-v', 'v', p])],
    ['an ACL', (p: string) => execFileSync('setfacl', ['-m', 'u:1234:r', p])],
  ])('leaves a tree with %s to GNU tar, which keeps it', async (_name, mark) => {
    const { base, tree: t } = await tree();
    mark(join(t, 'b/deep/x'));
    const out = join(base, 'mine.tar');
    expect(await writeSkeletonTar(t, out, signal)).toBe(false);
    await makeSkeleton(t, join(base, 'scratch2'), out, signal);
    const listed = execFileSync('tar', ['--xattrs', '--acls', '-tvvf', out], { encoding: 'utf8' });
    expect(listed).toMatch(/\.\/b\/deep\/x/);
    expect(readFileSync(out).includes('SCHILY.')).toBe(true);
  });
});
