// Network job: the network's inspect, enough to recreate it (driver, IPAM, options, labels).
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type Docker from 'dockerode';
import { rel } from '../store/layout.js';
import { PRIVATE_DIR, PRIVATE_FILE } from '../store/private.js';
import type { NetworkItem } from '../store/manifest.js';
import { dockerError } from '../docker/errors.js';
import { fileEntry } from './hash.js';

export async function saveNetwork(
  docker: Docker,
  name: string,
  folder: string,
  signal: AbortSignal,
): Promise<NetworkItem> {
  signal.throwIfAborted();
  let inspect: Docker.NetworkInspectInfo;
  try {
    inspect = await docker.getNetwork(name).inspect();
  } catch (err) {
    throw dockerError(err, `network ${name}`, signal);
  }
  const path = rel.network(name);
  await mkdir(dirname(join(folder, path)), { recursive: true, mode: PRIVATE_DIR });
  await writeFile(join(folder, path), `${JSON.stringify(inspect, null, 2)}\n`, { mode: PRIVATE_FILE });
  return { kind: 'network', name, id: inspect.Id, driver: inspect.Driver, files: [await fileEntry(folder, path)] };
}
