// Shared bits of the restore integration tests: a request with defaults, and removal of what a
// restore created once the test is over.
import type Docker from 'dockerode';
import { onTestFinished } from 'vitest';
import { emptyRenames } from '../../src/restore/renames.js';
import type { RestoreRequest } from '../../src/restore/types.js';

/** Remove what a restore created, after the test. */
export function cleanupAfter(
  docker: Docker,
  objects: { containers?: string[]; volumes?: string[]; networks?: string[] },
): void {
  onTestFinished(async () => {
    for (const c of objects.containers ?? [])
      await docker
        .getContainer(c)
        .remove({ force: true })
        .catch(() => undefined);
    for (const v of objects.volumes ?? [])
      await docker
        .getVolume(v)
        .remove({ force: true })
        .catch(() => undefined);
    for (const n of objects.networks ?? [])
      await docker
        .getNetwork(n)
        .remove()
        .catch(() => undefined);
  });
}

export const request = (backupDir: string, o: Partial<RestoreRequest> = {}): RestoreRequest => ({
  backupDir,
  containers: [],
  volumes: [],
  networks: [],
  all: false,
  renames: emptyRenames(),
  force: false,
  start: true,
  verify: true,
  ...o,
});
