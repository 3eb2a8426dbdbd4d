// A new backup's id and its .partial folder. Ids are the start time in UTC, to the second; runs
// that start in the same second get -2, -3 ... The mkdir without `recursive` is the atomic claim.
import { access, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { BbackupError } from '../errors.js';
import { backupIdFor, PARTIAL_SUFFIX } from './layout.js';
import { PRIVATE_DIR } from './private.js';

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

export async function allocateBackup(hostFolder: string, now: Date): Promise<{ id: string; partial: string }> {
  await mkdir(hostFolder, { recursive: true, mode: PRIVATE_DIR });
  const base = backupIdFor(now);
  for (let n = 1; n < 1000; n++) {
    const id = n === 1 ? base : `${base}-${n}`;
    if (await exists(join(hostFolder, id))) continue;
    const partial = join(hostFolder, id + PARTIAL_SUFFIX);
    try {
      await mkdir(partial, { mode: PRIVATE_DIR }); // renamed to the backup: private from the start
      return { id, partial };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') continue;
      throw new BbackupError(
        'DISK',
        `cannot create ${partial}: ${(err as Error).message}`,
        { path: partial },
        { cause: err },
      );
    }
  }
  throw new BbackupError('CONFLICT', `too many backups started in the second ${base}`);
}
