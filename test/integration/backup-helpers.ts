// Shared setup for the backup engine's integration tests: a throwaway store, a config that
// points at it (retention off, so runs do not rotate each other away), a connection to the test
// engine, and volumes filled through their Mountpoint (we run as root on the Docker host).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';
import { parseConfigObject } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { connectDocker, resolveDockerTarget, type DockerConnection } from '../../src/docker/client.js';
import type { EngineEvent } from '../../src/events.js';
import { startBackup, type BackupDeps } from '../../src/jobs/backup-job.js';
import type { BackupRequest } from '../../src/backup/types.js';
import { createTestVolume, testDocker } from '../helpers/docker.js';
import { WORKER_IMAGE } from '../helpers/names.js';

export async function tempDir(prefix = 'bbt-bk-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  onTestFinished(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  return dir;
}

export function testConfig(
  store: string,
  backup: Record<string, unknown> = {},
  extra: Record<string, unknown> = {},
): Config {
  const volumes = (backup.volumes as Record<string, unknown> | undefined) ?? {};
  return parseConfigObject({
    backup: { store, ...backup, volumes: { worker_image: WORKER_IMAGE, ...volumes } },
    retention: { enabled: false },
    docker: { socket: engineSocket() },
    ...extra,
  });
}

export const engineSocket = (): string =>
  (process.env.BBACKUP_TEST_DOCKER_HOST ?? 'unix:///var/run/docker.sock').replace(/^unix:\/\//, '');

export async function connect(config: Config): Promise<DockerConnection> {
  return connectDocker(resolveDockerTarget(config, undefined, {}));
}

/** A labelled test volume and its Mountpoint. */
export async function makeVolume(area = 'bk'): Promise<{ name: string; mountpoint: string }> {
  const docker = testDocker();
  const name = await createTestVolume(docker, area.startsWith('bk') ? area : `bk-${area}`);
  const info = (await docker.getVolume(name).inspect()) as { Mountpoint: string };
  return { name, mountpoint: info.Mountpoint };
}

/** Run a shell script as root on the host (filling Mountpoints). */
export function sh(script: string): string {
  return execFileSync('bash', ['-euo', 'pipefail', '-c', script], {
    encoding: 'utf8',
    env: { ...process.env, BASH_ENV: '' },
  });
}

export interface RunOutcome {
  result: Awaited<ReturnType<typeof startBackup>['done']>;
  events: EngineEvent[];
}

export async function runBackup(
  request: BackupRequest,
  config: Config,
  extra: Partial<BackupDeps> = {},
): Promise<RunOutcome> {
  const docker = await connect(config);
  const events: EngineEvent[] = [];
  const job = startBackup(request, { config, docker, emit: (e) => events.push(e), ...extra });
  const result = await job.done;
  return { result, events };
}

export const volumesOnly = { containers: false, volumes: true, networks: false };

/** A file of `mb` MiB of incompressible bytes, quickly: one random MiB written over and over with a
 * counter in front of each copy, so no two blocks are equal (/dev/urandom is slow on this VM). */
export function bigFile(path: string, mb: number): void {
  const block = randomBytes(1 << 20);
  const fd = openSync(path, 'w');
  try {
    for (let i = 0; i < mb; i++) {
      block.writeUInt32BE(i, 0);
      writeSync(fd, block);
    }
  } finally {
    closeSync(fd);
  }
}
