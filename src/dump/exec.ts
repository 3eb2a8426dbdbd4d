// `docker exec` as a stream: the tool's stdout flows out demultiplexed with backpressure (a dump
// is never held in memory), stderr is kept (last 64 KiB) for the error a user reads, stdin can be
// fed from a stream (a load), and the exit code is read once the stream ends. Secrets travel in
// the exec's Env, which the engine passes to the process and never shows in `ps`.
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type Docker from 'dockerode';
import { dockerError } from '../docker/errors.js';
import { demuxTransform } from '../backup/demux.js';

export interface ExecSpec {
  argv: string[];
  /** KEY=value for the process only (credentials go here, never in argv) */
  env?: string[];
  /** user to run as; default: the container's own user */
  user?: string;
}

export interface ExecOptions {
  signal: AbortSignal;
  /** fed to the process's stdin; the stdin is closed when it ends */
  stdin?: Readable;
  /** the engine runs on this machine: an aborted exec's process is killed by its host pid */
  localEngine?: boolean;
  /** every stderr chunk, as it comes (the kept tail is stderr()) */
  onStderr?: (chunk: Buffer) => void;
}

export interface RunningExec {
  /** the tool's stdout; read it (or resume it) or the tool stalls */
  stdout: Readable;
  /** the last 64 KiB of the tool's stderr so far */
  stderr(): string;
  /** settles when the stream has ended: the exit code (null when unknown, e.g. aborted) */
  finished: Promise<number | null>;
  /** give up on it (its reader failed): the stream is closed, the process killed where possible */
  stop(): void;
}

const KEEP = 64 * 1024;
/** The runtime could not start the program: it is not in the image (or not executable). */
export const NOT_FOUND_EXIT = new Set([126, 127]);

export async function startExec(
  docker: Docker,
  container: string,
  spec: ExecSpec,
  o: ExecOptions,
): Promise<RunningExec> {
  o.signal.throwIfAborted();
  let exec: Docker.Exec;
  let socket: NodeJS.ReadWriteStream & {
    destroy(err?: Error): void;
    on(ev: string, fn: (...a: unknown[]) => void): unknown;
  };
  try {
    exec = await docker.getContainer(container).exec({
      Cmd: spec.argv,
      Env: spec.env,
      User: spec.user,
      AttachStdin: o.stdin !== undefined,
      AttachStdout: true,
      AttachStderr: true,
      Tty: false,
    });
    socket = (await exec.start({ hijack: true, stdin: o.stdin !== undefined })) as typeof socket;
  } catch (err) {
    throw dockerError(err, `container ${container}`, o.signal);
  }
  let stderr = '';
  const demux = demuxTransform((b) => {
    o.onStderr?.(b);
    stderr = (stderr + b.toString('utf8')).slice(-KEEP);
  });
  const stdout = new PassThrough({ highWaterMark: 1 << 20 });
  // pipeline: an error anywhere (the connection breaks) reaches the reader of stdout
  pipeline(socket as unknown as NodeJS.ReadableStream, demux, stdout).catch(() => undefined);
  if (o.stdin) {
    // The tool may exit before reading everything (an error): the write side then fails with EPIPE.
    o.stdin.on('error', (err) => socket.destroy(err));
    o.stdin.pipe(socket);
    socket.on('error', () => o.stdin?.unpipe());
  }
  // reason: the reader is told why (a cancel); without one the reader has gone already
  const stop = (reason?: Error) => {
    socket.destroy();
    demux.destroy();
    stdout.destroy(reason);
    if (o.localEngine) void killExec(exec);
  };
  const onAbort = () => stop(o.signal.reason instanceof Error ? o.signal.reason : new Error('cancelled'));
  o.signal.addEventListener('abort', onAbort, { once: true });
  const finished = new Promise<void>((resolve) => {
    demux.on('end', resolve);
    demux.on('error', () => resolve());
    demux.on('close', resolve);
  }).then(async () => {
    o.signal.removeEventListener('abort', onAbort);
    if (o.signal.aborted) return null;
    return exitCodeOf(exec);
  });
  return { stdout, stderr: () => stderr, finished, stop: () => stop() };
}

export interface CapturedExec {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Run to the end and keep the output (small things: probes, queries, secrets). */
export async function captureExec(
  docker: Docker,
  container: string,
  spec: ExecSpec,
  o: ExecOptions & { timeoutMs: number },
): Promise<CapturedExec> {
  const timeout = AbortSignal.timeout(o.timeoutMs);
  const signal = AbortSignal.any([o.signal, timeout]);
  const run = await startExec(docker, container, spec, { ...o, signal });
  let out = '';
  run.stdout.setEncoding('utf8').on('data', (s: string) => (out = (out + s).slice(-KEEP)));
  run.stdout.on('error', () => undefined);
  const exitCode = await run.finished;
  o.signal.throwIfAborted();
  return { exitCode, stdout: out, stderr: run.stderr(), timedOut: timeout.aborted };
}

// The exit code is set a moment after the stream ends.
async function exitCodeOf(exec: Docker.Exec): Promise<number | null> {
  for (let i = 0; i < 100; i++) {
    const info = await exec.inspect().catch(() => undefined);
    if (info && !info.Running && info.ExitCode !== null) return info.ExitCode;
    await new Promise((r) => setTimeout(r, 50));
  }
  return null;
}

async function killExec(exec: Docker.Exec): Promise<void> {
  try {
    const { Pid, Running } = (await exec.inspect()) as { Pid?: number; Running: boolean };
    if (Running && Pid && Pid > 1) process.kill(Pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
}

/** The first line of the tool's own message that says what went wrong, plus the last few lines. */
export function toolMessage(stderr: string, stdout = ''): string {
  const text = (stderr.trim() || stdout.trim()).split('\n').filter((l) => l.trim() !== '');
  if (text.length === 0) return '(no output)';
  return text.length <= 6 ? text.join('\n') : [...text.slice(0, 2), '…', ...text.slice(-3)].join('\n');
}
