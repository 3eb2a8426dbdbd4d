// Stream data through external programs (tar | zstd, age, rclone cat) as one Readable that ends
// only after every program exited 0. A program that fails after writing its output (age with a
// wrong key writes nothing and exits 1) must turn into a stream error, never a short, clean end.
import { execa, type ResultPromise } from 'execa';
import { PassThrough, type Readable } from 'node:stream';
import { BbackupError, isAbortError, lastLines } from '../errors.js';

export interface Step {
  file: string;
  args: string[];
  env?: Record<string, string | undefined>;
  cwd?: string;
}

export interface ChainOptions {
  signal?: AbortSignal;
  /** bytes fed to the first program's stdin */
  input?: Readable;
  /** words for the error message: "packing volume data" */
  what: string;
  /** turns a failed step into the error the user sees (default TOOL_FAILED with stderr) */
  classify?: (step: Step, stderr: string, err: unknown) => Error;
}

export function runChain(steps: Step[], o: ChainOptions): Readable {
  const out = new PassThrough({ highWaterMark: 1 << 20 });
  const procs: ResultPromise[] = steps.map((s) =>
    execa(s.file, s.args, {
      env: s.env,
      extendEnv: true,
      cwd: s.cwd,
      stdin: 'pipe',
      stdout: 'pipe',
      stderr: 'pipe',
      buffer: { stdout: false, stderr: true },
      cancelSignal: o.signal,
      forceKillAfterDelay: 3000,
    }),
  );
  const kill = () => procs.forEach((p) => p.kill());
  let failed = false;
  const fail = (err: Error) => {
    if (failed) return;
    failed = true;
    kill();
    out.destroy(err);
  };
  for (let i = 0; i < procs.length; i++) {
    const p = procs[i]!;
    const next = procs[i + 1];
    p.stdin!.on('error', () => undefined); // EPIPE when a later step died: reported through its exit
    if (next) p.stdout!.pipe(next.stdin!);
    else p.stdout!.pipe(out, { end: false });
  }
  if (o.input) {
    o.input.on('error', (err) => fail(err));
    o.input.pipe(procs[0]!.stdin!);
  } else procs[0]!.stdin!.end();
  out.on('close', () => {
    if (!out.readableEnded) kill(); // consumer gave up early
  });
  Promise.all(
    procs.map((p, i) =>
      p.catch((err: unknown) => {
        if (failed) return;
        if (isAbortError(err) || o.signal?.aborted)
          throw Object.assign(new Error('cancelled'), { name: 'AbortError', cause: err });
        const stderr = lastLines((err as { stderr?: string }).stderr, 10);
        throw (
          o.classify?.(steps[i]!, stderr, err) ??
          new BbackupError(
            'TOOL_FAILED',
            `${o.what}: ${steps[i]!.file} failed${stderr ? `: ${stderr}` : ''}`,
            { command: steps[i]!.file, stderr },
            { cause: err },
          )
        );
      }),
    ),
  ).then(
    () => {
      if (!failed) out.end();
    },
    (err: Error) => fail(err),
  );
  return out;
}
