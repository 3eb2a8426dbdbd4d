// The tar device filter against archives made by the real GNU tar (gnu and posix formats, as the
// volume readers and the remote packer write them): devices are dropped with their long-name and
// pax records, everything else passes byte for byte (hard links, sparse files with extension
// blocks, xattrs, ACLs, fifos, a file whose content is itself a tar of a device), whatever the
// chunking. Runs as root (mknod), no Docker.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { TarDeviceFilter, type MemberHash } from '../../src/backup/tar-device-filter.js';

const root = mkdtempSync(join(tmpdir(), 'bbt-dur-tar-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const sh = (script: string, cwd = root) =>
  execFileSync('bash', ['-euo', 'pipefail', '-c', script], { cwd, encoding: 'utf8' });
const LONG = `${'deep-folder-name-'.repeat(5)}/${'x'.repeat(60)}`;

/** A volume-like folder with everything the filter must keep, and four device nodes. */
function makeSource(): string {
  const src = join(root, 'src');
  sh(`mkdir -p src/sub '${`src/${LONG.split('/')[0]}`}' && cd src
    printf 'hello' > file && ln file hard && ln -s file link && mkfifo fifo
    printf x > suid && chmod 4755 suid
    mknod sub/null0 c 1 3 && mknod loop0 b 7 0 && mknod '${LONG}' c 1 5 && mknod 'ünïcode-dev' c 1 7
    ln sub/null0 sub/null0-again  # a hard link to a device: goes with it
    # sparse with more holes than an old GNU header holds (extension blocks follow it)
    for i in $(seq 0 9); do printf 'block%d' $i | dd of=sparse bs=1 seek=$((i * 1048576)) conv=notrunc status=none; done
    printf 'data' > attrs && setfattr -n user.color -v blue attrs && setfacl -m u:4242:rw attrs
    # a file whose bytes are a tar holding a device: data, never headers
    tar -cf ../inner.tar sub/null0 && cp ../inner.tar inner.tar`);
  return src;
}

const listing = (archive: Buffer) =>
  execFileSync('tar', ['--numeric-owner', '-tvf', '-'], { input: archive, encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)
    .map((l) => l.replace(/\s+/g, ' '))
    .sort();

async function filter(
  archive: Buffer,
  chunk: number,
  onMember?: (m: MemberHash) => void,
): Promise<{ out: Buffer; f: TarDeviceFilter }> {
  const parts: Buffer[] = [];
  for (let i = 0; i < archive.length; i += chunk) parts.push(archive.subarray(i, i + chunk));
  const f = new TarDeviceFilter('test volume', onMember);
  const out: Buffer[] = [];
  Readable.from(parts).pipe(f);
  for await (const c of f) out.push(c as Buffer);
  return { out: Buffer.concat(out), f };
}

describe('tar device filter', () => {
  const src = makeSource();
  const formats = [
    ['gnu', ['--numeric-owner', '--xattrs', '--xattrs-include=*', '--acls', '--sparse']],
    ['posix', ['--format=posix', '--numeric-owner', '--xattrs', '--xattrs-include=*', '--acls', '--sparse']],
  ] as const;
  for (const [format, flags] of formats) {
    const archive = execFileSync('tar', ['-C', src, ...flags, '-cf', '-', '.'], { maxBuffer: 1 << 28 });
    const isDevice = (l: string) => /^[cb]/.test(l) || l.endsWith('link to ./sub/null0');
    const devices = listing(archive).filter(isDevice);
    it.each([1, 7, 512, 513, 10240, 1 << 20])(`${format}: drops exactly the devices, chunk %i`, async (chunk) => {
      expect(devices).toHaveLength(5);
      const { out, f } = await filter(archive, chunk);
      expect(listing(out)).toEqual(listing(archive).filter((l) => !isDevice(l)));
      expect(f.skipped.count).toBe(5);
      expect([...f.skipped.paths].sort()).toEqual(
        [LONG, 'loop0', 'sub/null0', 'sub/null0-again', 'ünïcode-dev'].sort(),
      );
      // what is left extracts cleanly and keeps sparse data, links, xattrs, ACLs and setuid
      const dest = join(root, `x-${format}-${chunk}`);
      sh(`mkdir '${dest}'`);
      execFileSync('tar', ['-C', dest, '--numeric-owner', '--xattrs', '--xattrs-include=*', '--acls', '-xpf', '-'], {
        input: out,
      });
      const probe = sh(
        `cd '${dest}'; find . \\( -type c -o -type b \\) | wc -l; stat -c '%h %a' file suid; getfattr -n user.color --only-values attrs; echo; cmp sparse '${src}/sparse' && echo same; cmp inner.tar '${src}/inner.tar' && echo inner; stat -c %F fifo`,
      );
      expect(probe.split('\n')).toEqual(['0', '2 644', '1 4755', 'blue', 'same', 'inner', 'fifo', '']);
    });
  }

  it.each([1, 511, 4096, 1 << 20])(
    'hashes each regular file as it passes (stream mode, posix format, chunk %i), sparse members excepted',
    async (chunk) => {
      sh(
        `rm -rf h && mkdir -p h && cd h && printf 'hello' > a && : > empty && ln a a-hard && mkdir -p '${LONG.split('/')[0]}' && head -c 100000 /dev/urandom > '${LONG}' && truncate -s 3M holes && printf x >> holes && ln -sf a sym`,
      );
      const archive = execFileSync('tar', ['-C', join(root, 'h'), '--format=posix', '--sparse', '-cf', '-', '.'], {
        maxBuffer: 1 << 28,
      });
      const seen: MemberHash[] = [];
      const { out } = await filter(archive, chunk, (m) => seen.push(m));
      expect(out.equals(archive)).toBe(true);
      const sha = (p: string) =>
        createHash('sha256')
          .update(readFileSync(join(root, 'h', p)))
          .digest('hex');
      expect(seen.map((m) => m.path).sort()).toEqual([LONG, 'a', 'empty'].sort());
      for (const m of seen)
        expect(m).toEqual({ path: m.path, size: readFileSync(join(root, 'h', m.path)).length, sha256: sha(m.path) });
    },
  );

  it('reads a pax size= that overrides the header (as Docker writes files over 8 GiB)', async () => {
    const entries = [
      paxHeader({ size: '5' }),
      header('big', '0', 0),
      pad(Buffer.from('12345')),
      header('dev', '3', 0),
      header('after', '0', 3),
      pad(Buffer.from('abc')),
      Buffer.alloc(1024),
    ];
    const archive = Buffer.concat(entries);
    expect(listing(archive).map((l) => l.split(' ').at(-1))).toEqual(['after', 'big', 'dev']);
    const { out, f } = await filter(archive, 100);
    expect(listing(out).map((l) => l.split(' ').at(-1))).toEqual(['after', 'big']);
    expect(f.skipped).toEqual({ count: 1, paths: ['dev'] });
  });

  it('fails on a stream whose framing it cannot follow, instead of passing it on', async () => {
    const bad = Buffer.concat([header('a', '0', 3), pad(Buffer.from('abc'))]);
    bad[0] = 0x41; // name changed, checksum not
    await expect(filter(bad, 512)).rejects.toThrow(/not understood at byte 0/);
  });
});

function header(name: string, type: string, size: number): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 'utf8');
  h.write('0000644\0', 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  h.write(`${size.toString(8).padStart(11, '0')}\0`, 124);
  h.write('00000000000\0', 136);
  h.write(type, 156);
  if (type === '3') {
    h.write('0000001\0', 329);
    h.write('0000003\0', 337);
  }
  h.write('ustar\x0000', 257, 'latin1');
  h.write('        ', 148);
  let sum = 0;
  for (const x of h) sum += x;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return h;
}

function paxHeader(records: Record<string, string>): Buffer {
  const body = Object.entries(records)
    .map(([k, v]) => {
      const rest = ` ${k}=${v}\n`;
      let len = rest.length + 1;
      while (`${len}${rest}`.length !== len) len++;
      return `${len}${rest}`;
    })
    .join('');
  return Buffer.concat([header('PaxHeader', 'x', body.length), pad(Buffer.from(body))]);
}

function pad(b: Buffer): Buffer {
  return Buffer.concat([b, Buffer.alloc((512 - (b.length % 512)) % 512)]);
}
