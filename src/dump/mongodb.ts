// MongoDB: mongodump --archive to stdout, mongorestore --archive --drop from stdin. The
// password never goes in argv: it is written to a 0600 YAML file in the container's /tmp that
// the tools read with --config, and removed afterwards. Not tested against a real server
// (Debian ships no MongoDB); the command lines are table-tested.
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { BbackupError } from '../errors.js';
import {
  capture,
  findTool,
  lineSplitter,
  stream,
  toolFailed,
  type DumpStream,
  type EngineCtx,
  type LoadResult,
  type Probe,
} from './engine.js';

/** mongodump's archive format starts with this magic number (little endian 0x8199e26d). */
const ARCHIVE_MAGIC = Buffer.from([0x6d, 0xe2, 0x99, 0x81]);

/** Auth arguments; `configPath` is the file holding the password. Pure, for table tests. */
export function mongoAuthArgs(user: string | undefined, configPath: string | undefined): string[] {
  if (!user) return [];
  return ['--username', user, '--authenticationDatabase', 'admin', ...(configPath ? [`--config=${configPath}`] : [])];
}

/** The --config file's body: YAML, the password as a JSON string (valid YAML double-quoted scalar). */
export const mongoConfigBody = (password: string): string => `password: ${JSON.stringify(password)}\n`;

/** Write the password file; returns its path and a remover. */
async function passwordFile(ctx: EngineCtx): Promise<{ path?: string; remove: () => Promise<void> }> {
  if (!ctx.creds.user || ctx.creds.password === undefined) return { remove: async () => undefined };
  const path = `/tmp/bbackup-${randomBytes(6).toString('hex')}.yaml`;
  const r = await capture(
    ctx,
    { argv: ['sh', '-c', 'umask 077 && cat > "$0"', path] },
    30_000,
    Readable.from([mongoConfigBody(ctx.creds.password)]),
  );
  if (r.exitCode !== 0) throw toolFailed(ctx, 'sh', 'writing the password file for the MongoDB tools', r);
  const remove = async () =>
    void (await capture({ ...ctx, signal: AbortSignal.timeout(30_000) }, { argv: ['rm', '-f', path] }).catch(
      () => undefined,
    ));
  return { path, remove };
}

export async function startMongoDump(ctx: EngineCtx): Promise<DumpStream> {
  const tool = await findTool(ctx, ['mongodump'], 'to dump MongoDB');
  const secret = await passwordFile(ctx);
  try {
    const run = await stream(ctx, { argv: [tool, '--archive', ...mongoAuthArgs(ctx.creds.user, secret.path)] });
    return {
      tool,
      run,
      cleanup: secret.remove,
      validate: (head) =>
        head.subarray(0, 4).equals(ARCHIVE_MAGIC) ? undefined : 'the output is not a mongodump archive',
    };
  } catch (err) {
    await secret.remove();
    throw err;
  }
}

export async function probeMongo(ctx: EngineCtx): Promise<Probe> {
  const tool = await findTool(ctx, ['mongosh', 'mongo'], 'to reach the server');
  const r = await capture(ctx, { argv: [tool, '--quiet', '--eval', 'db.adminCommand({ ping: 1 }).ok'] }, 30_000);
  const said = (r.stderr || r.stdout).trim();
  return { ready: r.exitCode === 0 && r.stdout.trim().endsWith('1'), said };
}

/** "12 document(s) restored successfully. 0 document(s) failed to restore." */
export function parseMongoRestore(line: string): { restored: number; failed: number } | undefined {
  const m = /(\d+) document\(s\) restored successfully\. (\d+) document\(s\) failed to restore/.exec(line);
  return m ? { restored: Number(m[1]), failed: Number(m[2]) } : undefined;
}

export async function loadMongo(ctx: EngineCtx, input: Readable): Promise<LoadResult> {
  const tool = await findTool(ctx, ['mongorestore'], 'to load the MongoDB dump');
  const secret = await passwordFile(ctx);
  let counts: { restored: number; failed: number } | undefined;
  const onErr = lineSplitter((line) => (counts = parseMongoRestore(line) ?? counts));
  try {
    const run = await stream(
      ctx,
      { argv: [tool, '--archive', '--drop', ...mongoAuthArgs(ctx.creds.user, secret.path)] },
      input,
      onErr,
    );
    run.stdout.resume();
    const exitCode = await run.finished;
    ctx.signal.throwIfAborted();
    if (exitCode !== 0) throw toolFailed(ctx, tool, 'loading the dump', { exitCode, stderr: run.stderr() });
    if (counts && counts.failed > 0)
      throw new BbackupError(
        'DUMP_FAILED',
        `${ctx.what}: mongorestore could not restore ${counts.failed} documents`,
        counts,
      );
    return { detail: counts ? `${counts.restored} documents` : 'loaded' };
  } finally {
    await secret.remove();
  }
}
