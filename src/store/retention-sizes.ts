// What each local backup occupies, by inode, for the retention quota: hard-linked snapshots
// share files, so the same inode in two backups must count once.
import { lstat, opendir } from 'node:fs/promises';
import { join } from 'node:path';

/** inode key "dev:ino" -> allocated bytes, for every entry under dir (the dir itself included). */
export async function inodeSizes(dir: string, signal?: AbortSignal): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const stack = [dir];
  while (stack.length > 0) {
    signal?.throwIfAborted();
    const current = stack.pop()!;
    const st = await lstat(current, { bigint: true });
    out.set(`${st.dev}:${st.ino}`, Number(st.blocks) * 512);
    if (st.isDirectory()) for await (const e of await opendir(current)) stack.push(join(current, e.name));
  }
  return out;
}
