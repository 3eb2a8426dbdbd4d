// Who a bbackup run is, well enough to tell later whether it is still alive. A bare pid is not:
// pids are recycled (after a reboot, or when the daemon runs as pid 1 of a restarted container,
// the same number belongs to a new process), so a lock, a helper container or a stopped-container
// journal entry of a dead run would pass for a live one. A run is {runId, pid, start time of the
// pid (field 22 of /proc/<pid>/stat, clock ticks since boot), boot id, hostname, pid namespace};
// it is alive only when all of them match a process that exists now.
import { randomBytes } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';

export interface RunIdentity {
  /** random, unique per process: names helper containers and reader marks */
  runId: string;
  pid: number;
  /** /proc/<pid>/stat field 22; absent where /proc is not readable */
  startTime?: string;
  /** /proc/sys/kernel/random/boot_id */
  bootId?: string;
  hostname: string;
  /** /proc/self/ns/pid: pids of another namespace (another container) cannot be probed from here */
  pidNs?: string;
}

/** alive / dead: known for sure; unknown: another machine or pid namespace, or an old record without identity. */
export type Liveness = 'alive' | 'dead' | 'unknown';

const readText = (path: string): string | undefined => {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
};

/** Field 22 of /proc/<pid>/stat; the command name (field 2) may hold spaces and ")", so count after the last ")". */
export function readStartTime(pid: number): string | undefined {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  const stat = readText(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[19]; // fields[0] is field 3 (state)
}

export const readBootId = (): string | undefined => readText('/proc/sys/kernel/random/boot_id');

function readPidNs(): string | undefined {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return undefined;
  }
}

/** Does a process with this pid exist? Signal 0 probes without touching it; EPERM: it exists, not ours. */
export function pidExists(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

let self: RunIdentity | undefined;

/** This process's identity (computed once; the run id stays the same for the life of the process). */
export function currentRun(): RunIdentity {
  self ??= {
    runId: randomBytes(6).toString('hex'),
    pid: process.pid,
    startTime: readStartTime(process.pid),
    bootId: readBootId(),
    hostname: osHostname(),
    pidNs: readPidNs(),
  };
  return self;
}

/**
 * Is the run that recorded `id` alive? On this machine (same hostname, boot id and pid namespace)
 * the answer is exact: alive only when the pid exists now AND started at the recorded time. A record
 * without a start time (written by an older bbackup) can only be proven dead.
 */
export function runLiveness(id: Pick<RunIdentity, 'pid' | 'hostname'> & Partial<RunIdentity>): Liveness {
  const me = currentRun();
  if (id.hostname !== me.hostname) return 'unknown';
  if (id.bootId !== undefined && me.bootId !== undefined && id.bootId !== me.bootId) return 'dead'; // rebooted since
  if (id.pidNs !== undefined && me.pidNs !== undefined && id.pidNs !== me.pidNs) return 'unknown';
  if (!pidExists(id.pid)) return 'dead';
  if (id.startTime === undefined || id.bootId === undefined) return 'unknown';
  const now = readStartTime(id.pid);
  if (now === undefined) return 'unknown';
  return now === id.startTime ? 'alive' : 'dead';
}

/** A run identity read back from a file or a label: only the fields with the right types. */
export function parseRunIdentity(value: unknown): RunIdentity | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (
    typeof v.runId !== 'string' ||
    typeof v.pid !== 'number' ||
    !Number.isInteger(v.pid) ||
    typeof v.hostname !== 'string'
  )
    return undefined;
  const str = (x: unknown) => (typeof x === 'string' ? x : undefined);
  return {
    runId: v.runId,
    pid: v.pid,
    hostname: v.hostname,
    startTime: str(v.startTime),
    bootId: str(v.bootId),
    pidNs: str(v.pidNs),
  };
}

export const describeRun = (id: Pick<RunIdentity, 'pid' | 'hostname'>): string => `pid ${id.pid} on ${id.hostname}`;
