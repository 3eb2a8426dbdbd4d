// rclone remote: the real binary for every operation, so any rclone backend (S3, B2, Drive, sftp,
// a local path...) works. Uploads stream into `rclone rcat`; progress comes from rclone's own
// `--use-json-log --stats 1s -v` lines on stderr; other log lines become log events.
import { execa } from 'execa';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BbackupError, isAbortError } from '../errors.js';
import type { Emit } from '../events.js';
import { Meter } from './meter.js';
import { runChain } from './proc-stream.js';
import {
  assertNoSecretInRemote,
  baseFlags,
  classifyRclone,
  rcloneEnv,
  rclonePath,
  type RcloneSettings,
} from './rclone-env.js';
import type { ListOptions, OpOptions, PutOptions, PutResult, Remote, RemoteCaps, RemoteEntry } from './types.js';
import { isManifestKey } from './types.js';

const TMP_MARK = '.bbtmp-';

interface LsEntry {
  Path: string;
  Size: number;
  ModTime: string;
  IsDir: boolean;
  Hashes?: { md5?: string; sha256?: string };
}

export class RcloneRemote implements Remote {
  readonly caps: RemoteCaps = { atomicRename: true, maxConnections: 4, hashes: ['md5'] };
  private readonly env: Record<string, string>;

  constructor(
    readonly name: string,
    private readonly s: RcloneSettings,
    private readonly emit: Emit = () => undefined,
  ) {
    assertNoSecretInRemote(name, s.remote);
    this.env = rcloneEnv(s);
  }

  private at = (key: string) => rclonePath(this.s.remote, key);

  /** Run one rclone command to completion; its stderr decides the error. */
  private async run(what: string, args: string[], signal: AbortSignal): Promise<string> {
    signal.throwIfAborted();
    try {
      const r = await execa('rclone', [...args, ...baseFlags(this.s)], {
        env: this.env,
        cancelSignal: signal,
        forceKillAfterDelay: 3000,
        stdin: 'ignore',
        maxBuffer: 1 << 28,
      });
      return r.stdout;
    } catch (err) {
      if (isAbortError(err) || signal.aborted) throw err;
      throw classifyRclone(this.name, what, String((err as { stderr?: string }).stderr ?? (err as Error).message), err);
    }
  }

  /**
   * rclone's local and sftp backends write straight into the target, and a killed `rcat` (or one
   * whose stdin was cut: it cannot tell a cut from an end) leaves a short file there. So rcat
   * writes a temporary name, moved onto the key only when the whole source arrived.
   */
  async put(key: string, open: () => Readable, o: PutOptions): Promise<PutResult> {
    o.signal.throwIfAborted();
    const tmp = `${key}${TMP_MARK}${randomBytes(4).toString('hex')}`;
    try {
      const result = await this.rcat(key, tmp, open, o);
      await this.run(`writing ${key}`, ['moveto', this.at(tmp), this.at(key)], o.signal);
      return result;
    } catch (err) {
      await this.run(`removing ${tmp}`, ['deletefile', this.at(tmp)], AbortSignal.timeout(30_000)).catch(
        () => undefined,
      );
      throw err;
    }
  }

  private async rcat(key: string, tmp: string, open: () => Readable, o: PutOptions): Promise<PutResult> {
    const meter = new Meter(this.caps.hashes);
    const child = execa('rclone', ['rcat', this.at(tmp), '--stats', '1s', '-v', ...baseFlags(this.s)], {
      env: this.env,
      cancelSignal: o.signal,
      forceKillAfterDelay: 3000,
      stdin: 'pipe',
      buffer: false,
    });
    const stderr: string[] = [];
    createInterface({ input: child.stderr }).on('line', (line) => {
      stderr.push(line);
      if (stderr.length > 200) stderr.shift();
      this.onLogLine(line, o.onProgress);
    });
    child.stdin.on('error', () => undefined); // rclone died: its exit status tells why
    const feeding = pipeline(open(), meter, child.stdin, { signal: o.signal });
    try {
      await Promise.all([child, feeding]);
    } catch (err) {
      if (isAbortError(err) || o.signal.aborted) throw err;
      child.kill();
      const exited = await child.then(
        () => undefined,
        (e: unknown) => e,
      );
      if (exited === undefined && err instanceof BbackupError) throw err; // our source failed, rclone was fine
      if (exited === undefined) throw err;
      // A failed source (tar, age) is the real cause when rclone only saw its stdin cut short.
      if (err instanceof BbackupError && !(exited as { exitCode?: number }).exitCode) throw err;
      throw classifyRclone(this.name, `writing ${key}`, stderr.join('\n'), err);
    }
    return { key, ...meter.result() };
  }

