// One image build at a time across the suite's worker processes: test files run in parallel, and two
// files that both need an offline-built image (mmdebstrap: minutes of CPU) would each build it.
// The lock is a file made with O_EXCL holding the builder's pid, one per engine and image; a waiter
// polls it, and a lock whose pid is gone (a crashed worker) is taken over.
import { createHash } from 'node:crypto';
import { open, readFile, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** Runs `build` holding the lock for (engine, image); `build` should first check whether the image exists. */
export async function withBuildLock<T>(engine: string, image: string, build: () => Promise<T>): Promise<T> {
  const key = createHash('sha256').update(`${engine}\0${image}`).digest('hex').slice(0, 16);
  const path = join(tmpdir(), `bbackup-test-build-${key}.lock`);
  for (;;) {
    const handle = await open(path, 'wx', 0o600).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
      return undefined;
    });
    if (handle) {
      try {
        await handle.writeFile(String(process.pid));
        await handle.close();
        return await build();
      } finally {
        await unlink(path).catch(() => undefined);
      }
    }
    const holder = Number(await readFile(path, 'utf8').catch(() => ''));
    // An empty file is a lock being written this instant; a dead pid is a builder that crashed.
    if (holder > 0 && !alive(holder)) await unlink(path).catch(() => undefined);
    else await sleep(500);
  }
}
