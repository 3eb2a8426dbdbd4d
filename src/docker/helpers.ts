// Short-lived helper containers (DESIGN §4) carry these labels: bbackup.helper=1 so leftovers can
// be found, and bbackup.owner=<hostname>:<pid> so a start-up sweep removes only the helpers of
// runs that died on this machine, never those of another live run (backup or restore).
import { hostname } from 'node:os';
import type Docker from 'dockerode';
import { isPidAlive } from '../pid.js';

export const HELPER_LABEL = 'bbackup.helper';
export const OWNER_LABEL = 'bbackup.owner';

export const ownerId = (): string => `${hostname()}:${process.pid}`;

/** Remove helpers whose owner process is dead on this machine; returns their names. */
export async function removeStaleHelpers(docker: Docker): Promise<string[]> {
  const removed: string[] = [];
  const list = await docker.listContainers({ all: true, filters: { label: [`${HELPER_LABEL}=1`] } });
  for (const c of list) {
    const owner = c.Labels?.[OWNER_LABEL] ?? '';
    const sep = owner.lastIndexOf(':');
    if (owner.slice(0, sep) !== hostname() || isPidAlive(Number(owner.slice(sep + 1)))) continue;
    await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
    removed.push(c.Names[0]?.replace(/^\//, '') ?? c.Id);
  }
  return removed;
}
