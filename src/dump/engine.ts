// What every engine module (postgres.ts, mysql.ts, mongodb.ts, redis.ts, sqlite.ts) offers, and
// the context they work in: one container, its credentials, the job's signal. Engines build
// argv arrays and read tool output; running things is exec.ts's job.
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { BbackupError } from '../errors.js';
import type { LogLevel } from '../events.js';
import type { Credentials } from './credentials.js';
import {
  captureExec,
  NOT_FOUND_EXIT,
  startExec,
  toolMessage,
  type CapturedExec,
  type ExecSpec,
  type RunningExec,
} from './exec.js';

export interface EngineCtx {
  docker: Docker;
  /** name or id of the container to exec in */
  container: string;
  /** "container db", for messages */
  what: string;
  creds: Credentials;
  signal: AbortSignal;
  localEngine: boolean;
  log(level: LogLevel, msg: string): void;
}

/** A dump in progress: the tool's stdout is the dump. */
export interface DumpStream {
  tool: string;
  run: RunningExec;
  /** a problem with the output (first and last bytes) that the exit code did not show */
  validate(head: Buffer, tail: Buffer): string | undefined;
  /** runs after the stream, whatever happened (temporary files) */
  cleanup?: () => Promise<void>;
  /** recorded in the manifest: the file the server loads (redis, sqlite), where its data lives */
  path?: string;
  dataDir?: string;
}

export interface LoadResult {
  /** words for the report: "12345 rows", "3 tables", "1200 keys" */
  detail: string;
}

export interface Probe {
  ready: boolean;
  /** a problem waiting will not fix (wrong credentials): give up at once */
  fatal?: string;
  /** what the probe said, shown when the wait times out */
  said: string;
}

export const CAPTURE_TIMEOUT_MS = 60_000;

export function capture(
  ctx: EngineCtx,
  spec: ExecSpec,
  timeoutMs = CAPTURE_TIMEOUT_MS,
  stdin?: Readable,
): Promise<CapturedExec> {
  return captureExec(ctx.docker, ctx.container, spec, {
    signal: ctx.signal,
    localEngine: ctx.localEngine,
    timeoutMs,
    stdin,
  });
}

export function stream(
  ctx: EngineCtx,
  spec: ExecSpec,
  stdin?: Readable,
  onStderr?: (chunk: Buffer) => void,
): Promise<RunningExec> {
  return startExec(ctx.docker, ctx.container, spec, {
    signal: ctx.signal,
    localEngine: ctx.localEngine,
    stdin,
    onStderr,
  });
}

/** The first of `candidates` the container has (each is run with `versionArg`). */
export async function findTool(
  ctx: EngineCtx,
  candidates: string[],
  purpose: string,
  versionArg = '--version',
): Promise<string> {
  for (const tool of candidates) {
    const r = await capture(ctx, { argv: [tool, versionArg] }, 30_000);
    if (r.exitCode !== null && NOT_FOUND_EXIT.has(r.exitCode)) continue;
    return tool;
  }
  throw new BbackupError(
    'DUMP_FAILED',
    `${ctx.what}: ${candidates.join(' or ')} (needed ${purpose}) is not in the container's image; use an image that has it, or label the container bbackup.dump=none`,
    { tools: candidates },
  );
}

/** A tool that exited non-zero, as the error the user reads. */
export function toolFailed(
  ctx: Pick<EngineCtx, 'what'>,
  tool: string,
  doing: string,
  r: { exitCode: number | null; stderr: string; stdout?: string },
): BbackupError {
  const how = r.exitCode === null ? 'was cut off' : `exited ${r.exitCode}`;
  return new BbackupError(
    'DUMP_FAILED',
    `${ctx.what}: ${tool} ${how} while ${doing}:\n${toolMessage(r.stderr, r.stdout)}`,
    { tool, exitCode: r.exitCode },
  );
}

/** KEY=value entries for the credentials a tool reads from its environment. */
export const envIf = (key: string, value: string | undefined): string[] =>
  value === undefined || value === '' ? [] : [`${key}=${value}`];

/** Lines of a text stream, one call per complete line (for output that can be large). */
export function lineSplitter(onLine: (line: string) => void): (chunk: Buffer | string) => void {
  let rest = '';
  return (chunk) => {
    const text = rest + chunk.toString();
    const lines = text.split('\n');
    rest = lines.pop()!.slice(-4096);
    for (const l of lines) onLine(l);
  };
}
