// A tree's skeleton written in-process, for trees with nothing only GNU tar keeps right: no
// extended attribute or ACL on any entry (one `getfattr -R` says so), no device node, names and
// link targets that are UTF-8. A walk of lstat calls then gives the same entries as skeleton.ts's
// `cp -a --attributes-only` + `tar` (directories, empty regular files, symlinks, fifos, hard links
// within the tree; numeric owners, modes, nanosecond mtimes; names sorted bytewise, as
// `tar --sort=name`) without creating and removing an inode per entry in a scratch tree, which
// was the whole fixed cost of an incremental upload (seconds per 5,000 files). Any other tree,
// or no getfattr on the host, goes the cp + tar way.
import type { BigIntStats } from 'node:fs';
import { lstat, open, readdir, readlink, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';

const BLOCK = 512;
const RECORD = 20 * BLOCK;
const MAX_ID = 0o7777777;
const STAT_BATCH = 256;

/** "%d key=value\n" with the length counting itself */
function paxRecord(key: string, value: Buffer): Buffer {
  const base = Buffer.byteLength(key) + value.length + 3;
  let len = base + String(base).length;
  if (String(len).length + base !== len) len = base + String(len).length;
  return Buffer.concat([Buffer.from(`${len} ${key}=`), value, Buffer.from('\n')]);
}

function octal(h: Buffer, at: number, width: number, v: number): void {
  h.write(v.toString(8).padStart(width - 1, '0') + '\0', at, width, 'ascii');
}

function header(
  name: Buffer,
  type: string,
  mode: number,
  uid: number,
  gid: number,
  size: number,
  mtime: number,
  link?: Buffer,
): Buffer {
  const h = Buffer.alloc(BLOCK);
  name.copy(h, 0, 0, Math.min(100, name.length));
  octal(h, 100, 8, mode);
  octal(h, 108, 8, uid > MAX_ID ? 0 : uid);
  octal(h, 116, 8, gid > MAX_ID ? 0 : gid);
  octal(h, 124, 12, size);
  octal(h, 136, 12, mtime);
  h.fill(0x20, 148, 156);
  h.write(type, 156, 1, 'ascii');
  if (link) link.copy(h, 157, 0, Math.min(100, link.length));
  h.write('ustar\0', 257, 6, 'ascii');
  h.write('00', 263, 2, 'ascii');
  if (type !== 'x') {
    octal(h, 329, 8, 0); // device numbers: zero, as GNU tar writes them in an entry's header
    octal(h, 337, 8, 0);
  }
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += h[i]!;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'ascii');
  return h;
}

const utf8 = (b: Buffer): boolean => Buffer.from(b.toString('utf8'), 'utf8').equals(b);
const ascii = (b: Buffer): boolean => b.every((c) => c < 0x80);

class Unsupported extends Error {}

/** The header blocks of one entry: a pax header (mtime in ns; long names; large ids), then the ustar one. */
function entry(name: Buffer, type: string, st: BigIntStats, link?: Buffer): Buffer[] {
  if (!utf8(name) || (link && !ascii(link))) throw new Unsupported();
  const ns = st.mtimeNs;
  if (ns < 0n) throw new Unsupported();
  const sec = ns / 1_000_000_000n;
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  const uid = Number(st.uid);
  const gid = Number(st.gid);
  // GNU tar's records, in its order: linkpath (100 bytes or more), path (over 100 bytes or not
  // ASCII), ids over 7 octal digits, mtime
  const records: Buffer[] = [];
  if (link && link.length >= 100) records.push(paxRecord('linkpath', link));
  if (name.length > 100 || !ascii(name)) records.push(paxRecord('path', name));
  if (uid > MAX_ID) records.push(paxRecord('uid', Buffer.from(String(uid))));
  if (gid > MAX_ID) records.push(paxRecord('gid', Buffer.from(String(gid))));
  records.push(paxRecord('mtime', Buffer.from(frac ? `${sec}.${frac}` : `${sec}`)));
  const pax = Buffer.concat(records);
  // GNU tar's name for it: "%d/PaxHeaders/%f"
  const trimmed = name.toString('utf8').replace(/\/$/, '');
  const cut = trimmed.lastIndexOf('/');
  const paxName = Buffer.from(
    cut < 0 ? `./PaxHeaders/${trimmed}` : `${trimmed.slice(0, cut)}/PaxHeaders/${trimmed.slice(cut + 1)}`,
  ).subarray(0, 100);
  const mtime = Number(sec);
  return [
    header(paxName, 'x', 0o644, 0, 0, pax.length, mtime),
    pax,
    Buffer.alloc((BLOCK - (pax.length % BLOCK)) % BLOCK),
    header(name, type, Number(st.mode) & 0o7777, uid, gid, 0, mtime, link),
  ];
}

