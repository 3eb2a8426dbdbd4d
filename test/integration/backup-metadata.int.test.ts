// Tree snapshots keep what a restore needs to be exact (DESIGN §3): numeric uid/gid, modes,
// sub-second mtimes, symlinks, hard links inside the volume, empty dirs, sparse files, xattrs
// and ACLs, whether rsync runs on the host or in a helper container. The archive format keeps
// the same through GNU tar, streamed through zstd or gzip.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { VolumeItem } from '../../src/store/manifest.js';
import { testDocker } from '../helpers/docker.js';
import { makeVolume, runBackup, sh, tempDir, testConfig, volumesOnly } from './backup-helpers.js';

function fillTricky(mountpoint: string): void {
  sh(`cd '${mountpoint}'
    mkdir -p empty/deeper owned sub
    printf 'hello' > owned/file && chown 12345:54321 owned/file && chmod 0640 owned/file
    chown 2000:3000 owned && chmod 0751 owned
    printf 'x' > setuid && chmod 4755 setuid
    touch -d '2021-03-04 05:06:07.123456789' sub/precise
    ln -s ../owned/file sub/link && ln -s /nonexistent dangling
    printf 'shared' > sub/a && ln sub/a sub/b
    truncate -s 64M sparse && printf 'end' >> sparse
    printf 'data' > attrs && setfattr -n user.color -v blue attrs && setfacl -m u:4242:rw attrs
    mkfifo fifo
    chmod 0700 empty/deeper`);
}

/** A listing of everything that must survive: type, mode, owner, mtime (ns), size, link target, blocks, xattrs, ACLs. */
function describeTree(root: string): string {
  return sh(`cd '${root}' && find . -mindepth 1 | LC_ALL=C sort | while read -r p; do
      printf '%s %s\\n' "$p" "$(stat -c '%F %a %u:%g %.9Y %s %h' "$p")"
      [ -L "$p" ] && printf '  -> %s\\n' "$(readlink "$p")"
      [ -f "$p" ] && [ ! -L "$p" ] && printf '  sha %s\\n' "$(sha256sum < "$p" | cut -c1-16)"
      getfattr -h -d --absolute-names "$p" 2>/dev/null | grep -v '^#' | grep . || true
      getfacl -p -c "$p" 2>/dev/null | grep -E '^user:[0-9]' || true
    done`);
}

const sparseBlocks = (path: string) => Number(sh(`stat -c %b '${path}'`).trim());

describe.each(['host', 'worker'] as const)('tree snapshot in %s mode', (mode) => {
  it('keeps owners, modes, times, links, empty dirs, sparse files, xattrs and ACLs', async () => {
    const store = await tempDir();
    const vol = await makeVolume(`bk-meta-${mode}`);
    fillTricky(vol.mountpoint);
    const { result } = await runBackup(
      { volumes: [vol.name], scope: volumesOnly },
      testConfig(store, { volumes: { mode } }),
    );
    expect(result.errors).toEqual([]);
    if (result.value?.dryRun !== false) throw new Error('expected a backup');
    expect(result.value.plan.volumes[0]!.mode).toBe(mode);
    const tree = join(result.value.dir, 'volumes', vol.name);
    const source = describeTree(vol.mountpoint);
    expect(source).toContain('user.color="blue"');
    expect(source).toContain('user:4242:rw-');
    expect(source).toContain('.123456789');
    expect(describeTree(tree)).toBe(source);
    // hard link inside the volume stays one inode; the sparse file stays sparse
    expect(sh(`stat -c %i '${tree}/sub/a' '${tree}/sub/b' | uniq | wc -l`).trim()).toBe('1');
    expect(sparseBlocks(join(tree, 'sparse'))).toBeLessThan(1024);
    // the index records numeric owners and nanosecond mtimes
    const index = sh(`cat '${result.value.dir}/volumes/${vol.name}.index.jsonl'`);
    expect(index).toContain('"p":"owned/file","t":"f","mode":416,"uid":12345,"gid":54321');
    expect(index).toMatch(/"p":"sub\/precise".*"mtime":"1614834367123456789"/);
    expect(index).toContain('"p":"sub/link","t":"l"');
    expect(index).toContain('"link":"../owned/file"');
    // no helper container outlives the run
    const helpers = await testDocker().listContainers({ all: true, filters: { label: ['bbackup.helper=1'] } });
    expect(helpers.filter((h) => h.Labels['bbackup.owner']?.endsWith(`:${process.pid}`))).toEqual([]);
  });
});

describe.each([
  ['host', 'zstd', '--zstd'],
  ['worker', 'gzip', '--gzip'],
] as const)('archive format (%s, %s)', (mode, method, tarFlag) => {
  it('stores a compressed GNU tar that lists and extracts with owners, modes, times, xattrs', async () => {
    const store = await tempDir();
    const vol = await makeVolume(`bk-arch-${mode}`);
    fillTricky(vol.mountpoint);
    const { result } = await runBackup(
      { volumes: [vol.name], scope: volumesOnly, compression: { method, level: 3 } },
      testConfig(store, { volumes: { mode, format: 'archive' } }),
    );
    expect(result.errors).toEqual([]);
    if (result.value?.dryRun !== false) throw new Error('expected a backup');
    const item = result.value.manifest.items.find((i): i is VolumeItem => i.kind === 'volume')!;
    expect(item.format).toBe('archive');
    expect(item.compression).toBe(method);
    const archive = join(result.value.dir, item.files[0]!.path);
    expect(archive.endsWith(method === 'zstd' ? '.tar.zst' : '.tar.gz')).toBe(true);
    const listing = sh(`tar ${tarFlag} --numeric-owner -tvf '${archive}'`);
    expect(listing).toMatch(/-rw-r----- 12345\/54321\s+5 .* \.\/owned\/file/);
    expect(listing).toContain('./sub/link -> ../owned/file');
    expect(listing).toMatch(/\.\/sub\/[ab] link to \.\/sub\/[ab]/);
    const out = await tempDir();
    await mkdir(join(out, 'x'));
    sh(`tar ${tarFlag} --xattrs --xattrs-include='*' --acls --numeric-owner -xpf '${archive}' -C '${out}/x'`);
    expect(describeTree(join(out, 'x'))).toBe(describeTree(vol.mountpoint));
    // the manifest's sha256 is the stored file's
    expect(sh(`sha256sum '${archive}'`).split(' ')[0]).toBe(item.files[0]!.sha256);
  });
});
