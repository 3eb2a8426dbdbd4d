// The store is private to root (README "Store permissions"). A volume may hold a setuid-root
// program or its container's secrets, and inspect.json holds the container's environment: the
// store root, each host folder and every backup folder are 0700, the files bbackup writes 0600.
// The 0700 parents are what protect a tree snapshot: its files keep the volume's own modes
// (restore needs them), and nothing under a 0700 folder is reachable by other users.
import { chmod, mkdir, stat } from 'node:fs/promises';

export const PRIVATE_DIR = 0o700;
export const PRIVATE_FILE = 0o600;

/** mkdir -p with every folder it creates 0700 (existing folders are left as they are). */
export async function makePrivateDir(path: string): Promise<void> {
  await mkdir(path, { recursive: true, mode: PRIVATE_DIR });
}

/**
 * chmod 0700 each existing folder that others can reach (a store made by an older version, or
 * by hand); returns what was changed, for the log. Call it holding the host's lock.
 */
export async function tightenDirs(paths: string[]): Promise<{ path: string; was: number }[]> {
  const changed: { path: string; was: number }[] = [];
  for (const path of paths) {
    const st = await stat(path).catch(() => undefined);
    if (!st?.isDirectory() || (st.mode & 0o077) === 0) continue;
    await chmod(path, PRIVATE_DIR);
    changed.push({ path, was: st.mode & 0o7777 });
  }
  return changed;
}

export const octal = (mode: number): string => `0${(mode & 0o7777).toString(8)}`;