async function anyXattr(tree: string, signal: AbortSignal): Promise<boolean> {
  try {
    const r = await execa('getfattr', ['-R', '-P', '-h', '-m', '-', '--absolute-names', tree], {
      cancelSignal: signal,
      stdin: 'ignore',
      env: { LC_ALL: 'C' },
    });
    return r.stdout.trim().length > 0;
  } catch {
    return true; // no getfattr, or it failed: let GNU tar do it
  }
}

/**
 * Write the skeleton of `tree` to `out`; false (and no `out`) when the tree needs GNU tar (see
 * the file's head). The tree is a backup's own folder: nothing else changes it meanwhile.
 */
export async function writeSkeletonTar(tree: string, out: string, signal: AbortSignal): Promise<boolean> {
  const xattrs = anyXattr(tree, signal);
  xattrs.catch(() => undefined);
  const fh = await open(out, 'wx', 0o600);
  let ok = false;
  try {
    let parts: Buffer[] = [];
    let length = 0;
    let written = 0;
    const flush = async () => {
      const b = Buffer.concat(parts, length);
      parts = [];
      length = 0;
      await fh.write(b);
      written += b.length;
    };
    const add = async (bs: Buffer[]) => {
      for (const b of bs) {
        parts.push(b);
        length += b.length;
      }
      if (length >= 1 << 20) await flush();
    };
    const links = new Map<string, Buffer>();
    const walk = async (abs: string, name: Buffer, st: BigIntStats): Promise<void> => {
      signal.throwIfAborted();
      await add(entry(Buffer.concat([name, Buffer.from('/')]), '5', st));
      const children = (await readdir(abs, { encoding: 'buffer' })).sort(Buffer.compare);
      // lstat a batch at a time, asynchronously: the TUI runs uploads in its own process, and a
      // folder of a million files must not hold its event loop for seconds
      let batch: Promise<BigIntStats>[] = [];
      for (let i = 0; i < children.length; i++) {
        const c = children[i]!;
        const childAbs = join(abs, c.toString('utf8'));
        const childName = Buffer.concat([name, Buffer.from('/'), c]);
        if (!utf8(c)) throw new Unsupported();
        if (i % STAT_BATCH === 0)
          batch = children.slice(i, i + STAT_BATCH).map((n) => lstat(join(abs, n.toString('utf8')), { bigint: true }));
        const cs = await batch[i % STAT_BATCH]!;
        if (cs.isDirectory()) await walk(childAbs, childName, cs);
        else if (cs.isFile()) {
          const key = `${cs.dev}:${cs.ino}`;
          const first = cs.nlink > 1n ? links.get(key) : undefined;
          if (first) await add(entry(childName, '1', cs, first));
          else {
            if (cs.nlink > 1n) links.set(key, childName);
            await add(entry(childName, '0', cs));
          }
        } else if (cs.isSymbolicLink())
          await add(entry(childName, '2', cs, await readlink(childAbs, { encoding: 'buffer' })));
        else if (cs.isFIFO()) await add(entry(childName, '6', cs));
        else if (!cs.isSocket()) throw new Unsupported(); // a device node: GNU tar's way (sockets: tar leaves them out too)
      }
    };
    const root = await lstat(tree, { bigint: true });
    if (!root.isDirectory()) return false;
    // tar -C scratch . names the root "./" and the rest "./a/b"
    await walk(tree, Buffer.from('.'), root);
    await add([Buffer.alloc(2 * BLOCK)]);
    const total = written + length;
    await add([Buffer.alloc((RECORD - (total % RECORD)) % RECORD)]);
    await flush();
    if (await xattrs) return false;
    ok = true;
    return true;
  } catch (err) {
    if (err instanceof Unsupported) return false;
    throw err;
  } finally {
    await fh.close();
    if (!ok) await rm(out, { force: true });
  }
}
