// Creating a container from its saved definition: image defaults looked up, create, join the other
// networks, and (when it was running at backup time) start. A half-made container is removed again.
import type Docker from 'dockerode';
import { BbackupError } from '../errors.js';
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

export async function createContainer(docker: Docker, inspect: ContainerInspect, ctx: Omit<SpecContext, 'image'>, sandbox?: Sandbox): Promise<CreatedContainer> {
  const image = await imageConfig(docker, ctx.imageRef);
  const spec = buildContainerSpec(inspect, { ...ctx, image });
  sandbox?.container(spec);
  let container: Docker.Container;
  try {
    container = await docker.createContainer(spec.create as unknown as Docker.ContainerCreateOptions);
  } catch (err) {
    throw dockerError(`could not create container ${ctx.target}`, err);
  }
  try {
    for (const ep of spec.connect) {
      await docker.getNetwork(ep.network).connect({ Container: container.id, EndpointConfig: ep.config as Docker.EndpointSettings });
    }
  } catch (err) {
    await container.remove({ force: true }).catch(() => undefined);
    throw dockerError(`could not join container ${ctx.target} to its networks`, err);
  }
  return { id: container.id, notes: spec.notes };
}

export async function startContainer(docker: Docker, id: string, name: string): Promise<void> {
  try {
    await docker.getContainer(id).start();
  } catch (err) {
    throw dockerError(`container ${name} was restored but did not start`, err);
  }
}

/** Stop and remove (for --force); the caller has said so to the user. */
export async function removeContainer(docker: Docker, name: string): Promise<void> {
  const c = docker.getContainer(name);
  await c.stop({ t: 10 }).catch(() => undefined);
  await c.remove({ force: true, v: false }).catch((err: { statusCode?: number }) => {
    if (err.statusCode !== 404) throw dockerError(`could not remove container ${name}`, err);
  });
}

export function dockerError(what: string, err: unknown): BbackupError {
  const e = err as { json?: { message?: string }; message?: string; statusCode?: number };
  const reason = e.json?.message ?? e.message ?? String(err);
  return new BbackupError('DOCKER_FAILED', `${what}: ${reason}`, { statusCode: e.statusCode }, { cause: err });
}
