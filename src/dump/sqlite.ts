// SQLite: the `.backup` command (the online backup API: a consistent copy while writers go on)
// run by the container's own sqlite3, or by a helper that mounts the container's volumes when
// the image has none. `.backup` must write a real file, so the copy lands in /tmp of the
// container (or of the helper) for the moment it is streamed out, and is removed after.
// On restore the file is put in place before the server starts, owned like the file it
// replaces, and stale -wal/-shm/-journal files of the file copy are removed so they cannot be
// replayed onto it.
import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import { BbackupError } from '../errors.js';
import { capture, stream, toolFailed, type DumpStream, type EngineCtx } from './engine.js';
import { NOT_FOUND_EXIT, toolMessage } from './exec.js';
import { runDbHelper } from './helper.js';

const MAGIC = 'SQLite format 3\0';
const validate = (head: Buffer) =>
  head.subarray(0, 16).toString('latin1') === MAGIC ? undefined : 'the copy is not an SQLite database file';

/** sqlite3 argv that writes a consistent copy of `db` to `out`; read-only, so a wrong path never creates an empty database. */
export const sqliteBackupArgs = (db: string, out: string): string[] => [
  '-readonly',
  '-bail',
  '-cmd',
  '.timeout 30000',
  db,
  `.backup '${out}'`,
];

export interface SqliteEnv {
  /** the container's mounts (destination paths): a helper sees only those */
  mounts: { destination: string }[];
  helperLabels?: Record<string, string>;
}

export const onAMount = (path: string, mounts: { destination: string }[]): boolean =>
  mounts.some(
    (m) => path === m.destination || path.startsWith(m.destination.endsWith('/') ? m.destination : `${m.destination}/`),
  );

export async function startSqliteDump(ctx: EngineCtx, path: string, env: SqliteEnv): Promise<DumpStream> {
  const own = await capture(ctx, { argv: ['sqlite3', '-version'] }, 30_000);
  if (own.exitCode === null || !NOT_FOUND_EXIT.has(own.exitCode)) return inContainer(ctx, path);
  if (!onAMount(path, env.mounts)) {
    throw new BbackupError(
      'DUMP_FAILED',
      `${ctx.what}: its image has no sqlite3, and ${path} is not on one of its volumes or bind mounts, where a helper could reach it`,
    );
  }
  ctx.log('debug', `${ctx.what}: no sqlite3 in the image; a helper container takes the copy`);
  const run = await runDbHelper(ctx.docker, {
    volumesFrom: ctx.container,
    // the same arguments as sqliteBackupArgs, with the path as $0
    cmd: [
      'sh',
      '-c',
      `sqlite3 -readonly -bail -cmd '.timeout 30000' "$0" '.backup /tmp/copy.db' && exec cat /tmp/copy.db`,
      path,
    ],
    signal: ctx.signal,
    labels: env.helperLabels,
  });
  return { tool: 'sqlite3 .backup (helper)', run, path, dataDir: posix.dirname(path), validate };
}

async function inContainer(ctx: EngineCtx, path: string): Promise<DumpStream> {
  const tmp = `/tmp/bbackup-${randomBytes(6).toString('hex')}.db`;
  const cleanup = async () =>
    void (await capture({ ...ctx, signal: AbortSignal.timeout(30_000) }, { argv: ['rm', '-f', tmp] }).catch(
      () => undefined,
    ));
  try {
    const r = await capture(ctx, { argv: ['sqlite3', ...sqliteBackupArgs(path, tmp)] }, 3_600_000);
    if (r.exitCode !== 0) throw toolFailed(ctx, 'sqlite3', `copying ${path}`, r);
    const run = await stream(ctx, { argv: ['cat', tmp] });
    return { tool: 'sqlite3 .backup', run, path, dataDir: posix.dirname(path), validate, cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

// Run in the helper with the file as $0: write beside it, check it, take over the owner and mode
// of what it replaces (or of its folder), drop stale journals, then rename into place.
const PLACE_SQLITE = `set -e
f="$0"; t="$f.bbackup-new"; d=$(dirname "$f"); mkdir -p "$d"
cat > "$t"
r=$(sqlite3 "$t" "PRAGMA integrity_check;" "SELECT count(*) FROM sqlite_master WHERE type='table';")
rm -f "$t-wal" "$t-shm" "$t-journal"
[ "$(echo "$r" | head -n 1)" = ok ] || { echo "integrity check failed: $r" >&2; rm -f "$t"; exit 3; }
if [ -e "$f" ]; then chown "$(stat -c %u:%g "$f")" "$t"; chmod "$(stat -c %a "$f")" "$t"; else chown "$(stat -c %u:%g "$d")" "$t"; chmod 644 "$t"; fi
rm -f "$f-wal" "$f-shm" "$f-journal"
mv -f "$t" "$f"
echo "$r" | tail -n 1`;

const PLACE_PLAIN = `set -e
f="$0"; t="$f.bbackup-new"; d=$(dirname "$f"); mkdir -p "$d"
cat > "$t"
if [ -e "$f" ]; then chown "$(stat -c %u:%g "$f")" "$t"; chmod "$(stat -c %a "$f")" "$t"; else chown "$(stat -c %u:%g "$d")" "$t"; chmod 644 "$t"; fi
mv -f "$t" "$f"`;

/**
 * Put a file from the backup at `path` inside a created (not yet started) container, through a
 * helper mounting its volumes. sqlite: checked with integrity_check first; returns the table count.
 */
export async function placeFile(
  ctx: EngineCtx,
  path: string,
  input: Readable,
  kind: 'sqlite' | 'plain',
  mounts: { destination: string }[],
  helperLabels?: Record<string, string>,
): Promise<string> {
  if (!onAMount(path, mounts))
    throw new BbackupError(
      'DUMP_FAILED',
      `${ctx.what}: ${path} is not on one of its volumes or bind mounts: the copy from the backup cannot be put in place`,
    );
  const run = await runDbHelper(ctx.docker, {
    volumesFrom: ctx.container,
    cmd: ['sh', '-c', kind === 'sqlite' ? PLACE_SQLITE : PLACE_PLAIN, path],
    stdin: input,
    signal: ctx.signal,
    labels: helperLabels,
  });
  let out = '';
  run.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
  const code = await run.finished;
  ctx.signal.throwIfAborted();
  if (code !== 0)
    throw new BbackupError(
      'DUMP_FAILED',
      `${ctx.what}: putting ${path} in place failed (exit ${code ?? 'unknown'}):\n${toolMessage(run.stderr(), out)}`,
    );
  return out.trim();
}
