// Containers' environments for dump detection. They hold secrets: kept in memory for the plan,
// never put into it (the plan records only the engine found).
import type Docker from 'dockerode';
import type { ContainerInfo } from '../docker/inventory.js';

const PARALLEL = 8;

/** name -> Config.Env for each container; one that vanished meanwhile is left out. */
export async function readContainerEnv(docker: Docker, containers: ContainerInfo[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  let next = 0;
  const worker = async () => {
    while (next < containers.length) {
      const c = containers[next++]!;
      const info = await docker
        .getContainer(c.id)
        .inspect()
        .catch(() => undefined);
      if (info) out.set(c.name, info.Config.Env ?? []);
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, containers.length) }, worker));
  return out;
}
