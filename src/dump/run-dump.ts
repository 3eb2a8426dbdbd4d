// One container's dump, taken: credentials from its own environment, the engine's tool run by
// `docker exec`, its stdout streamed through zstd into the backup with sha256 computed on the
// way (no scratch copy on this side). A tool that fails, is cut off or writes something that is
// not a whole dump fails the item with the tool's own words, and the file is removed.
import { chmod, mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import type Docker from 'dockerode';
import { compressToFile } from '../backup/compress.js';
import { dockerError } from '../docker/errors.js';
import { BbackupError, describeError } from '../errors.js';
import type { LogLevel } from '../events.js';
import { rel } from '../store/layout.js';
import type { DumpItem } from '../store/manifest.js';
import { requirepassFromArgs, resolveCredentials } from './credentials.js';
import { capture, toolFailed, type DumpStream, type EngineCtx } from './engine.js';
import { startMongoDump } from './mongodb.js';
import { startMysqlDump } from './mysql.js';
import { startPostgresDump } from './postgres.js';
import { startRedisDump } from './redis.js';
import { startSqliteDump } from './sqlite.js';
import type { DumpEngine } from './types.js';

export interface DumpRequest {
  container: string;
  engine: DumpEngine;
  path?: string;
  dataDir: string;
  only: boolean;
}

export interface DumpRunEnv {
  docker: Docker;
  signal: AbortSignal;
  localEngine: boolean;
  /** uncompressed bytes so far */
  progress?: (bytes: number) => void;
  log(level: LogLevel, msg: string): void;
  helperLabels?: Record<string, string>;
}

/** The container is not running: a server that is down cannot be dumped (its files are at rest). */
export class NotRunning extends BbackupError {
  constructor(
    readonly container: string,
    state: string,
  ) {
    super('DUMP_FAILED', `container ${container} is ${state}, not running: no dump taken`, { container });
  }
}

/** Open the dump's stream in the container (credentials resolved there). */
export async function openDump(req: DumpRequest, env: DumpRunEnv): Promise<DumpStream> {
  let inspect: Docker.ContainerInspectInfo;
  try {
    inspect = await env.docker.getContainer(req.container).inspect();
  } catch (err) {
    throw dockerError(err, `container ${req.container}`, env.signal);
  }
  if (!inspect.State.Running || inspect.State.Paused)
    throw new NotRunning(req.container, inspect.State.Paused ? 'paused' : inspect.State.Status);
  const ctx: EngineCtx = {
    docker: env.docker,
    container: inspect.Id,
    what: `container ${req.container}`,
    creds: {},
    signal: env.signal,
    localEngine: env.localEngine,
    log: env.log,
  };
  const readSecret = async (path: string) => {
    const r = await capture(ctx, { argv: ['cat', path] }, 30_000);
    if (r.exitCode !== 0)
      throw new BbackupError(
        'DUMP_FAILED',
        `${ctx.what}: cannot read the secret file ${path} named by its environment (exit ${r.exitCode ?? 'unknown'})`,
      );
    return r.stdout;
  };
  ctx.creds = await resolveCredentials(req.engine, req.container, inspect.Config.Env ?? [], readSecret);
  if (req.engine === 'redis' && ctx.creds.password === undefined)
    ctx.creds.password = requirepassFromArgs([...(inspect.Config.Cmd ?? []), ...(inspect.Args ?? [])]);
  switch (req.engine) {
    case 'postgres':
      return startPostgresDump(ctx);
    case 'mysql':
    case 'mariadb':
      return startMysqlDump(ctx, req.engine);
    case 'mongodb':
      return startMongoDump(ctx);
    case 'redis':
      return startRedisDump(ctx);
    case 'sqlite':
      if (!req.path)
        throw new BbackupError(
          'USAGE',
          `container ${req.container}: an sqlite dump needs the database path (label bbackup.dump=sqlite:<path>)`,
        );
      return startSqliteDump(ctx, req.path, {
        mounts: (inspect.Mounts ?? []).map((m) => ({ destination: m.Destination })),
        helperLabels: env.helperLabels,
      });
  }
}

/** Keeps the first and last bytes of a stream for the dump's sanity check. */
function edges(): Transform & { head: () => Buffer; tail: () => Buffer } {
  let head = Buffer.alloc(0);
  let tail = Buffer.alloc(0);
  const t = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      if (head.length < 64) head = Buffer.concat([head, chunk.subarray(0, 64 - head.length)]);
      tail = Buffer.concat([tail, chunk]).subarray(-512);
      cb(null, chunk);
    },
  });
  return Object.assign(t, { head: () => head, tail: () => tail });
}

