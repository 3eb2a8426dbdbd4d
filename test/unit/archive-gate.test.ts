// The archive scanner on archives built byte by byte (every header trick the scanner must model or
// refuse), in both uses: the preflight check (checkArchive, through the real zstd) and the gate in
// the extraction stream, whose output the real GNU tar extracts. Also: a file swapped between the
// check and the extraction is caught, and the gate passes benign archives through unchanged.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TarGate } from '../../src/archive/tar-gate.js';
import { checkArchive } from '../../src/restore/archive-check.js';
import {
  archive,
  dir,
  END,
  entry,
  file,
  hardlink,
  header,
  longName,
  pax,
  paxBody,
  symlink,
} from '../helpers/tar-build.js';

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'bbt-untr-gate-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** A pax sparse 1.0 entry: map text, then regions (each given as its byte count of "d"). */
function paxSparse(
  name: string,
  map: [number, number][],
  realsize: number,
  opts: { sizeDelta?: number; extra?: [string, string][] } = {},
): Buffer {
  const text = Buffer.from(`${map.length}\n${map.map(([o, n]) => `${o}\n${n}\n`).join('')}`);
  const mapBlock = Buffer.concat([text, Buffer.alloc((512 - (text.length % 512)) % 512)]);
  const regions = Buffer.concat(map.map(([, n]) => Buffer.alloc(n, 'd')));
  const data = Buffer.concat([mapBlock, regions]);
  const records: [string, string][] = [
    ['GNU.sparse.major', '1'],
    ['GNU.sparse.minor', '0'],
    ['GNU.sparse.name', name],
    ['GNU.sparse.realsize', String(realsize)],
    ...(opts.extra ?? []),
  ];
  return Buffer.concat([
    pax(records),
    entry({ name: `GNUSparseFile.1/${name}`, data, size: data.length + (opts.sizeDelta ?? 0) }),
  ]);
}

/** An old GNU "S" header with map entries (and extension blocks when there are more than 4). */
function oldSparse(
  name: string,
  map: [number, number][],
  realsize: number,
  opts: { extendedAfterEnd?: boolean; sizeDelta?: number } = {},
): Buffer {
  const o = (n: number) => n.toString(8).padStart(11, '0') + '\0';
  const total = map.reduce((a, [, n]) => a + n, 0);
  const head = header({
    name,
    type: 'S',
    magic: 'gnu',
    size: total + (opts.sizeDelta ?? 0),
    edit: (h) => {
      map.slice(0, 4).forEach(([off, n], i) => {
        h.write(o(off), 386 + i * 24, 'latin1');
        h.write(o(n), 386 + i * 24 + 12, 'latin1');
      });
      h[482] = map.length > 4 || opts.extendedAfterEnd ? 1 : 0;
      h.write(o(realsize), 483, 'latin1');
    },
  });
  const ext: Buffer[] = [];
  for (let i = 4; i < map.length || (opts.extendedAfterEnd && ext.length === 0); i += 21) {
    const b = Buffer.alloc(512);
    map.slice(i, i + 21).forEach(([off, n], j) => {
      b.write(o(off), j * 24, 'latin1');
      b.write(o(n), j * 24 + 12, 'latin1');
    });
    b[504] = i + 21 < map.length ? 1 : 0;
    ext.push(b);
  }
  const data = Buffer.alloc(Math.ceil((total + (opts.sizeDelta ?? 0)) / 512) * 512, 'd');
  return Buffer.concat([head, ...ext, data]);
}

const sizeField = (bytes: number[] | string) => (h: Buffer) => {
  h.fill(0, 124, 136);
  if (typeof bytes === 'string') h.write(bytes, 124, 'latin1');
  else Buffer.from(bytes).copy(h, 124);
};

