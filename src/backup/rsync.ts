// tar as bbackup runs it for archives, and how a failed copy tool (bbcopy, tar) is reported.
import { BbackupError, lastLines } from '../errors.js';

/**
 * GNU tar of a folder's contents as ./path members, keeping owners, modes, times, xattrs, ACLs, holes.
 * `-b 256`: 128 KiB records instead of tar's 10 KiB, so tar and the compressor make a twelfth of the
 * system calls on the pipe between them (about a second of CPU per GiB on this machine kind). The
 * members are the same; only the zero padding after the end-of-archive blocks can grow (up to
 * 128 KiB before compression), which every tar reader and our gate skip.
 */
export function tarCreateArgs(dir: string): string[] {
  return [
    '-C',
    dir,
    '--numeric-owner',
    '--xattrs',
    '--xattrs-include=*',
    '--acls',
    '--sparse',
    '-b',
    '256',
    '-cf',
    '-',
    '.',
  ];
}

/** A failed rsync/tar as our error: a full store is DISK, a killed tool says so plainly. */
export function toolError(
  tool: string,
  what: string,
  r: { exitCode?: number; signal?: string; stderr?: string },
): BbackupError {
  const stderr = lastLines(r.stderr, 8);
  if (/No space left on device|ENOSPC|Disk quota exceeded/i.test(stderr)) {
    return new BbackupError(
      'DISK',
      `no space left on the store while copying ${what} (${tool}): ${lastLines(stderr, 2)}`,
      { tool, stderr },
    );
  }
  if (r.signal)
    return new BbackupError('TOOL_FAILED', `${tool} was killed (${r.signal}) while copying ${what}`, {
      tool,
      signal: r.signal,
      stderr,
    });
  return new BbackupError(
    'TOOL_FAILED',
    `${tool} failed (exit ${r.exitCode}) while copying ${what}${stderr ? `: ${stderr}` : ''}`,
    { tool, exitCode: r.exitCode, stderr },
  );
}
