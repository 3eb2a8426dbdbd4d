// Fetch objects from their packs into files: each pack is read once (several at once), its members
// streamed into every file that needs them, each checked against the sha256 and size it must have
// after decryption. Files of a tree are filled in place (their skeleton made them, with owners,
// modes, xattrs and hard links) and written sparse: runs of zero blocks stay holes.
import { createHash } from 'node:crypto';
import { constants, createReadStream } from 'node:fs';
import { mkdir, open, realpath, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { BbackupError } from '../../errors.js';
import { PRIVATE_DIR, PRIVATE_FILE } from '../../store/private.js';
import { runChain } from '../proc-stream.js';
import type { Remote } from '../types.js';
import { checkFormat } from './format.js';
import { eachLimit } from './io.js';
import type { ObjectIndex } from './packs.js';
import { ByteReader, PACK_HEADER_MEMBER, PackReader } from './tar-pack.js';

export interface Target {
  /** absolute path */
  path: string;
  /** create: a new file (0600); fill: an existing regular file made by a skeleton, written sparse */
  mode: 'create' | 'fill';
}

export interface Need {
  sha256: string;
  size: number;
  /** what needs it, for messages */
  label: string;
  targets: Target[];
}

const BLOCK = 4096;
const ZERO = Buffer.alloc(BLOCK);

/** Writes a stream of chunks at increasing offsets; in sparse mode zero blocks are skipped. */
class Writer {
  private pos = 0;
  constructor(
    private readonly fh: FileHandle,
    private readonly sparse: boolean,
  ) {}

  async write(chunk: Buffer): Promise<void> {
    if (!this.sparse) {
      await this.fh.write(chunk, 0, chunk.length, this.pos);
      this.pos += chunk.length;
      return;
    }
    let run = -1;
    for (let i = 0; i < chunk.length;) {
      const end = Math.min(chunk.length, i + BLOCK - ((this.pos + i) % BLOCK));
      const zero = chunk.compare(ZERO, 0, end - i, i, end) === 0;
      if (!zero && run < 0) run = i;
      if (zero && run >= 0) {
        await this.fh.write(chunk, run, i - run, this.pos + run);
        run = -1;
      }
      i = end;
    }
    if (run >= 0) await this.fh.write(chunk, run, chunk.length - run, this.pos + run);
    this.pos += chunk.length;
  }

  async end(): Promise<void> {
    if (this.sparse) await this.fh.truncate(this.pos);
    await this.fh.close();
  }
}

/**
 * Opens targets safely: a file to fill must be a regular file reached through real folders only
 * (the skeleton came from the remote: a symlink there must never redirect a write).
 */
export class TargetOpener {
  private readonly dirs = new Map<string, Promise<void>>();
  constructor(private readonly roots: readonly string[]) {}

  private checkDir(dir: string): Promise<void> {
    let p = this.dirs.get(dir);
    if (!p) {
      p = realpath(dir).then((real) => {
        if (real !== dir || !this.roots.some((r) => real === r || real.startsWith(`${r}/`)))
          throw new BbackupError('INTEGRITY', `refused: ${dir} is reached through a symlink`);
      });
      this.dirs.set(dir, p);
    }
    return p;
  }

  async open(t: Target): Promise<Writer> {
    if (t.mode === 'create') {
      await mkdir(dirname(t.path), { recursive: true, mode: PRIVATE_DIR });
      await this.checkDir(dirname(t.path));
      return new Writer(await open(t.path, 'wx', PRIVATE_FILE), false);
    }
    await this.checkDir(dirname(t.path));
    const fh = await open(t.path, constants.O_RDWR | constants.O_NOFOLLOW).catch((err: NodeJS.ErrnoException) => {
      throw new BbackupError(
        'INTEGRITY',
        `refused: ${t.path} is not a regular file of the tree's skeleton (${err.code ?? err.message})`,
        {},
        { cause: err },
      );
    });
    if (!(await fh.stat()).isFile()) {
      await fh.close();
      throw new BbackupError('INTEGRITY', `refused: ${t.path} is not a regular file of the tree's skeleton`);
    }
    return new Writer(fh, true);
  }
}

export interface FetchOptions {
  signal: AbortSignal;
  transfers: number;
  where: string;
  opener: TargetOpener;
  /** plaintext bytes written so far (progress) */
  onBytes?: (n: number) => void;
}

/** Fetch every needed object (objectId -> Need) from the packs that hold it. */
export async function fetchObjects(
  remote: Remote,
  index: ObjectIndex,
  needed: Map<string, Need>,
  o: FetchOptions,
): Promise<void> {
  const byPack = new Map<string, string[]>();
  for (const obj of needed.keys()) {
    const at = index.objects.get(obj);
    if (!at) {
      const n = needed.get(obj)!;
      throw new BbackupError(
        'INTEGRITY',
        `${o.where}: refused: object ${obj.slice(0, 16)}… (${n.label}) is missing from the remote; nothing was pulled`,
        { obj },
      );
    }
    (byPack.get(at.pack) ?? byPack.set(at.pack, []).get(at.pack)!).push(obj);
  }
  const done = new Set<string>();
  await eachLimit([...byPack.keys()], o.transfers, async (packId) => {
    const pack = index.packs.get(packId)!;
    await readPack(remote, pack.key, packId, o, async (name, body) => {
      const need = needed.get(name);
      if (!need || done.has(name)) {
        for await (const _ of body) void _;
        return;
      }
      done.add(name);
      await receive(name, need, body, o);
    });
  });
  for (const obj of needed.keys()) {
    if (!done.has(obj))
      throw new BbackupError(
        'INTEGRITY',
        `${o.where}: refused: object ${obj.slice(0, 16)}… (${needed.get(obj)!.label}) is not in the pack its index names; nothing was pulled`,
      );
  }
}

/** Stream one pack's members to `each` (which must consume the body). */
export async function readPack(
  remote: Remote,
  key: string,
  packId: string,
  o: { signal: AbortSignal; where: string },
  each: (name: string, body: AsyncGenerator<Buffer>, size: number) => Promise<void>,
): Promise<void> {
  const what = `${o.where}: pack ${packId}`;
  const plain = runChain([{ file: 'zstd', args: ['-q', '-d', '-c'] }], {
    signal: o.signal,
    input: await remote.get(key, { signal: o.signal }),
    what: `decompressing ${what}`,
  });
  try {
    const r = new PackReader(new ByteReader(plain), what);
    const head = await r.next();
    if (!head || head.name !== PACK_HEADER_MEMBER || head.size > 64 * 1024)
      throw new BbackupError('INTEGRITY', `${what}: refused: no pack header`);
    const parts: Buffer[] = [];
    for await (const c of r.body(head)) parts.push(c);
    let doc: unknown;
    try {
      doc = JSON.parse(Buffer.concat(parts).toString('utf8'));
    } catch {
      throw new BbackupError('INTEGRITY', `${what}: refused: the pack header is not JSON`);
    }
    if (checkFormat(doc, what).pack !== packId)
      throw new BbackupError('INTEGRITY', `${what}: refused: the pack says it is another pack`);
    for (let m = await r.next(); m; m = await r.next()) await each(m.name, r.body(m), m.size);
    await r.finish();
  } finally {
    plain.destroy();
  }
}

async function receive(obj: string, need: Need, body: AsyncGenerator<Buffer>, o: FetchOptions): Promise<void> {
  const [first, ...rest] = need.targets;
  const h = createHash('sha256');
  let size = 0;
  const w = first ? await o.opener.open(first) : undefined;
  try {
    for await (const chunk of body) {
      size += chunk.length;
      h.update(chunk);
      await w?.write(chunk);
      o.onBytes?.(chunk.length);
    }
  } finally {
    await w?.end();
  }
  const sha256 = h.digest('hex');
  if (size !== need.size || sha256 !== need.sha256) {
    throw new BbackupError(
      'INTEGRITY',
      `${o.where}: refused: ${need.label} does not match: got ${size} bytes sha256 ${sha256.slice(0, 12)}…, expected ${need.size} bytes sha256 ${need.sha256.slice(0, 12)}… (object ${obj.slice(0, 16)}…); nothing was pulled`,
      { obj },
    );
  }
  // Other files with the same content: copied from the first (already checked).
  for (const t of rest) {
    const cw = await o.opener.open(t);
    try {
      for await (const chunk of createReadStream(first!.path, { highWaterMark: 1 << 20 }))
        await cw.write(chunk as Buffer);
    } finally {
      await cw.end();
    }
  }
}
