// Redis: BGSAVE makes the server write a fresh RDB (a fork: a point-in-time snapshot, writers
// go on), then the file is streamed out with `cat`. Redis replaces its RDB by rename, so a save
// finishing meanwhile cannot change the bytes being read. On restore the RDB is put in place
// before the server starts (it loads it at start-up). The password goes in REDISCLI_AUTH.
import { BbackupError } from '../errors.js';
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

const AUTH_FAILED = /NOAUTH|WRONGPASS|invalid password|Authentication required/i;
// BGSAVE of a small data set ends within milliseconds: poll soon, then back off to MAX_POLL_MS.
const FIRST_POLL_MS = 20;
const MAX_POLL_MS = 200;

const cli = async (ctx: EngineCtx, tool: string, args: string[]) => {
  const r = await capture(ctx, {
    argv: [tool, '--no-auth-warning', ...args],
    env: envIf('REDISCLI_AUTH', ctx.creds.password),
  });
  const out = r.stdout.trim();
  if (AUTH_FAILED.test(out) || AUTH_FAILED.test(r.stderr))
    throw new BbackupError(
      'DUMP_FAILED',
      `${ctx.what}: Redis refuses the password from the container's environment (REDIS_PASSWORD or --requirepass): ${out || r.stderr.trim()}`,
    );
  if (r.exitCode !== 0 || /^(ERR|\(error\))/.test(out)) throw toolFailed(ctx, tool, `running ${args.join(' ')}`, r);
  return out;
};

/** INFO's "key:value" lines as a map. */
export function parseInfo(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) m.set(line.slice(0, i), line.slice(i + 1).trim());
  }
  return m;
}

/** CONFIG GET's reply ("dir\n/data") as the value. */
export const configValue = (reply: string): string => reply.split(/\r?\n/)[1]?.trim() ?? '';

export async function startRedisDump(ctx: EngineCtx): Promise<DumpStream> {
  const tool = await findTool(ctx, ['redis-cli', 'valkey-cli'], 'to dump Redis');
  const before = parseInfo(await cli(ctx, tool, ['INFO', 'persistence']));
  const lastSave = Number(await cli(ctx, tool, ['LASTSAVE']));
  // rdb_saves (Redis 7+) counts saves; older servers only have LASTSAVE, whose unit is a second
  const savesBefore = before.has('rdb_saves') ? Number(before.get('rdb_saves')) : undefined;
  if (savesBefore === undefined) await new Promise((r) => setTimeout(r, 1100));
  // A save already running began before we asked: ours is scheduled after it, and counted.
  let wanted = (savesBefore ?? 0) + 1;
  const reply = await cli(ctx, tool, ['BGSAVE']).catch(async (err: unknown) => {
    if (!/already in progress/i.test(String((err as Error).message))) throw err;
    wanted++;
    return cli(ctx, tool, ['BGSAVE', 'SCHEDULE']);
  });
  ctx.log('debug', `${ctx.what}: ${reply}`);
  for (let pollMs = FIRST_POLL_MS; ; pollMs = Math.min(MAX_POLL_MS, pollMs * 2)) {
    ctx.signal.throwIfAborted();
    await new Promise((r) => setTimeout(r, pollMs));
    const info = parseInfo(await cli(ctx, tool, ['INFO', 'persistence']));
    if (info.get('rdb_bgsave_in_progress') === '1') continue;
    const done =
      savesBefore !== undefined
        ? Number(info.get('rdb_saves')) >= wanted
        : Number(await cli(ctx, tool, ['LASTSAVE'])) > lastSave;
    if (!done) continue;
    if (info.get('rdb_last_bgsave_status') !== 'ok')
      throw new BbackupError(
        'DUMP_FAILED',
        `${ctx.what}: Redis could not write its snapshot (rdb_last_bgsave_status ${info.get('rdb_last_bgsave_status')}); see the container's log`,
      );
    break;
  }
  const dir = configValue(await cli(ctx, tool, ['CONFIG', 'GET', 'dir']));
  const file = configValue(await cli(ctx, tool, ['CONFIG', 'GET', 'dbfilename']));
  if (!dir.startsWith('/') || !file)
    throw new BbackupError(
      'DUMP_FAILED',
      `${ctx.what}: Redis did not say where its snapshot is (CONFIG GET dir/dbfilename answered "${dir}" "${file}")`,
    );
  if (configValue(await cli(ctx, tool, ['CONFIG', 'GET', 'appendonly'])) === 'yes') {
    ctx.log(
      'warn',
      `${ctx.what}: appendonly is on: on restore Redis loads its append-only file if the restored volume holds one, not this snapshot`,
    );
  }
  const path = `${dir.replace(/\/$/, '')}/${file}`;
  const run = await stream(ctx, { argv: ['cat', path] });
  return {
    tool: `${tool} BGSAVE`,
    run,
    path,
    dataDir: dir,
    validate: (head) =>
      head.subarray(0, 5).toString('latin1') === 'REDIS' ? undefined : 'the snapshot is not an RDB file',
  };
}

export async function probeRedis(ctx: EngineCtx): Promise<Probe> {
  const tool = await findTool(ctx, ['redis-cli', 'valkey-cli'], 'to reach the server');
  try {
    const out = await cli(ctx, tool, ['PING']);
    return { ready: out === 'PONG', said: out };
  } catch (err) {
    const said = (err as Error).message;
    if (/refuses the password/.test(said)) return { ready: false, fatal: said, said };
    return { ready: false, said };
  }
}

/** The RDB was loaded at start-up; this only reports what the server holds. */
export async function reportRedis(ctx: EngineCtx): Promise<LoadResult> {
  const tool = await findTool(ctx, ['redis-cli', 'valkey-cli'], 'to reach the server');
  return { detail: `${await cli(ctx, tool, ['DBSIZE'])} keys` };
}