  private onLogLine(line: string, onProgress?: (bytes: number) => void): void {
    try {
      const j = JSON.parse(line) as { level?: string; msg?: string; stats?: { bytes?: number } };
      if (j.stats && typeof j.stats.bytes === 'number') onProgress?.(j.stats.bytes);
      else if (j.msg)
        this.emit({
          type: 'log',
          level: j.level === 'error' ? 'warn' : 'debug',
          source: 'rclone',
          msg: `${this.name}: ${j.msg.trim()}`,
        });
    } catch {
      if (line.trim())
        this.emit({ type: 'log', level: 'debug', source: 'rclone', msg: `${this.name}: ${line.trim()}` });
    }
  }

  /**
   * One `rclone cat`, no listing first: a missing key makes it fail before its first byte on most
   * backends, and the first chunk (or the end) is awaited so that failure rejects here. On bucket
   * backends (S3) cat of a missing key prints nothing and exits 0, like an empty file: only then
   * does a listing tell the two apart.
   */
  async get(key: string, o: OpOptions): Promise<Readable> {
    const what = `reading ${key}`;
    const raw = runChain([{ file: 'rclone', args: ['cat', this.at(key), ...baseFlags(this.s)], env: this.env }], {
      signal: o.signal,
      what,
      classify: (_s, stderr, err) => classifyRclone(this.name, what, stderr, err),
    });
    // its errors reach the reader through the iteration below; until that starts, nobody listens
    raw.on('error', () => undefined);
    const first = await firstChunk(raw);
    if (first === undefined) {
      const found = JSON.parse(await this.run(what, ['lsjson', '--files-only', this.at(key)], o.signal)) as LsEntry[];
      if (found.length === 0) throw classifyRclone(this.name, what, '{"level":"error","msg":"object not found"}');
      return Readable.from([], { objectMode: false });
    }
    const out = Readable.from(
      (async function* () {
        yield first;
        yield* raw;
      })(),
      { objectMode: false },
    );
    out.on('close', () => raw.destroy()); // a reader that gives up early stops rclone
    return out;
  }

  async *list(prefix: string, o: ListOptions): AsyncIterable<RemoteEntry> {
    const args = ['lsjson', '-R', '--files-only', this.at(prefix)];
    if (o.hashes) args.push('--hash', '--hash-type', 'MD5');
    if (o.maxDepth !== undefined) args.push('--max-depth', String(o.maxDepth));
    let entries: LsEntry[];
    try {
      entries = JSON.parse(await this.run(`listing ${prefix || '/'}`, args, o.signal)) as LsEntry[];
    } catch (err) {
      if (err instanceof BbackupError && err.code === 'NOT_FOUND') return;
      throw err;
    }
    for (const e of entries) {
      if (e.IsDir || e.Path.includes(TMP_MARK)) continue;
      const key = prefix ? `${prefix}/${e.Path}` : e.Path;
      yield {
        key,
        size: e.Size,
        mtime: new Date(e.ModTime),
        hashes: e.Hashes?.md5 ? { md5: e.Hashes.md5 } : undefined,
      };
    }
  }

  async remove(key: string, o: OpOptions): Promise<void> {
    await this.run(`removing ${key}`, ['deletefile', this.at(key)], o.signal).catch(ignoreNotFound);
  }

  async removeDir(prefix: string, o: OpOptions): Promise<void> {
    if (!prefix) throw new Error('refusing to remove the remote root');
    await this.run(`removing ${prefix}`, ['purge', this.at(prefix)], o.signal).catch(ignoreNotFound);
  }

  /**
   * Backends with server-side directory moves (local, sftp, ...) would move everything at once,
   * but others copy file by file in any order. So: everything except manifests first, then the
   * manifests, then the empty source folder goes.
   */
  async renameDir(from: string, to: string, o: OpOptions): Promise<void> {
    const manifests: string[] = [];
    for await (const e of this.list(from, o)) if (isManifestKey(e.key)) manifests.push(e.key.slice(from.length + 1));
    if (manifests.length === 0) {
      await this.run(`renaming ${from}`, ['moveto', this.at(from), this.at(to)], o.signal);
      return;
    }
    const excludes = manifests.flatMap((m) => ['--exclude', `/${m}`]);
    await this.run(`renaming ${from}`, ['move', this.at(from), this.at(to), ...excludes], o.signal);
    for (const m of manifests)
      await this.run(`renaming ${from}`, ['moveto', this.at(`${from}/${m}`), this.at(`${to}/${m}`)], o.signal);
    await this.run(`removing ${from}`, ['rmdirs', this.at(from)], o.signal).catch(ignoreNotFound);
  }

  async close(): Promise<void> {}
}

/** The stream's first chunk, undefined when it ends without one; its error rejects. */
function firstChunk(stream: Readable): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const done = () => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
    };
    const onData = (chunk: Buffer) => {
      stream.pause();
      done();
      resolve(chunk);
    };
    const onEnd = () => {
      done();
      resolve(undefined);
    };
    const onError = (err: Error) => {
      done();
      reject(err);
    };
    stream.on('data', onData).on('end', onEnd).on('error', onError);
  });
}

function ignoreNotFound(err: unknown): void {
  if (err instanceof BbackupError && err.code === 'NOT_FOUND') return;
  throw err;
}
