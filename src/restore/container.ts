// Creating a container from its saved definition: image defaults looked up, create, join the other
// networks, and (when it was running at backup time) start. A half-made container is removed again.
import type Docker from 'dockerode';
import { dockerError } from '../docker/errors.js';
import { buildContainerSpec, type SpecContext } from './container-spec.js';
import type { ContainerConfig, ContainerInspect } from './inspect-types.js';
import type { Sandbox } from './types.js';

export async function imageConfig(docker: Docker, ref: string): Promise<ContainerConfig | undefined> {
  try {
    const info = (await docker.getImage(ref).inspect()) as { Config?: ContainerConfig };
    return info.Config ?? undefined;
  } catch {
    return undefined;
  }
}

export interface CreatedContainer {
  id: string;
  notes: string[];
}

export async function createContainer(
  docker: Docker,
  inspect: ContainerInspect,
  ctx: Omit<SpecContext, 'image'>,
  sandbox?: Sandbox,
): Promise<CreatedContainer> {
  const image = await imageConfig(docker, ctx.imageRef);
  const spec = buildContainerSpec(inspect, { ...ctx, image });
  sandbox?.container(spec);
  let container: Docker.Container;
  try {
    container = await docker.createContainer(spec.create as unknown as Docker.ContainerCreateOptions);
  } catch (err) {
    throw dockerError(err, `could not create container ${ctx.target}`);
  }
  try {
    for (const ep of spec.connect) {
      await docker
        .getNetwork(ep.network)
        .connect({ Container: container.id, EndpointConfig: ep.config as Docker.EndpointSettings });
    }
  } catch (err) {
    await container.remove({ force: true }).catch(() => undefined);
    throw dockerError(err, `could not join container ${ctx.target} to its networks`);
  }
  return { id: container.id, notes: spec.notes };
}

export async function startContainer(docker: Docker, id: string, name: string): Promise<void> {
  try {
    await docker.getContainer(id).start();
  } catch (err) {
    throw dockerError(err, `container ${name} was restored but did not start`);
  }
}

/** Stop and remove (for --force); the caller has said so to the user. */
export async function removeContainer(docker: Docker, name: string): Promise<void> {
  const c = docker.getContainer(name);
  await c.stop({ t: 10 }).catch(() => undefined);
  await c.remove({ force: true, v: false }).catch((err: { statusCode?: number }) => {
    if (err.statusCode !== 404) throw dockerError(err, `could not remove container ${name}`);
  });
}
