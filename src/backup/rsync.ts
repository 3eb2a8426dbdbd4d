// rsync and tar as bbackup runs them, in one place for the host and the worker readers.
import { BbackupError, lastLines } from '../errors.js';

/**
 * Everything DESIGN §3 asks a snapshot to keep: owners (numeric), modes, times, links, hard links,
 * ACLs, xattrs, sparse files, fifos and sockets; never device nodes (--no-devices: a container's
 * root can mknod one in its volume). rsync names each device it leaves out on stdout
 * (--info=nonreg: "skipping non-regular file"), which progressParser reports.
 */
export function rsyncSnapshotArgs(source: string, target: string, linkDest?: string): string[] {
  // --modify-window=-1: compare times to the nanosecond; otherwise rsync skips setting the time of
  // a dir, symlink or fifo whose copy was created within the same second as its source.
  const args = ['-aHAXS', '--no-devices', '--numeric-ids', '--modify-window=-1', '--info=progress2,nonreg', '--no-human-readable'];
  if (linkDest) args.push(`--link-dest=${linkDest}`);
  args.push(`${source.replace(/\/+$/, '')}/`, `${target.replace(/\/+$/, '')}/`);
  return args;
}

/** GNU tar of a folder's contents as ./path members, keeping owners, modes, times, xattrs, ACLs, holes. */
export function tarCreateArgs(dir: string): string[] {
  return ['-C', dir, '--numeric-owner', '--xattrs', '--xattrs-include=*', '--acls', '--sparse', '-cf', '-', '.'];
}

/**
 * Parses rsync --info=progress2 output, which rewrites one line with \r:
 * "    1234567  45%   12.34MB/s    0:00:10 (xfr#3, to-chk=5/9)". Returns bytes and rsync's own
 * total estimate (from the percentage) for each complete update in a chunk, and each path of a
 * "skipping non-regular file" line (with rsyncSnapshotArgs' flags: a device node left out).
 */
export function progressParser(onUpdate: (bytes: number, total?: number) => void, onSkipped?: (path: string) => void): (chunk: string) => void {
  let rest = '';
  return (chunk) => {
    const parts = (rest + chunk).split(/[\r\n]/);
    rest = parts.pop() ?? '';
    for (const part of parts) {
      const skipped = /^skipping non-regular file "(.*)"$/.exec(part);
      if (skipped) {
        onSkipped?.(skipped[1]!);
        continue;
      }
      const m = /^\s*([\d,]+)\s+(\d+)%/.exec(part);
      if (!m) continue;
      const bytes = Number(m[1]!.replace(/,/g, ''));
      const pct = Number(m[2]);
      onUpdate(bytes, pct > 0 ? Math.round((bytes * 100) / pct) : undefined);
    }
  };
}

/** rsync's exit codes that mean the copy is complete enough: 24 = source files vanished meanwhile. */
export const RSYNC_OK = new Set([0, 24]);

/** A failed rsync/tar as our error: a full store is DISK, a killed tool says so plainly. */
export function toolError(tool: string, what: string, r: { exitCode?: number; signal?: string; stderr?: string }): BbackupError {
  const stderr = lastLines(r.stderr, 8);
  if (/No space left on device|ENOSPC|Disk quota exceeded/i.test(stderr)) {
    return new BbackupError('DISK', `no space left on the store while copying ${what} (${tool}): ${lastLines(stderr, 2)}`, { tool, stderr });
  }
  if (r.signal) return new BbackupError('TOOL_FAILED', `${tool} was killed (${r.signal}) while copying ${what}`, { tool, signal: r.signal, stderr });
  return new BbackupError('TOOL_FAILED', `${tool} failed (exit ${r.exitCode}) while copying ${what}${stderr ? `: ${stderr}` : ''}`, { tool, exitCode: r.exitCode, stderr });
}
