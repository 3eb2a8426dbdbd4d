// The catalog of one host's store: backups are folders with a manifest; `.partial` folders are
// never listed, never parents, and are removed by the next run that holds the lock.
import { opendir, readdir, rm, lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { BACKUP_ID_RE, PARTIAL_SUFFIX } from './layout.js';
import { readManifest, type Manifest } from './manifest.js';

export interface CatalogEntry {
  id: string;
  /** the folder of the backup */
  dir: string;
  /** undefined when the manifest could not be read (see `damaged`) */
  manifest?: Manifest;
  /** why the manifest is unreadable */
  damaged?: string;
}

/** Backups of one host folder, oldest first. A missing folder has none. */
export async function listBackups(hostFolder: string): Promise<CatalogEntry[]> {
  let names: string[];
  try {
    names = await readdir(hostFolder);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const ids = names.filter((n) => BACKUP_ID_RE.test(n)).sort(compareIds);
  const entries: CatalogEntry[] = [];
  for (const id of ids) {
    const dir = join(hostFolder, id);
    try {
      entries.push({ id, dir, manifest: await readManifest(dir) });
    } catch (err) {
      entries.push({ id, dir, damaged: (err as Error).message });
    }
  }
  return entries;
}

/** Ids sort by time, then by clash suffix (-2 after the bare id, -10 after -9). */
export function compareIds(a: string, b: string): number {
  const [ta, sa = '1'] = a.split('-');
  const [tb, sb = '1'] = b.split('-');
  return ta! < tb! ? -1 : ta! > tb! ? 1 : Number(sa) - Number(sb);
}

/** Host folders in a store (each named by safeSegment(host)). */
export async function listHostFolders(store: string): Promise<string[]> {
  try {
    const entries = await readdir(store, { withFileTypes: true });
    return entries
      .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
      .map((e) => e.name)
      .sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** Remove leftover `.partial` folders; call only while holding the host's lock. */
export async function removePartials(hostFolder: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(hostFolder);
  } catch {
    return [];
  }
  const partials = names.filter((n) => n.endsWith(PARTIAL_SUFFIX));
  for (const p of partials) await rm(join(hostFolder, p), { recursive: true, force: true });
  return partials;
}

/**
 * Bytes on disk (allocated blocks) of a folder: `size` counts every inode once inside it;
 * `added` counts only inodes not in `seen` (pass one set over backups oldest first to get what
 * each adds beyond the older ones, like `du`); `seen` is updated.
 */
export async function diskUsage(dir: string, seen = new Set<string>()): Promise<{ size: number; added: number }> {
  let size = 0;
  let added = 0;
  const local = new Set<string>();
  const stack = [dir];
  while (stack.length > 0) {
    const current = stack.pop()!;
    const st = await lstat(current, { bigint: true });
    const key = `${st.dev}:${st.ino}`;
    if (!local.has(key)) {
      local.add(key);
      const bytes = Number(st.blocks) * 512;
      size += bytes;
      if (!seen.has(key)) {
        seen.add(key);
        added += bytes;
      }
    }
    if (!st.isDirectory()) continue;
    for await (const e of await opendir(current)) stack.push(join(current, e.name));
  }
  return { size, added };
}
