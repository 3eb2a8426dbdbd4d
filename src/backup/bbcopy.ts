// bbcopy, the copy engine (native/*.c, built into dist/native/bbcopy by `npm run build`; README
// "The copy engine"): where it is, its arguments and its stdout protocol (native/progress.c).
// Host and stream mode run it here (runBbcopy); worker mode runs the same binary inside the helper
// container, from the worker image (BBCOPY_IN_IMAGE, src/docker/images.ts).
import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { bbcopyPath } from '../paths.js';
import { groupSuspender, killGroupOnAbort } from './process-group.js';
import { toolError } from './rsync.js';
import type { ReadContext } from './volume-readers/types.js';

export { BBCOPY_IN_IMAGE, bbcopyPath } from '../paths.js';

/** Where the time went inside bbcopy, in ms (the bench's phase breakdown). */
export interface BbcopyPhases {
  walkMs: number;
  readMs: number;
  hashMs: number;
  writeMs: number;
  metadataMs: number;
  indexMs: number;
}

/** The last line of a tree run. */
export interface TreeSummary extends BbcopyPhases {
  entries: number;
  files: number;
  /** logical bytes of regular files */
  bytes: number;
  /** files read and hashed (the rest inherited a proven hash) */
  hashed: number;
  hashedBytes: number;
  /** files hard-linked to the parent snapshot */
  linked: number;
  devices: number;
  vanished: number;
  problems: number;
}

/** The last line of a sink run. */
export interface SinkSummary extends BbcopyPhases {
  size: number;
  sha256: string;
}

interface Parent {
  root: string;
  index: string;
}
const parentArgs = (p?: Parent) => (p ? ['--parent-root', p.root, '--parent-index', p.index] : []);

/** source -> empty target, index written, unchanged files hard-linked to the parent's. */
export const copyArgs = (a: { source: string; target: string; index: string; parent?: Parent }): string[] => [
  'copy',
  '--source',
  a.source,
  '--target',
  a.target,
  '--index',
  a.index,
  ...parentArgs(a.parent),
];

/** A tree extracted in place: indexed with the stream's hashes, unchanged files linked to the parent's. */
export const adoptArgs = (a: { target: string; index: string; hashes?: string; parent?: Parent }): string[] => [
  'adopt',
  '--target',
  a.target,
  '--index',
  a.index,
  ...(a.hashes ? ['--hashes', a.hashes] : []),
  ...parentArgs(a.parent),
];

/** snapshot -> empty volume; with expect, every entry is checked against that index on the way. */
export const restoreArgs = (a: { source: string; target: string; expect?: string }): string[] => [
  'restore',
  '--source',
  a.source,
  '--target',
  a.target,
  ...(a.expect ? ['--expect', a.expect] : []),
];

/** stdin -> a new file, hashed on the way. */
export const sinkArgs = (out: string): string[] => ['sink', '--out', out];

export interface OutputHandlers {
  progress?(bytes: number): void;
  device?(path: string): void;
  vanished?(path: string): void;
  problem?(p: { p: string; problem: string }): void;
}

export interface OutputParser<S> {
  write(text: string): void;
  end(): void;
  /** the S line, once seen */
  readonly summary: S | undefined;
}

/** Splits bbcopy's stdout (any chunking) into its protocol lines. */
export function bbcopyOutput<S>(h: OutputHandlers): OutputParser<S> {
  let rest = '';
  let summary: S | undefined;
  const line = (l: string) => {
    const body = l.slice(2);
    switch (l[0]) {
      case 'P':
        h.progress?.(Number(body));
        break;
      case 'D':
        h.device?.(JSON.parse(body) as string);
        break;
      case 'V':
        h.vanished?.(JSON.parse(body) as string);
        break;
      case 'X':
        h.problem?.(JSON.parse(body) as { p: string; problem: string });
        break;
      case 'S':
        summary = JSON.parse(body) as S;
        break;
      default:
        break; // a line of a newer protocol: ignored
    }
  };
  return {
    write(text) {
      const lines = (rest + text).split('\n');
      rest = lines.pop() ?? '';
      for (const l of lines) if (l.length > 1) line(l);
    },
    end() {
      if (rest.length > 1) line(rest);
      rest = '';
    },
    get summary() {
      return summary;
    },
  };
}

export interface RunOptions {
  signal: AbortSignal;
  /** registers the process for pause (SIGSTOP of its group) */
  suspendable?: ReadContext['suspendable'];
  /** what bbcopy reads (sink): a producer's stdout pipe is handed over as it is; any other stream is piped in */
  stdin?: Readable;
  /** for messages: "volume x" */
  what: string;
}

/** A child process's stdout pipe that nobody has read from yet: it can become another child's stdin. */
export function hasPipeHandle(s: Readable): boolean {
  const handle = (s as unknown as { _handle?: { fd?: number } })._handle;
  return typeof handle?.fd === 'number' && handle.fd >= 0 && s.readableFlowing === null;
}

/** Exit codes after which the result stands: 24 = some entries vanished meanwhile, 3 = restore found problems. */
const DONE = new Set([0, 24, 3]);

/** Runs bbcopy here, in its own process group; resolves with its summary and exit code. */
export async function runBbcopy<S>(
  args: string[],
  o: RunOptions,
  h: OutputHandlers,
): Promise<{ summary: S; exitCode: number; stderr: string }> {
  const direct = o.stdin !== undefined && hasPipeHandle(o.stdin);
  const proc = spawn(bbcopyPath(), args, {
    detached: true,
    stdio: [direct ? o.stdin! : o.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  });
  // The child holds its own copy of the producer's pipe now; ours would only keep it open.
  if (direct) o.stdin!.destroy();
  const feed = o.stdin && !direct ? pipeline(o.stdin, proc.stdin!) : Promise.resolve();
  feed.catch(() => proc.kill('SIGKILL')); // the input failed: what bbcopy wrote is incomplete
  const out = bbcopyOutput<S>(h);
  let stderr = '';
  proc.stdout!.setEncoding('utf8').on('data', (t: string) => out.write(t));
  proc.stderr!.setEncoding('utf8').on('data', (t: string) => (stderr = (stderr + t).slice(-65536)));
  const unregister = o.suspendable?.(groupSuspender(proc)) ?? (() => undefined);
  const unhook = killGroupOnAbort(proc, o.signal);
  try {
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
      proc.once('error', reject);
      // 'close': the exit code AND every byte of stdout/stderr are in
      proc.once('close', (c, s) => resolve([c, s]));
    });
    out.end();
    o.signal.throwIfAborted();
    await feed; // its error (a stage before us) says more than bbcopy's
    if (code === null || !DONE.has(code) || !out.summary)
      throw toolError('bbcopy', o.what, { exitCode: code ?? undefined, signal: signal ?? undefined, stderr });
    return { summary: out.summary, exitCode: code, stderr };
  } finally {
    unhook();
    unregister();
  }
}

/** The phases of a summary, for debug logs and the bench. */
export const phasesOf = (s: BbcopyPhases): BbcopyPhases => ({
  walkMs: s.walkMs,
  readMs: s.readMs,
  hashMs: s.hashMs,
  writeMs: s.writeMs,
  metadataMs: s.metadataMs,
  indexMs: s.indexMs,
});
