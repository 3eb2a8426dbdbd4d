// A restored container gets its dump back: redis/sqlite snapshots are put in place before it
// starts; for postgres/mysql/mariadb/mongodb it is started, bbackup waits until the server
// accepts connections (its healthcheck, or the engine's own probe once the server is the
// container's main process), then streams the dump in (zstd -d | docker exec -i). Whatever
// fails, the container and the volumes made empty for it are removed again: a half-loaded
// database is never left looking restored.
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { execa } from 'execa';
import { byteCounter } from '../backup/compress.js';
import { BbackupError, lastLines } from '../errors.js';
import type { LogLevel } from '../events.js';
import { resolveCredentials, requirepassFromArgs } from './credentials.js';
import { capture, type EngineCtx, type LoadResult } from './engine.js';
import { loadMongo } from './mongodb.js';
import { loadMysql } from './mysql.js';
import { loadPostgres } from './postgres.js';
import { reportRedis } from './redis.js';
import { placeFile } from './sqlite.js';
import type { DumpEngine, PlannedLoad } from './types.js';
import { waitReady } from './wait-ready.js';

export const DEFAULT_WAIT_SECONDS = 300;

export interface LoadEnv {
  docker: Docker;
  backupDir: string;
  signal: AbortSignal;
  localEngine: boolean;
  /** seconds to wait for the server */
  waitSeconds: number;
  /** decompressed bytes fed so far */
  onBytes(n: number): void;
  log(level: LogLevel, msg: string): void;
  helperLabels?: Record<string, string>;
  /** starts the container; undefined = it stays stopped (only a snapshot put in place is possible then) */
  start?: () => Promise<void>;
}

/** Put back, start and load; returns words for the report. Throws DUMP_FAILED (the caller removes what was made). */
export async function restoreDump(containerId: string, name: string, load: PlannedLoad, env: LoadEnv): Promise<string> {
  const ctx: EngineCtx = {
    docker: env.docker,
    container: containerId,
    what: `container ${name}`,
    creds: {},
    signal: env.signal,
    localEngine: env.localEngine,
    log: env.log,
  };
  const inspect = await env.docker.getContainer(containerId).inspect();
  let result: LoadResult;
  if (load.when === 'before-start') {
    const input = openDump(env, load);
    const mounts = (inspect.Mounts ?? []).map((m) => ({ destination: m.Destination }));
    const said = await fed(
      input,
      placeFile(ctx, load.path!, input.stream, load.engine === 'sqlite' ? 'sqlite' : 'plain', mounts, env.helperLabels),
    );
    await env.start?.();
    if (load.engine === 'redis' && env.start) {
      ctx.creds = await credentialsOf(ctx, load.engine, inspect);
      await waitReady(ctx, load.engine, env);
      result = await reportRedis(ctx);
    } else result = { detail: load.engine === 'sqlite' ? `${said} tables, integrity ok` : 'not started' };
  } else {
    if (!env.start)
      throw new BbackupError('USAGE', `${ctx.what} is not started: its ${load.engine} dump cannot be loaded`);
    await env.start();
    ctx.creds = await credentialsOf(ctx, load.engine, inspect);
    await waitReady(ctx, load.engine, env);
    const input = openDump(env, load);
    result = await fed(input, runLoad(ctx, load.engine, input.stream));
  }
  return `${load.engine} dump ${load.when === 'before-start' ? 'put in place' : 'loaded'}: ${result.detail}`;
}

async function credentialsOf(ctx: EngineCtx, engine: DumpEngine, inspect: Docker.ContainerInspectInfo) {
  const read = async (path: string) => {
    const r = await capture(ctx, { argv: ['cat', path] }, 30_000);
    if (r.exitCode !== 0)
      throw new BbackupError(
        'DUMP_FAILED',
        `${ctx.what}: cannot read the secret file ${path} named by its environment`,
      );
    return r.stdout;
  };
  const creds = await resolveCredentials(engine, ctx.what.replace(/^container /, ''), inspect.Config.Env ?? [], read);
  if (engine === 'redis' && creds.password === undefined)
    creds.password = requirepassFromArgs([...(inspect.Config.Cmd ?? []), ...(inspect.Args ?? [])]);
  return creds;
}

function runLoad(ctx: EngineCtx, engine: DumpEngine, input: Readable): Promise<LoadResult> {
  switch (engine) {
    case 'postgres':
      return loadPostgres(ctx, input);
    case 'mysql':
    case 'mariadb':
      return loadMysql(ctx, engine, input);
    case 'mongodb':
      return loadMongo(ctx, input);
    default:
      throw new BbackupError('USAGE', `${engine} dumps are not loaded into a running server`);
  }
}

interface DumpInput {
  stream: Readable;
  /** settles when zstd ended: an error when the file is damaged or not the size the manifest says */
  done: Promise<void>;
}

/** The dump file decompressed, counted, checked against the manifest's size. */
function openDump(env: LoadEnv, load: PlannedLoad): DumpInput {
  const file = join(env.backupDir, ...load.file.split('/'));
  const proc = execa('zstd', ['-q', '-d', '-c', file], {
    stdout: 'pipe',
    stderr: 'pipe',
    buffer: { stdout: false, stderr: true },
    cancelSignal: env.signal,
    forceKillAfterDelay: 2000,
    reject: false,
  });
  let bytes = 0;
  const stream = proc.stdout.pipe(
    byteCounter((total) => {
      env.onBytes(total - bytes);
      bytes = total;
    }),
  );
  const done = proc.then((r) => {
    if (env.signal.aborted) return;
    // a reader that stopped early (the load failed) makes zstd fail with a broken pipe: the load's error is the one to show
    if (r.exitCode !== 0)
      throw new BbackupError(
        'INTEGRITY',
        `${load.file} cannot be decompressed: ${lastLines(String(r.stderr), 3) || `zstd exited ${r.exitCode}`}`,
      );
    if (bytes !== load.bytes)
      throw new BbackupError('INTEGRITY', `${load.file} holds ${bytes} bytes, the manifest says ${load.bytes}`);
  });
  return { stream, done };
}

/** The consumer's result, unless the input failed (then the load saw a cut-off dump). */
async function fed<T>(input: DumpInput, consumer: Promise<T>): Promise<T> {
  const [c, i] = await Promise.allSettled([consumer, input.done]);
  if (c.status === 'rejected') {
    input.stream.destroy();
    throw c.reason;
  }
  if (i.status === 'rejected') throw i.reason;
  return c.value;
}