const hostile: { name: string; tar: Buffer; reason: RegExp }[] = [
  {
    name: 'a global pax header renaming every later entry',
    tar: archive(pax([['path', '../evil']], 'g'), file('ok')),
    reason: /global pax header.*"path"/,
  },
  {
    name: 'two pax headers for one entry (GNU tar uses only the second)',
    tar: archive(pax([['path', 'safe']]), pax([['comment', 'c']]), file('../evil')),
    reason: /two "x" records/,
  },
  {
    name: 'a pax path overriding a harmless header name',
    tar: archive(pax([['path', '../../etc/cron.d/x']]), file('fine')),
    reason: /"\.\." component/,
  },
  { name: 'a GNU long name with ..', tar: archive(longName('a/../../x'), file('fine')), reason: /"\.\." component/ },
  {
    name: 'a GNU long link: hard link to /etc/passwd',
    tar: archive(longName('/etc/passwd', 'K'), hardlink('h', 'harmless')),
    reason: /hard link to \/etc\/passwd: absolute path/,
  },
  { name: 'a hard link to /etc/passwd', tar: archive(hardlink('h', '/etc/passwd')), reason: /absolute path/ },
  { name: 'a hard link outward with ..', tar: archive(hardlink('h', '../../etc/shadow')), reason: /"\.\." component/ },
  {
    name: 'a symlink, then a file through it',
    tar: archive(symlink('l', '/etc'), file('l/passwd')),
    reason: /goes through the symlink l/,
  },
  {
    name: 'a symlink replaced by a directory, then a file in it',
    tar: archive(symlink('l', '/etc'), dir('l'), file('l/x')),
    reason: /replaces the symlink l/,
  },
  {
    name: 'a hard link to a symlink (is a symlink), then a file through it',
    tar: archive(symlink('l', '/etc'), hardlink('h', 'l'), file('h/passwd')),
    reason: /goes through the symlink h/,
  },
  {
    name: 'a hard link to a later entry',
    tar: archive(hardlink('h', 'later'), file('later')),
    reason: /not an earlier file/,
  },
  { name: 'a character device', tar: archive(entry({ name: 'sda', type: '3' })), reason: /character device/ },
  { name: 'a block device', tar: archive(entry({ name: 'sda', type: '4' })), reason: /block device/ },
  { name: 'an absolute path', tar: archive(file('/etc/passwd')), reason: /absolute path/ },
  {
    name: 'a ustar prefix making the path absolute',
    tar: archive(entry({ name: 'passwd', prefix: '/etc', data: 'x' })),
    reason: /absolute path/,
  },
  { name: 'a pax size with junk', tar: archive(pax([['size', '1e3']]), file('f')), reason: /malformed pax size/ },
  {
    name: 'a negative base-256 size',
    tar: archive(
      entry({ name: 'f', edit: sizeField([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe]) }),
    ),
    reason: /malformed size/,
  },
  {
    name: 'a size field with trailing junk',
    tar: archive(entry({ name: 'f', edit: sizeField('0000000001 9') })),
    reason: /malformed size/,
  },
  {
    name: 'a base-64 size (old GNU test versions)',
    tar: archive(entry({ name: 'f', edit: sizeField('+AAAAAAAAAB') })),
    reason: /malformed size/,
  },
  {
    name: 'a header with a wrong checksum',
    tar: archive(file('ok'), entry({ name: '../x', badChecksum: 1 })),
    reason: /checksum/,
  },
  {
    name: 'a symlink that carries data',
    tar: archive(entry({ name: 'l', type: '2', linkname: 'x', data: header({ name: '../escape' }) })),
    reason: /declares 512 bytes/,
  },
  {
    name: 'a directory that carries data',
    tar: archive(entry({ name: 'd', type: '5', data: header({ name: '../escape' }) })),
    reason: /declares 512 bytes/,
  },
  {
    name: 'a file named like a directory that carries data',
    tar: archive(entry({ name: 'd/', data: header({ name: '../escape' }) })),
    reason: /named like a directory carries data/,
  },
  {
    name: 'a lone zero block, then more entries',
    tar: Buffer.concat([file('ok'), Buffer.alloc(512), file('../x'), END]),
    reason: /lone zero block/,
  },
  {
    name: 'pax records with no entry after them',
    tar: Buffer.concat([pax([['path', 'x']]), END]),
    reason: /without the entry/,
  },
  {
    name: 'a pax record with a leading blank',
    tar: archive(pax(Buffer.from(' 16 path=../x\n')), file('f')),
    reason: /malformed pax record/,
  },
  {
    name: 'a pax record with a length that does not match',
    tar: archive(pax(Buffer.from('99 path=../x\n')), file('f')),
    reason: /out of range/,
  },
  {
    name: 'pax records followed by junk',
    tar: archive(pax(Buffer.concat([paxBody([['path', 'a']]), Buffer.from('\0\0junk')])), file('f')),
    reason: /malformed pax record/,
  },
  { name: 'a NUL in a pax path', tar: archive(pax([['path', 'a\0/../../x']]), file('f')), reason: /"\.\."|NUL/ },
  {
    name: 'an unknown pax key that tar acts on (GNU.dumpdir)',
    tar: archive(pax([['GNU.dumpdir', 'Dx']]), dir('d')),
    reason: /unsupported pax record "GNU\.dumpdir"/,
  },
  {
    name: 'an old pax sparse format (0.0 keys)',
    tar: archive(
      pax([
        ['GNU.sparse.numblocks', '1'],
        ['GNU.sparse.offset', '0'],
        ['GNU.sparse.numbytes', '1'],
      ]),
      file('f'),
    ),
    reason: /unsupported sparse file format/,
  },
  { name: 'GNU.sparse.name escaping', tar: archive(paxSparse('../x', [[0, 512]], 512)), reason: /"\.\." component/ },
  {
    name: 'a pax sparse map claiming more data than stored',
    tar: archive(
      paxSparse(
        's',
        [
          [0, 512],
          [4096, 512],
        ],
        8192,
        { sizeDelta: -512 },
      ),
      file('../hidden'),
    ),
    reason: /sparse map and regions hold/,
  },
  {
    name: 'a pax sparse map region past the real size',
    tar: archive(paxSparse('s', [[0, 1024]], 512)),
    reason: /past the end/,
  },
  {
    name: 'a pax sparse map with a partial block in the middle',
    tar: archive(
      paxSparse(
        's',
        [
          [0, 100],
          [4096, 512],
        ],
        8192,
      ),
    ),
    reason: /partial block/,
  },
  {
    name: 'an old GNU sparse map announcing an extension after its end',
    tar: archive(oldSparse('s', [[0, 512]], 4096, { extendedAfterEnd: true })),
    reason: /announces an extension/,
  },
  {
    name: 'an old GNU sparse map adding up to more than the size',
    tar: archive(
      oldSparse(
        's',
        [
          [0, 512],
          [1024, 512],
        ],
        4096,
        { sizeDelta: -512 },
      ),
      file('../hidden'),
    ),
    reason: /sparse regions hold 1024 bytes, the header says 512/,
  },
  {
    name: 'an "S" entry in the POSIX format',
    tar: archive(entry({ name: 's', type: 'S', data: 'x' })),
    reason: /outside the old GNU format/,
  },
  {
    name: 'a Solaris "X" extended header',
    tar: archive(entry({ name: 'X', type: 'X', data: paxBody([['path', '../x']]) }), file('f')),
    reason: /unsupported tar entry type "X"/,
  },
  {
    name: 'a GNU volume header',
    tar: archive(entry({ name: 'vol', type: 'V' })),
    reason: /unsupported tar entry type "V"/,
  },
  { name: 'an archive cut short', tar: file('f').subarray(0, 600), reason: /truncated/ },
];

