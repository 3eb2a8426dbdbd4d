// PostgreSQL: pg_dumpall (every database, roles and their passwords) as plain SQL, taken inside
// the container over its local socket; loaded with psql into a freshly initialised server. The
// bootstrap role and the database the image creates from POSTGRES_DB exist already there: those
// two "already exists" errors are expected, any other error fails the load.
import type { Readable } from 'node:stream';
import { BbackupError } from '../errors.js';
import { NOT_FOUND_EXIT } from './exec.js';
import {
  capture,
  envIf,
  findTool,
  lineSplitter,
  stream,
  toolFailed,
  type DumpStream,
  type EngineCtx,
  type LoadResult,
  type Probe,
} from './engine.js';

const COMPLETE = 'PostgreSQL database cluster dump complete';
const AUTH_FAILED =
  /password authentication failed|authentication failed for user|no password supplied|role "[^"]*" does not exist|pg_hba\.conf rejects/i;

const connArgs = (ctx: EngineCtx) => ['-w', '-U', ctx.creds.user ?? 'postgres'];
const connEnv = (ctx: EngineCtx) => envIf('PGPASSWORD', ctx.creds.password);

export async function startPostgresDump(ctx: EngineCtx): Promise<DumpStream> {
  const tool = await findTool(ctx, ['pg_dumpall'], 'to dump PostgreSQL');
  const run = await stream(ctx, { argv: [tool, ...connArgs(ctx)], env: connEnv(ctx) });
  return {
    tool,
    run,
    validate: (_head, tail) =>
      tail.toString('utf8').includes(COMPLETE) ? undefined : `the dump does not end with "${COMPLETE}": it is cut off`,
  };
}

export async function probePostgres(ctx: EngineCtx): Promise<Probe> {
  const r = await capture(
    ctx,
    { argv: ['psql', '-X', ...connArgs(ctx), '-d', 'postgres', '-tAc', 'SELECT 1'], env: connEnv(ctx) },
    30_000,
  );
  const said = (r.stderr || r.stdout).trim();
  if (r.exitCode === 0 && r.stdout.trim() === '1') return { ready: true, said };
  if (r.exitCode !== null && NOT_FOUND_EXIT.has(r.exitCode))
    return { ready: false, fatal: `psql (needed to load the dump) is not in the container's image: ${said}`, said };
  if (AUTH_FAILED.test(said))
    return {
      ready: false,
      fatal: `the server refuses the credentials from the container's environment (POSTGRES_USER/POSTGRES_PASSWORD): ${said}`,
      said,
    };
  return { ready: false, said };
}

/** Expected on a fresh server: the bootstrap role and POSTGRES_DB were made by the image's init. */
const EXPECTED_ERROR = /ERROR:\s+(role|database) "[^"]*" already exists/;

export async function loadPostgres(ctx: EngineCtx, input: Readable): Promise<LoadResult> {
  const tool = await findTool(ctx, ['psql'], 'to load the PostgreSQL dump');
  let rows = 0;
  let tables = 0;
  const unexpected: string[] = [];
  let errorCount = 0;
  const onOut = lineSplitter((line) => {
    const m = /^COPY (\d+)$/.exec(line);
    if (m) {
      rows += Number(m[1]);
      tables++;
    }
  });
  const onErr = lineSplitter((line) => {
    if (!/\b(ERROR|FATAL|PANIC):/.test(line) || EXPECTED_ERROR.test(line)) return;
    errorCount++;
    if (unexpected.length < 5) unexpected.push(line.trim());
  });
  const run = await stream(
    ctx,
    { argv: [tool, '-X', ...connArgs(ctx), '-d', 'postgres', '-v', 'ON_ERROR_STOP=0'], env: connEnv(ctx) },
    input,
    onErr,
  );
  run.stdout.on('data', onOut);
  const exitCode = await run.finished;
  ctx.signal.throwIfAborted();
  if (exitCode !== 0) throw toolFailed(ctx, tool, 'loading the dump', { exitCode, stderr: run.stderr() });
  if (errorCount > 0)
    throw new BbackupError(
      'DUMP_FAILED',
      `${ctx.what}: psql reported ${errorCount} error${errorCount > 1 ? 's' : ''} while loading the dump:\n${unexpected.join('\n')}`,
      { errors: errorCount },
    );
  return { detail: `${rows} rows in ${tables} tables` };
}
