// Run a command inside a running container (docker exec) with a timeout, capturing its output.
import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';

export interface ExecResult {
  exitCode: number | null;
  /** stdout and stderr interleaved, last 64 KiB */
  output: string;
  timedOut: boolean;
}

const KEEP_BYTES = 64 * 1024;

export interface ExecOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  /**
   * The engine runs on this machine (unix socket): on timeout or abort the exec'd process is killed
   * by its host pid, since the engine API has no call for that.
   */
  localEngine?: boolean;
}

export async function execInContainer(
  docker: Docker,
  container: string,
  argv: string[],
  opts: ExecOptions,
): Promise<ExecResult> {
  opts.signal?.throwIfAborted();
  const exec = await docker
    .getContainer(container)
    .exec({ Cmd: argv, AttachStdout: true, AttachStderr: true, AttachStdin: false, Tty: false });
  const stream = (await exec.start({ hijack: true, stdin: false })) as NodeJS.ReadWriteStream & { destroy(): void };
  const chunks: Buffer[] = [];
  let kept = 0;
  const sink = new PassThrough();
  sink.on('data', (b: Buffer) => {
    chunks.push(b);
    kept += b.length;
    while (kept > KEEP_BYTES && chunks.length > 1) kept -= chunks.shift()!.length;
  });
  docker.modem.demuxStream(stream, sink, sink);
  let timedOut = false;
  await new Promise<void>((resolve) => {
    const finish = () => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', stop);
      resolve();
    };
    const stop = () => {
      stream.destroy();
      finish();
    };
    const timer = setTimeout(() => {
      timedOut = true;
      stop();
    }, opts.timeoutMs);
    if (opts.signal?.aborted) return stop();
    opts.signal?.addEventListener('abort', stop, { once: true });
    stream.on('end', finish);
    stream.on('close', finish);
    stream.on('error', finish);
  });
  const output = Buffer.concat(chunks).toString('utf8');
  if (timedOut || opts.signal?.aborted) {
    if (opts.localEngine) await killExec(exec);
    return { exitCode: null, output, timedOut };
  }
  // The exit code is set a moment after the stream ends.
  for (let i = 0; i < 50; i++) {
    const info = await exec.inspect();
    if (!info.Running && info.ExitCode !== null) return { exitCode: info.ExitCode, output, timedOut: false };
    await new Promise((r) => setTimeout(r, 20));
  }
  return { exitCode: null, output, timedOut: false };
}

async function killExec(exec: Docker.Exec): Promise<void> {
  try {
    const { Pid, Running } = (await exec.inspect()) as { Pid?: number; Running: boolean };
    if (Running && Pid && Pid > 1) process.kill(Pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
}
