// Shared by every bench/*.ts: timing, and the one row format scripts/bench.sh collects into a
// single table. A bench prints each result as one line `BENCH {json}` on stdout (anything else it
// prints is shown as progress). Fields: bench, case, value (what bbackup took or used), baseline
// (the bare tool, when there is one), ratio, target (text), pass.
import { execFileSync, spawnSync } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import Docker from 'dockerode';

export interface BenchRow {
  bench: string;
  case: string;
  /** seconds, or MB for memory rows */
  value: number;
  unit: 's' | 'MB' | 'MB/s' | '%';
  baseline?: number;
  ratio?: number;
  target: string;
  pass: boolean;
  note?: string;
}

export function report(row: BenchRow): void {
  process.stdout.write(`BENCH ${JSON.stringify(row)}\n`);
}

export function say(msg: string): void {
  process.stdout.write(`  ${msg}\n`);
}

/** Run a command (argv, no shell) and return the wall time in seconds; throws with stderr on failure. */
export function timed(file: string, args: string[], opts: { cwd?: string } = {}): number {
  // Dirty pages of the previous step must not be flushed on this step's clock.
  spawnSync('sync');
  const t0 = process.hrtime.bigint();
  const r = spawnSync(file, args, { cwd: opts.cwd, stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 64 << 20 });
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0)
    throw new Error(`${file} ${args.join(' ')} failed (${r.status ?? r.signal}): ${String(r.stderr).slice(-2000)}`);
  return s;
}

/** A shell pipeline for the bare-tool baselines (the bench's own fixed strings, never user input). */
export function timedShell(script: string): number {
  spawnSync('sync');
  const t0 = process.hrtime.bigint();
  execFileSync('bash', ['-euo', 'pipefail', '-c', script], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, BASH_ENV: '' },
  });
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/*
 * Files removed, then as many created, is slow on ext4 without a journal (this machine's root): for
 * 60 s after a delete, 360 s while its inode table block is dirty (which new files next to it make
 * it again), the allocator skips the freed inodes, checking each one (ialloc.c, recently_deleted).
 * A run that created 19,000 files after another was removed spent 10-20 s of system time there,
 * whichever tool it was (seen: rsync 3.6 s, then 11 s; bbcopy 3.4 s, then 19 s). So the benches
 * remove what they made only after the runs that create many files (removeTree), call
 * settleRemovals before such runs, and alternate which tool goes first: each run's new files still
 * slow the next one down a little.
 */
let lastRemoval = 0;

export async function removeTree(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true });
  removed();
}

/** For removals made otherwise (a Docker volume removed). */
export function removed(): void {
  lastRemoval = Date.now();
}

/** Waits until the last removeTree is over a minute old, its inode tables written back (sync). */
export async function settleRemovals(): Promise<void> {
  if (lastRemoval === 0) return;
  spawnSync('sync');
  const wait = lastRemoval + 61_000 - Date.now();
  if (wait > 0) {
    say(`waiting ${Math.ceil(wait / 1000)} s: ext4 does not reuse inodes freed in the last minute at full speed`);
    await sleep(wait);
  }
  lastRemoval = 0;
}

export const round = (n: number, digits = 2): number => Math.round(n * 10 ** digits) / 10 ** digits;

/** The middle of the runs (issue 12: each case 3 times, the median reported). */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** The engine the benches use: DOCKER_HOST (scripts/bench.sh sets it), else the system socket. */
export function benchDocker(): Docker {
  const host = process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
  if (!host.startsWith('unix://')) throw new Error(`bench: needs a local engine (unix://), not ${host}`);
  return new Docker({ socketPath: host.slice('unix://'.length) });
}
