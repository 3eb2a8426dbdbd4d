// Shared pieces of the operations integration tests (prefix bbt-ops-): a config file from an
// object, the Docker event log of some containers, and checksums of a volume's files.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { onTestFinished } from 'vitest';
import { runInBusybox } from '../helpers/docker.js';

export async function tempDir(area: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `bbt-ops-${area}-`));
  onTestFinished(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  return dir;
}

/** JSON is YAML: the config file is the object as JSON. */
export async function writeConfig(dir: string, config: Record<string, unknown>): Promise<string> {
  const path = join(dir, 'bbackup.yaml');
  await writeFile(path, JSON.stringify(config, null, 2));
  return path;
}

export interface DockerEvent {
  status: string;
  name: string;
  time: number;
}

/** Records container events (start, die, stop, exec_start ...) of the named containers until stopped. */
export async function watchEvents(
  docker: Docker,
  names: string[],
): Promise<{ events: DockerEvent[]; stop: () => void }> {
  const events: DockerEvent[] = [];
  const stream = (await docker.getEvents({
    filters: { type: ['container'], container: names },
  })) as NodeJS.ReadableStream & { destroy(): void };
  let rest = '';
  stream.on('data', (chunk: Buffer) => {
    const lines = (rest + chunk.toString('utf8')).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.trim()) continue;
      const e = JSON.parse(line) as {
        status?: string;
        Action?: string;
        Actor?: { Attributes?: { name?: string } };
        timeNano?: number;
      };
      events.push({
        status: (e.Action ?? e.status ?? '').split(':')[0]!,
        name: e.Actor?.Attributes?.name ?? '',
        time: Math.round((e.timeNano ?? 0) / 1e6),
      });
    }
  });
  stream.on('error', () => undefined);
  const stop = () => stream.destroy();
  onTestFinished(stop);
  return { events, stop };
}

/** "sha256  ./path" for every regular file, plus modes/owners/link targets of every entry, sorted. */
export async function volumeFingerprint(docker: Docker, volume: string): Promise<string> {
  const out = await runInBusybox(
    docker,
    'cd /v && find . -type f -exec sha256sum {} + | sort -k2 && find . -exec stat -c "%n %a %u:%g %F %s" {} + | sort && find . -type l -exec readlink {} + | sort',
    [`${volume}:/v:ro`],
  );
  return out;
}

export async function isRunning(docker: Docker, name: string): Promise<boolean> {
  return (await docker.getContainer(name).inspect()).State.Running;
}
