// The processes the demo starts outside its own (private dockerd, sshd, bbackup daemon): checked and
// stopped by pid, never by name. The state file lets scripts/demo.sh stop them if this process was
// killed too hard to clean up (SIGKILL): one line per process, "pid marker", where the marker is a
// path in that process's command line, so a reused pid is never hit.
import { appendFileSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** Running, as opposed to gone or a zombie nobody has reaped yet. */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** SIGTERM by pid, then wait until it is gone (SIGKILL after `graceMs`). */
export async function stopPid(pid: number, graceMs = 5000): Promise<void> {
  if (!isRunning(pid)) return;
  process.kill(pid, 'SIGTERM');
  for (let waited = 0; isRunning(pid); waited += 50) {
    if (waited === graceMs) process.kill(pid, 'SIGKILL');
    if (waited > graceMs + 5000) throw new Error(`pid ${pid} did not stop`);
    await sleep(50);
  }
}

const record = (line: string) => {
  if (process.env.BBDEMO_STATE) appendFileSync(process.env.BBDEMO_STATE, `${line}\n`);
};

/** For scripts/demo.sh's safety net: a process it may stop (when `marker` is in its command line)... */
export const recordPid = (pid: number, marker: string): void => record(`pid ${pid} ${marker}`);
/** ...and a folder it may remove (only under /tmp/bbdemo-*). */
export const recordDir = (dir: string): void => record(`dir ${dir}`);