const benign: { name: string; tar: Buffer }[] = [
  {
    name: 'files, dirs, a symlink anywhere, a hard link, a fifo',
    tar: archive(
      dir('./'),
      dir('d'),
      file('d/a', 'hello'),
      symlink('abs', '/etc/passwd'),
      symlink('rel', '../d/a'),
      hardlink('d/h', 'd/a'),
      entry({ name: 'p', type: '6' }),
    ),
  },
  {
    name: 'a global pax header with only a comment (git archive)',
    tar: archive(pax([['comment', 'abc123']], 'g'), file('a')),
  },
  {
    name: 'pax path, mtime and xattrs',
    tar: archive(
      pax([
        ['path', 'long/'.repeat(40) + 'f'],
        ['mtime', '1.5'],
        ['SCHILY.xattr.user.x', 'v'],
      ]),
      file('short'),
    ),
  },
  {
    name: 'GNU long name and long link',
    tar: archive(file('t'), longName('n'.repeat(200)), longName('t', 'K'), hardlink('h', 't')),
  },
  {
    name: 'a positive base-256 size',
    tar: archive(entry({ name: 'f', data: 'hello', edit: sizeField([0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5]) })),
  },
  {
    name: 'a pax sparse 1.0 file',
    tar: archive(
      paxSparse(
        's',
        [
          [0, 512],
          [8192, 100],
          [10000, 0],
        ],
        10000,
      ),
      file('after'),
    ),
  },
  {
    name: 'an old GNU sparse file with extension blocks',
    tar: archive(
      oldSparse(
        's',
        Array.from({ length: 30 }, (_, i) => [i * 1024, 512] as [number, number]),
        40_000,
      ),
      file('after'),
    ),
  },
  { name: 'a symlink replaced by a symlink', tar: archive(symlink('l', 'a'), symlink('l', 'b')) },
];

/** The gate's output and its error (if it refused). */
async function throughGate(tar: Buffer, chunk = 700): Promise<{ out: Buffer; error?: Error }> {
  const parts: Buffer[] = [];
  for (let i = 0; i < tar.length; i += chunk) parts.push(tar.subarray(i, i + chunk));
  const gate = new TarGate('test archive');
  const collected: Buffer[] = [];
  gate.on('data', (b: Buffer) => collected.push(b));
  const error = await new Promise<Error | undefined>((resolve) => {
    gate.on('error', resolve);
    gate.on('finish', () => resolve(undefined));
    Readable.from(parts).pipe(gate);
  });
  return { out: Buffer.concat(collected), error };
}

