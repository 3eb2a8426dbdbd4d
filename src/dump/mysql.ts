// MySQL and MariaDB: mysqldump / mariadb-dump in one transaction (--single-transaction: a
// consistent snapshot of InnoDB tables without locking writers), with routines, events and
// triggers; every database as root, or the one database of MYSQL_USER when only that is known.
// The password travels in MYSQL_PWD, which both clients read.
import type { Readable } from 'node:stream';
import {
  capture,
  envIf,
  findTool,
  stream,
  toolFailed,
  type DumpStream,
  type EngineCtx,
  type LoadResult,
  type Probe,
} from './engine.js';
import type { DumpEngine } from './types.js';

const COMPLETE = '-- Dump completed';
const AUTH_FAILED = /access denied for user/i;

const tools = (engine: DumpEngine, kind: 'dump' | 'client'): string[] => {
  const mariadb = kind === 'dump' ? ['mariadb-dump', 'mysqldump'] : ['mariadb', 'mysql'];
  return engine === 'mariadb' ? mariadb : [...mariadb].reverse();
};
const connArgs = (ctx: EngineCtx) => [`--user=${ctx.creds.user ?? 'root'}`];
const connEnv = (ctx: EngineCtx) => envIf('MYSQL_PWD', ctx.creds.password);

/** argv after the tool's name; pure, so the flags are table-tested. */
export function mysqlDumpArgs(ctx: Pick<EngineCtx, 'creds'>): string[] {
  const what = ctx.creds.database ? ['--databases', ctx.creds.database] : ['--all-databases', '--flush-privileges'];
  return [
    `--user=${ctx.creds.user ?? 'root'}`,
    '--single-transaction',
    '--routines',
    '--events',
    '--triggers',
    '--hex-blob',
    '--default-character-set=utf8mb4',
    ...what,
  ];
}

export async function startMysqlDump(ctx: EngineCtx, engine: DumpEngine): Promise<DumpStream> {
  const tool = await findTool(ctx, tools(engine, 'dump'), `to dump ${engine === 'mariadb' ? 'MariaDB' : 'MySQL'}`);
  if (ctx.creds.database)
    ctx.log(
      'warn',
      `${ctx.what}: no root password in its environment: only database ${ctx.creds.database} of ${ctx.creds.user} is dumped (no users, grants or other databases)`,
    );
  const run = await stream(ctx, { argv: [tool, ...mysqlDumpArgs(ctx)], env: connEnv(ctx) });
  return {
    tool,
    run,
    validate: (_head, tail) =>
      tail.toString('utf8').includes(COMPLETE) ? undefined : `the dump does not end with "${COMPLETE}": it is cut off`,
  };
}

export async function probeMysql(ctx: EngineCtx, engine: DumpEngine): Promise<Probe> {
  const tool = await findTool(ctx, tools(engine, 'client'), 'to reach the server');
  const r = await capture(
    ctx,
    { argv: [tool, ...connArgs(ctx), '--batch', '--skip-column-names', '-e', 'SELECT 1'], env: connEnv(ctx) },
    30_000,
  );
  const said = (r.stderr || r.stdout).trim();
  if (r.exitCode === 0 && r.stdout.trim() === '1') return { ready: true, said };
  if (AUTH_FAILED.test(said))
    return {
      ready: false,
      fatal: `the server refuses the credentials from the container's environment: ${said}`,
      said,
    };
  return { ready: false, said };
}

export async function loadMysql(ctx: EngineCtx, engine: DumpEngine, input: Readable): Promise<LoadResult> {
  const tool = await findTool(ctx, tools(engine, 'client'), 'to load the dump');
  const run = await stream(
    ctx,
    { argv: [tool, ...connArgs(ctx), '--binary-mode', '--default-character-set=utf8mb4'], env: connEnv(ctx) },
    input,
  );
  run.stdout.resume();
  const exitCode = await run.finished;
  ctx.signal.throwIfAborted();
  if (exitCode !== 0) throw toolFailed(ctx, tool, 'loading the dump', { exitCode, stderr: run.stderr() });
  const q = await capture(ctx, {
    argv: [
      tool,
      ...connArgs(ctx),
      '--batch',
      '--skip-column-names',
      '-e',
      "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA NOT IN ('mysql','information_schema','performance_schema','sys')",
    ],
    env: connEnv(ctx),
  });
  return { detail: q.exitCode === 0 ? `${q.stdout.trim()} tables` : 'loaded' };
}
