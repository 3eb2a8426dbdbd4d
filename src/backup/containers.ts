// Container job: the full `docker inspect` and the last N log lines (stdout and stderr, with
// timestamps). Docker multiplexes the two streams in 8-byte-framed chunks unless the container
// has a TTY, whose log is one raw stream.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type Docker from 'dockerode';
import { BbackupError } from '../errors.js';
import { rel } from '../store/layout.js';
import { PRIVATE_DIR, PRIVATE_FILE } from '../store/private.js';
import type { ContainerItem } from '../store/manifest.js';
import { demuxLogs } from '../docker/logs.js';
import { fileEntry } from './hash.js';
import { dockerError } from '../docker/errors.js';

export async function saveContainer(
  docker: Docker,
  name: string,
  folder: string,
  logLines: number,
  signal: AbortSignal,
): Promise<ContainerItem> {
  signal.throwIfAborted();
  const container = docker.getContainer(name);
  let inspect: Docker.ContainerInspectInfo;
  try {
    inspect = await container.inspect({ abortSignal: signal } as object);
  } catch (err) {
    throw dockerError(err, `container ${name}`, signal);
  }
  const inspectPath = rel.containerInspect(name);
  await mkdir(dirname(join(folder, inspectPath)), { recursive: true, mode: PRIVATE_DIR });
  // inspect.json holds the container's environment (passwords, tokens): root only
  await writeFile(join(folder, inspectPath), `${JSON.stringify(inspect, null, 2)}\n`, { mode: PRIVATE_FILE });
  const files = [await fileEntry(folder, inspectPath)];
  if (logLines > 0) {
    let raw: Buffer;
    try {
      raw = await container.logs({
        stdout: true,
        stderr: true,
        timestamps: true,
        tail: logLines,
        follow: false,
        abortSignal: signal,
      } as Docker.ContainerLogsOptions & { follow: false });
    } catch (err) {
      throw dockerError(err, `logs of container ${name}`, signal);
    }
    const text = inspect.Config.Tty ? raw : demuxLogs(raw);
    const logsPath = rel.containerLogs(name);
    await writeFile(join(folder, logsPath), text, { mode: PRIVATE_FILE });
    files.push(await fileEntry(folder, logsPath));
  }
  if (!inspect.Name) throw new BbackupError('DOCKER_FAILED', `container ${name}: inspect returned no name`);
  return { kind: 'container', name, id: inspect.Id, image: inspect.Config.Image, state: inspect.State.Status, files };
}
