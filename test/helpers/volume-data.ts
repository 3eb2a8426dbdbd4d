// Test data for volume round trips, written on the host into a volume's Mountpoint with the real
// tools (owners, modes incl. setuid, nanosecond mtimes, symlinks, hard links, empty dirs, a sparse
// file, a fifo, xattrs), and a full description of a tree to compare two volumes by.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { chmod, chown, link, lstat, mkdir, readdir, readlink, symlink, truncate, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type Docker from 'dockerode';
import { execa } from 'execa';

export async function mountpointOf(docker: Docker, volume: string): Promise<string> {
  return ((await docker.getVolume(volume).inspect()) as { Mountpoint: string }).Mountpoint;
}

/**
 * Fill a directory with every kind of entry a restore must keep. `sparseBytes`: the size of
 * sparse.img (sparse-with-data.img is an eighth of it); tests whose tools write holes out as
 * zeros pass a small one.
 */
export async function fillRichTree(root: string, o: { sparseBytes?: number } = {}): Promise<void> {
  const sparse = o.sparseBytes ?? 64 * 1024 * 1024;
  await mkdir(join(root, 'etc/conf.d'), { recursive: true });
  await mkdir(join(root, 'empty/nested-empty'), { recursive: true });
  await writeFile(join(root, 'etc/app.conf'), 'listen = 8080\n');
  await writeFile(join(root, 'etc/conf.d/secret.key'), 'k'.repeat(4096));
  await chmod(join(root, 'etc/conf.d/secret.key'), 0o600);
  await chown(join(root, 'etc/conf.d/secret.key'), 1234, 5678);
  await writeFile(join(root, 'bin-tool'), '#!/bin/sh\necho hi\n');
  await chmod(join(root, 'bin-tool'), 0o4755);
  await chown(join(root, 'etc'), 999, 999);
  await writeFile(join(root, 'data.bin'), createHash('sha512').update('seed').digest().toString('hex').repeat(3000));
  await link(join(root, 'data.bin'), join(root, 'etc/data-hardlink.bin'));
  await symlink('etc/app.conf', join(root, 'config-link'));
  await symlink('/var/lib/elsewhere', join(root, 'absolute-link'));
  await writeFile(join(root, 'sparse.img'), '');
  await truncate(join(root, 'sparse.img'), sparse);
  await writeFile(join(root, 'sparse-with-data.img'), 'head');
  await truncate(join(root, 'sparse-with-data.img'), sparse / 8);
  await execa('mkfifo', [join(root, 'a-fifo')]);
  await writeFile(join(root, 'name with spaces & ünïcode.txt'), 'x');
  await execa('setfattr', ['-n', 'user.origin', '-v', 'bbackup-test', join(root, 'etc/app.conf')]);
  await execa('setfattr', ['-n', 'trusted.secret', '-v', '0xdeadbeef', join(root, 'data.bin')]);
  await execa('setfacl', ['-m', 'u:4321:r--', join(root, 'etc/app.conf')]).catch(() => undefined);
  const times = [
    ['etc/app.conf', '2023-05-06 07:08:09.123456789'],
    ['data.bin', '2021-01-01 00:00:00.000000001'],
    ['empty', '2020-02-29 12:34:56.987654321'],
    ['etc', '2019-12-31 23:59:59.5'],
  ];
  for (const [p, t] of times) await execa('touch', ['-m', '-d', t!, join(root, p!)]);
  await execa('touch', ['-h', '-m', '-d', '2022-02-22 22:22:22.222222222', join(root, 'config-link')]);
}

export interface EntryDescription {
  type: string;
  mode: number;
  uid: number;
  gid: number;
  mtimeNs: string;
  size?: number;
  sha256?: string;
  link?: string;
  /** entries sharing an inode carry the same group (first path of the group) */
  hardLinkGroup?: string;
  /** sparse files: allocated 512-byte blocks */
  blocks?: number;
  xattrs: string;
}

/** Everything a restore must preserve, per relative path (the root's own mtime is left out: writing into it changes it). */
export async function describeTree(root: string): Promise<Record<string, EntryDescription>> {
  const out: Record<string, EntryDescription> = {};
  const inodes = new Map<bigint, string>();
  const xattrsOf = await treeXattrs(root);
  const walk = async (rel: string): Promise<void> => {
    const path = rel ? join(root, rel) : root;
    const st = await lstat(path, { bigint: true });
    const type = st.isFile()
      ? 'file'
      : st.isDirectory()
        ? 'dir'
        : st.isSymbolicLink()
          ? 'symlink'
          : st.isFIFO()
            ? 'fifo'
            : 'other';
    const e: EntryDescription = {
      type,
      mode: Number(st.mode),
      uid: Number(st.uid),
      gid: Number(st.gid),
      mtimeNs: rel ? String(st.mtimeNs) : '(root)',
      xattrs: xattrsOf.get(resolve(path)) ?? '',
    };
    if (type === 'file') {
      e.size = Number(st.size);
      e.sha256 = createHash('sha256').update(readFileSync(path)).digest('hex');
      if (st.nlink > 1n) {
        e.hardLinkGroup = inodes.get(st.ino) ?? rel;
        inodes.set(st.ino, e.hardLinkGroup);
      }
      if (rel.includes('sparse')) e.blocks = Number(st.blocks);
    }
    if (type === 'symlink') e.link = await readlink(path);
    out[rel || '.'] = e;
    if (type === 'dir') for (const name of (await readdir(path)).sort()) await walk(rel ? `${rel}/${name}` : name);
  };
  await walk('');
  // A link group is paths of this tree sharing an inode. A file whose other names lie outside the
  // tree (an unchanged file hard-linked to the same file of an earlier backup in the store) is in no
  // group: that link is how the store saves space, not part of the volume.
  const members = new Map<string, number>();
  for (const e of Object.values(out))
    if (e.hardLinkGroup) members.set(e.hardLinkGroup, (members.get(e.hardLinkGroup) ?? 0) + 1);
  for (const e of Object.values(out)) if (e.hardLinkGroup && members.get(e.hardLinkGroup) === 1) delete e.hardLinkGroup;
  return out;
}

/**
 * Every extended attribute (all namespaces, links not followed) of every entry under root, by
 * absolute path: one getfattr for the whole tree (one per entry costs a process per file). getfattr
 * prints only entries that have attributes, and writes bytes of a name that need it as \ooo.
 */
async function treeXattrs(root: string): Promise<Map<string, string>> {
  const { stdout } = await execa('getfattr', ['-R', '-h', '-d', '-m', '-', '--absolute-names', root], {
    reject: false,
    encoding: 'buffer',
  });
  const out = new Map<string, string>();
  const utf8 = (latin1: string) => Buffer.from(latin1, 'latin1').toString('utf8');
  for (const block of Buffer.from(stdout).toString('latin1').split('\n\n')) {
    const [head, ...attrs] = block.split('\n').filter((l) => l !== '');
    if (!head?.startsWith('# file: ')) continue;
    const path = utf8(head.slice(8).replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))));
    out.set(resolve(path), utf8(attrs.map((l) => `${l}\n`).join(''))); // one line each, as getfattr prints them
  }
  return out;
}