async function zst(name: string, tar: Buffer): Promise<string> {
  const path = join(tmp, `${name.replace(/\W+/g, '-')}.tar.zst`);
  await execa('zstd', ['-q', '-c'], { input: tar, stdout: { file: path } });
  return path;
}

describe('hostile archives are refused, naming the entry and the trick', () => {
  it.each(hostile)('$name', async ({ name, tar, reason }) => {
    const checked = await checkArchive(await zst(name, tar), 'zstd');
    const found = [...checked.problems.map((p) => `${p.entry}: ${p.reason}`), checked.damaged ?? ''].join('\n');
    expect(found).toMatch(reason);
    const gated = await throughGate(tar);
    expect(gated.error).toMatchObject({ code: 'INTEGRITY' });
    expect(gated.error!.message).toMatch(reason);
  });
});

describe('benign archives pass, and the gate passes them on byte for byte', () => {
  it.each(benign)('$name', async ({ name, tar }) => {
    const checked = await checkArchive(await zst(name, tar), 'zstd');
    expect(checked.problems).toEqual([]);
    expect(checked.damaged).toBeUndefined();
    const gated = await throughGate(tar, 333);
    expect(gated.error).toBeUndefined();
    expect(gated.out.equals(tar)).toBe(true);
  });

  it('a real GNU tar archive (posix, sparse, xattrs, long names) extracts through the gate exactly', async () => {
    const src = join(tmp, 'real-src');
    await mkdir(join(src, 'd'.repeat(120)), { recursive: true });
    await writeFile(join(src, 'd'.repeat(120), `${'f'.repeat(150)}.txt`), 'long');
    await writeFile(join(src, 'sparse'), '');
    await execa('truncate', ['-s', '20M', join(src, 'sparse')]);
    await execa(
      'dd',
      ['if=/dev/urandom', `of=${join(src, 'sparse')}`, 'bs=4096', 'count=2', 'seek=100', 'conv=notrunc'],
      { stderr: 'ignore' },
    );
    await execa('setfattr', ['-n', 'user.k', '-v', 'v', join(src, 'sparse')]);
    for (const format of ['posix', 'gnu']) {
      const { stdout } = await execa(
        'tar',
        ['-C', src, `--format=${format}`, '--sparse', '--xattrs', '--xattrs-include=*', '-cf', '-', '.'],
        { encoding: 'buffer' },
      );
      const tar = Buffer.from(stdout);
      const gated = await throughGate(tar, 4096);
      expect(gated.error).toBeUndefined();
      const out = join(tmp, `real-out-${format}`);
      await mkdir(out);
      await execa('tar', ['-C', out, '--xattrs', '--xattrs-include=*', '-xf', '-'], {
        input: gated.out,
        env: { LC_ALL: 'C' },
      });
      const sum = async (p: string) =>
        createHash('sha256')
          .update(await buffer(createReadStream(p)))
          .digest('hex');
      expect(await sum(join(out, 'sparse'))).toBe(await sum(join(src, 'sparse')));
      expect((await execa('getfattr', ['-n', 'user.k', '--only-values', join(out, 'sparse')])).stdout).toBe('v');
      expect(await readdir(join(out, 'd'.repeat(120)))).toEqual([`${'f'.repeat(150)}.txt`]);
    }
  });
});

describe('the gate in the extraction stream', () => {
  it('stops at the refused entry: tar extracts what came before, nothing of it or after it', async () => {
    const tar = archive(
      file('first', '1'),
      symlink('l', join(tmp, 'outside')),
      file('l/pwned', 'p'),
      file('last', '2'),
    );
    await mkdir(join(tmp, 'outside'));
    const gated = await throughGate(tar);
    expect(gated.error?.message).toMatch(/entry "l\/pwned": goes through the symlink l/);
    const out = join(tmp, 'partial-out');
    await mkdir(out);
    await execa('tar', ['-C', out, '-xf', '-'], { input: gated.out, reject: false });
    expect((await readdir(out)).sort()).toEqual(['first', 'l']);
    expect(await readdir(join(tmp, 'outside'))).toEqual([]);
  });

  it('ends its output at the end-of-archive marker and still reads (hashes) the padding after it', async () => {
    const tar = Buffer.concat([archive(file('a')), Buffer.alloc(8192)]);
    const gated = await throughGate(tar, 100);
    expect(gated.error).toBeUndefined();
    expect(gated.out.equals(tar.subarray(0, 1024 + 1024))).toBe(true);
  });
});