/**
 * Stream a dump's output into `sink` (a file through zstd, or stdout for `bbackup dump`);
 * throws DUMP_FAILED when the tool failed or the output is not a whole dump.
 */
export async function pumpDump(
  dump: DumpStream,
  write: (input: Readable) => Promise<void>,
  what: string,
): Promise<void> {
  const tap = edges();
  const source = dump.run.stdout.pipe(tap);
  dump.run.stdout.on('error', (err) => tap.destroy(err));
  // A reader that fails (a full disk) stops reading: the tool would block on its pipe for ever.
  const writing = write(source).catch((err: unknown) => {
    dump.run.stop();
    throw err;
  });
  const [written, exit] = await Promise.allSettled([writing, dump.run.finished]);
  const exitCode = exit.status === 'fulfilled' ? exit.value : null;
  // A failed write stopped the tool: the write's error is the one to show. A tool failing on its
  // own ends its output normally, and says why on stderr.
  if (written.status === 'rejected') throw written.reason;
  if (exitCode !== 0)
    throw toolFailed({ what }, dump.tool.split(' ')[0]!, 'dumping', { exitCode, stderr: dump.run.stderr() });
  const bad = dump.validate(tap.head(), tap.tail());
  if (bad)
    throw new BbackupError(
      'DUMP_FAILED',
      `${what}: ${dump.tool}: ${bad}${dump.run.stderr().trim() ? `\n${dump.run.stderr().trim().split('\n').slice(-5).join('\n')}` : ''}`,
    );
}

/** Take the dump into <folder>/dumps/<container>.<engine>.zst and describe it for the manifest. */
export async function runDump(req: DumpRequest, folder: string, level: number, env: DumpRunEnv): Promise<DumpItem> {
  env.signal.throwIfAborted();
  const relPath = rel.dump(req.container, req.engine);
  const abs = join(folder, relPath);
  await mkdir(dirname(abs), { recursive: true, mode: 0o700 });
  const what = `container ${req.container}`;
  const dump = await openDump(req, env);
  let bytes = 0;
  let file: { size: number; sha256: string } | undefined;
  try {
    await pumpDump(
      dump,
      async (input) => {
        file = await compressToFile(
          input,
          abs,
          { method: 'zstd', level },
          {
            signal: env.signal,
            what: `the ${req.engine} dump of ${what}`,
            onInputBytes: (n) => {
              bytes = n;
              env.progress?.(n);
            },
          },
        );
      },
      what,
    );
    await chmod(abs, 0o600);
  } catch (err) {
    await rm(abs, { force: true }).catch(() => undefined);
    if (env.signal.aborted) throw env.signal.reason;
    throw err;
  } finally {
    await dump
      .cleanup?.()
      .catch((err) => env.log('warn', `${what}: could not remove the dump's temporary file: ${describeError(err)}`));
  }
  env.log('info', `${what}: ${req.engine} dump by ${dump.tool}: ${bytes} bytes`);
  return {
    kind: 'dump',
    name: req.container,
    engine: req.engine,
    tool: dump.tool,
    ...(dump.path ? { path: dump.path } : {}),
    dataDir: dump.dataDir ?? req.dataDir,
    only: req.only,
    bytes,
    files: [{ path: relPath, size: file!.size, sha256: file!.sha256 }],
  };
}
