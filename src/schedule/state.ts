// What the scheduler remembers between runs: <store>/.schedule-state.json. The daemon, `schedule
// run` (systemd) and `schedule list` share it. Written to a temporary file and renamed, so a crash
// never leaves half a file; writes in one process are serialised, and a read-modify-write re-reads
// the file first so that the daemon and a systemd run do not undo each other's entries.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { expandHome } from '../config/locate.js';
import type { Config } from '../config/schema.js';
import type { RunStatus } from '../notify/report.js';
import { parseRunIdentity, runLiveness, type RunIdentity } from '../process-identity.js';

export const STATE_FILE = '.schedule-state.json';

export interface ScheduleRunState {
  lastStart?: string;
  lastEnd?: string;
  lastStatus?: RunStatus;
  lastBackupId?: string | null;
  lastError?: string | null;
  lastHost?: string;
  runs?: number;
  /** runs skipped because the previous one was still going */
  skipped?: number;
  lastSkipped?: string;
  /** runs found missed when the daemon started */
  missed?: number;
  lastMissed?: string;
}

export interface ScheduleState {
  version: 1;
  /** run: the daemon's identity (absent in files written by older versions) */
  daemon?: { pid: number; started: string; lastSeen: string; run?: RunIdentity };
  schedules: Record<string, ScheduleRunState>;
}

export const statePathFor = (config: Config): string => join(expandHome(config.backup.store), STATE_FILE);

export async function readState(path: string): Promise<ScheduleState> {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as Partial<ScheduleState>;
    return { version: 1, daemon: parsed.daemon, schedules: parsed.schedules ?? {} };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // A missing file is a first start; a damaged one is rebuilt rather than stopping the schedules.
    if (code === 'ENOENT' || err instanceof SyntaxError) return { version: 1, schedules: {} };
    throw err;
  }
}

const queues = new Map<string, Promise<unknown>>();

/** Read, change and write the state file; calls for one path run one after another. */
export function updateState(path: string, change: (s: ScheduleState) => void): Promise<ScheduleState> {
  const run = async () => {
    const state = await readState(path);
    change(state);
    await mkdir(dirname(path), { recursive: true });
    const tmp = `${path}.${process.pid}.tmp`;
    await writeFile(tmp, `${JSON.stringify(state, null, 2)}\n`);
    await rename(tmp, path);
    return state;
  };
  const prev = queues.get(path) ?? Promise.resolve();
  const next = prev.then(run, run);
  queues.set(
    path,
    next.catch(() => undefined),
  );
  return next;
}

export function patchSchedule(
  path: string,
  name: string,
  patch: (s: ScheduleRunState) => void,
): Promise<ScheduleState> {
  return updateState(path, (state) => {
    const entry = (state.schedules[name] ??= {});
    patch(entry);
  });
}

/** Is the daemon that wrote the state alive? By its identity (a recycled pid never passes); an
 * older file without one: its pid exists and it was seen within the last two heartbeats. */
export function isDaemonAlive(
  d: NonNullable<ScheduleState['daemon']>,
  hostname: string,
  now = Date.now(),
  heartbeatMs = 30_000,
): boolean {
  const run = parseRunIdentity(d.run);
  if (run) return runLiveness(run) === 'alive';
  return runLiveness({ pid: d.pid, hostname }) === 'unknown' && now - Date.parse(d.lastSeen) <= 2 * heartbeatMs;
}
