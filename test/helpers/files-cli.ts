// A config for CLI tests of file-level commands (restore --path, diff, status): a private store,
// the test engine, one volume format; and a volume with rich data backed up by the real CLI.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { expect } from 'vitest';
import { runCli } from './cli.js';
import { createTestContainer, createTestVolume } from './docker.js';
import { fillRichTree, mountpointOf } from './volume-data.js';

export interface FilesConfig {
  path: string;
  store: string;
  dir: string;
  env: Record<string, string | undefined>;
}

export async function filesConfig(tmp: string, format: 'tree' | 'archive', extra = ''): Promise<FilesConfig> {
  const dir = await mkdtemp(join(tmp, 'cfg-'));
  const store = join(dir, 'store');
  const path = join(dir, 'bbackup.yaml');
  const socket = process.env.BBACKUP_TEST_DOCKER_HOST!.replace('unix://', '');
  await writeFile(
    path,
    `docker: {socket: ${socket}}\nbackup:\n  store: ${store}\n  volumes: {format: ${format}}\nlogging: {file: ${join(dir, 'bbackup.log')}}\n${extra}`,
  );
  return { path, store, dir, env: { HOME: dir, BBACKUP_CONFIG: undefined, DOCKER_HOST: undefined } };
}

/** A volume filled with fillRichTree, used by a stopped container, backed up by `bbackup backup`. */
export async function backedUpVolume(
  docker: Docker,
  cfg: FilesConfig,
  area: string,
  /** more data written before the backup */
  more?: (mountpoint: string) => Promise<void>,
): Promise<{ volume: string; container: string; mountpoint: string; id: string }> {
  const volume = await createTestVolume(docker, area);
  const mountpoint = await mountpointOf(docker, volume);
  await fillRichTree(mountpoint);
  await more?.(mountpoint);
  const container = await createTestContainer(docker, area, { HostConfig: { Binds: [`${volume}:/data`] } }, false);
  const r = await runCli(['-c', cfg.path, '--json', 'backup', '-C', container], { env: cfg.env });
  expect(r.exitCode, r.stderr).toBe(0);
  return { volume, container, mountpoint, id: (JSON.parse(r.stdout) as { id: string }).id };
}
