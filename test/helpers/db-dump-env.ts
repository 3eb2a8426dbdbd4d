// The set-up both database dump test files share: the test database image, a temporary folder
// with a config (a local store, a local remote used only when asked) for the test engine, and the
// CLI and store readers the tests use. Images are not saved (images: none): the test image is
// 480 MB, and what the dump tests prove does not depend on it.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { afterAll, beforeAll } from 'vitest';
import type { Manifest } from '../../src/store/manifest.js';
import { runCli, type CliResult } from './cli.js';
import { ensureDbImage } from './db-image.js';
import { testDocker } from './docker.js';

export interface DbDumpEnv {
  docker: Docker;
  tmp: string;
  /** the config file */
  path: string;
  store: string;
  /** the local remote `usb` (enabled: false, so only `-r usb` uploads) */
  remote: string;
  env: Record<string, string | undefined>;
  cli(args: string[]): Promise<CliResult>;
  /** a backup's folder in the store */
  backupDir(id: string): Promise<string>;
  manifestOf(id: string): Promise<Manifest>;
  /** `bbackup --json backup -C <name> [extra]` and the manifest it wrote */
  backUp(name: string, extra?: string[]): Promise<BackedUp>;
}

export interface BackedUp {
  exitCode: number;
  stderr: string;
  id: string;
  manifest: Manifest;
  doc: { errors: { item: string; code: string; message: string }[] };
}

/** Registers beforeAll/afterAll; the returned object is filled in by beforeAll. */
export function useDbDumpEnv(): DbDumpEnv {
  const e = {} as DbDumpEnv;
  beforeAll(async () => {
    e.docker = testDocker();
    const seconds = await ensureDbImage(e.docker, (m) => console.log(m));
    if (seconds > 0) console.log(`test database image built in ${seconds.toFixed(0)} s`);
    e.tmp = await mkdtemp(join(tmpdir(), 'bbt-db-'));
    e.store = join(e.tmp, 'store');
    e.remote = join(e.tmp, 'remote');
    e.path = join(e.tmp, 'bbackup.yaml');
    const socket = process.env.BBACKUP_TEST_DOCKER_HOST!.replace('unix://', '');
    await writeFile(
      e.path,
      `docker: {socket: ${socket}}\nbackup:\n  store: ${e.store}\n  images: none\nremotes:\n  usb: {type: local, path: ${e.remote}, enabled: false}\nlogging: {file: ${join(e.tmp, 'bbackup.log')}}\n`,
    );
    e.env = { HOME: e.tmp, BBACKUP_CONFIG: undefined, DOCKER_HOST: undefined };
  }, 3_600_000);
  afterAll(async () => {
    if (e.tmp) await rm(e.tmp, { recursive: true, force: true });
  });
  e.cli = (args) => runCli(['-c', e.path, ...args], { env: e.env });
  e.backupDir = async (id) =>
    join(
      e.store,
      (await readdir(e.store)).find((d) => !d.startsWith('.'))!,
      id,
    );
  e.manifestOf = async (id) =>
    JSON.parse(await readFile(join(await e.backupDir(id), 'manifest.json'), 'utf8')) as Manifest;
  e.backUp = async (name, extra = []) => {
    const r = await e.cli(['--json', 'backup', '-C', name, ...extra]);
    const doc = JSON.parse(r.stdout) as { id: string } & BackedUp['doc'];
    return { exitCode: r.exitCode, stderr: r.stderr, id: doc.id, manifest: await e.manifestOf(doc.id), doc };
  };
  return e;
}
