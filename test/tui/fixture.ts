// A small world for TUI tests on the real test engine: two containers (created, network none), three
// volumes (two with random data, big enough that gzip -9 takes seconds, so pause and skip can be
// watched), a config with a temp store, a log file and a `local` remote in a temp dir.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';
import { KEYS, type PtyApp } from '../helpers/pty.js';
import { createTestContainer, createTestVolume, runInBusybox, testDocker } from '../helpers/docker.js';
import { testName } from '../helpers/names.js';

export interface TuiWorld {
  prefix: string;
  dir: string;
  config: string;
  store: string;
  remote: string;
  c1: string;
  c2: string;
  v1: string;
  v2: string;
  v3: string;
}

/** bigMB: random MB in v1 and v3 (incompressible, so gzip -9 is slow enough to watch). */
export async function makeWorld(opts: { bigMB: number; remoteEnabled?: boolean }): Promise<TuiWorld> {
  const docker = testDocker();
  const prefix = testName('tui');
  const dir = await mkdtemp(join(tmpdir(), 'bbt-tui-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  const [v1, v2, v3] = [`${prefix}-v1`, `${prefix}-v2`, `${prefix}-v3`];
  for (const name of [v1, v2, v3]) await createTestVolume(docker, 'tui', { name });
  const mb = opts.bigMB;
  await runInBusybox(
    docker,
    `head -c ${mb}000000 /dev/urandom > /a/big && echo small > /b/small.txt && mkdir -p /b/sub && echo nested > /b/sub/n.txt && head -c ${mb}000000 /dev/urandom > /c/big`,
    [`${v1}:/a`, `${v2}:/b`, `${v3}:/c`],
  );
  const c1 = await createTestContainer(
    docker,
    'tui',
    { name: `${prefix}-c1`, HostConfig: { NetworkMode: 'none', Binds: [`${v1}:/data`] } },
    false,
  );
  const c2 = await createTestContainer(
    docker,
    'tui',
    { name: `${prefix}-c2`, HostConfig: { NetworkMode: 'none', Binds: [`${v2}:/data`] } },
    false,
  );
  const store = join(dir, 'store');
  const remote = join(dir, 'remote');
  const config = join(dir, 'bbackup.yaml');
  const socket = (process.env.BBACKUP_TEST_DOCKER_HOST ?? '').replace(/^unix:\/\//, '');
  await writeFile(
    config,
    [
      'backup:',
      `  store: ${store}`,
      '  volumes: { format: archive, concurrency: 1 }',
      '  compression: { method: gzip, level: 9 }',
      '  logs: { lines: 10 }',
      'retention: { enabled: false }',
      `logging: { file: ${join(dir, 'log', 'bbackup.log')}, level: info }`,
      `docker: { socket: ${socket} }`,
      'remotes:',
      `  nas: { type: local, path: ${remote}, enabled: ${opts.remoteEnabled ?? false} }`,
      '',
    ].join('\n'),
  );
  return { prefix, dir, config, store, remote, c1, c2, v1, v2, v3 };
}

/** The amount in the Overall line ("27.2 MB / 286 MB" -> "27.2 MB"). */
export function overallAmount(text: string): string | undefined {
  return /Overall .*?%\s+([\d.]+ [KMGT]?B)/.exec(text)?.[1];
}

/** Keys one at a time, like a person (blessed parses a burst with Enter inside badly). */
export async function press(app: PtyApp, ...keys: string[]): Promise<void> {
  for (const k of keys) {
    app.write(k);
    await sleep(80);
  }
}

export async function filterPane(app: PtyApp, text: string): Promise<void> {
  await press(app, '/');
  await app.waitFor((t) => t.includes('(Enter keep, Esc clear)'), 'the filter prompt');
  app.write(text);
  await app.waitFor((t) => t.includes(`/${text}/`), `the filter ${text} in the pane title`);
  await press(app, KEYS.enter);
}

/** Filters the focused pane to one container, ticks it, and opens the backup dialog (B). */
export async function openBackupDialogFor(app: PtyApp, container: string): Promise<void> {
  await filterPane(app, container);
  await press(app, KEYS.space);
  await app.waitFor((t) => t.includes(`[x] ${container}`), `${container} selected`);
  await press(app, 'b');
  await app.waitFor((t) => t.includes('< Start backup >'), 'the scope dialog');
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
