// Is a process alive on this machine? Signal 0 probes without touching it; EPERM means it exists
// but belongs to someone else. Used for stale locks, stale helper containers and the scheduler.
export function isPidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
