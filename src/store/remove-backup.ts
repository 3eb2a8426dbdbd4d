// Removing one local backup, for rotation (call while holding the host's lock). The backup is first
// renamed to a hidden .removing-<id> folder, so a crash half way through deleting never leaves a
// folder that looks like a backup (the next run holding the lock removes the rest, leftovers.ts);
// and it is not removed at all while a live reader (restore, pull, verify) uses it: the marks are
// read and the rename is made under the readers' gate (readers.ts says why that is enough).
import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describeReader, readMarks, withReadersGate } from './readers.js';

export const REMOVING_PREFIX = '.removing-';

export type RemoveResult = { removed: true } | { removed: false; inUseBy: string };

export async function removeLocalBackup(hostFolder: string, id: string, signal?: AbortSignal): Promise<RemoveResult> {
  const doomed = join(hostFolder, `${REMOVING_PREFIX}${id}`);
  // Only lock holders make .removing-* folders: one here now is a dead holder's leftover.
  await rm(doomed, { recursive: true, force: true });
  const users = await withReadersGate(
    hostFolder,
    async () => {
      const using = (await readMarks(hostFolder)).filter((m) => m.live && m.mark?.backup === id);
      if (using.length === 0) await rename(join(hostFolder, id), doomed);
      return using;
    },
    signal,
  );
  if (users.length > 0) return { removed: false, inUseBy: users.map((u) => describeReader(u.mark!)).join(', ') };
  await rm(doomed, { recursive: true, force: true });
  return { removed: true };
}
