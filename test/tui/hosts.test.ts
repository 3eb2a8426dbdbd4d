// The host switcher in a real pseudo-terminal: two real engines (the test engine and a private
// dockerd started here) as hosts `alpha` and `beta`. E opens a picker over hosts:, Enter switches;
// then the header names beta, the containers are beta's and the backups screen lists beta's store
// folder (a backup made there by the CLI), not alpha's.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, expect, it, onTestFinished } from 'vitest';
import { busyboxImageSpec, ensureImage } from '../../src/docker/images.js';
import { runCli } from '../helpers/cli.js';
import { createTestContainer, testDocker } from '../helpers/docker.js';
import { startPrivateEngine, type TestEngine } from '../helpers/engine.js';
import { BUSYBOX_IMAGE } from '../helpers/names.js';
import { KEYS, spawnTui } from '../helpers/pty.js';
import { filterPane, press } from './fixture.js';

let beta: TestEngine;
let betaDocker: Docker;

beforeAll(async () => {
  beta = await startPrivateEngine('bbt-hostsw-');
  betaDocker = new Docker({ socketPath: beta.socketPath });
  await ensureImage(betaDocker, busyboxImageSpec(BUSYBOX_IMAGE));
}, 120_000);

afterAll(async () => {
  // the dockerd started above, stopped by its pid; its data root removed
  await beta?.stop?.();
}, 60_000);

it('E switches to another host: header, containers and the store folder follow', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'bbt-hostsw-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  const store = join(dir, 'store');
  const config = join(dir, 'bbackup.yaml');
  const alphaAddress = process.env.BBACKUP_TEST_DOCKER_HOST!;
  await writeFile(
    config,
    JSON.stringify({
      backup: { store },
      retention: { enabled: false },
      hosts: { alpha: { docker_host: alphaAddress }, beta: { docker_host: beta.address } },
      default_host: 'alpha',
    }),
  );
  const ca = await createTestContainer(testDocker(), 'hostsw', { HostConfig: { NetworkMode: 'none' } }, false);
  const cb = await createTestContainer(betaDocker, 'hostsw', { HostConfig: { NetworkMode: 'none' } }, false);
  const made = await runCli(['-c', config, '--host', 'beta', '--json', 'backup', '-C', cb], {
    env: { BBACKUP_CONFIG: undefined },
  });
  expect(made.exitCode, made.stderr).toBe(0);
  const betaId = (JSON.parse(made.stdout) as { id: string }).id;

  const app = spawnTui(['-c', config], { cols: 140, rows: 36, env: { BBACKUP_CONFIG: undefined } });
  await app.waitFor((t) => t.includes('host alpha') && t.includes('Containers'), 'alpha on the dashboard');
  // the shared test engine holds other tests' containers: show ours only
  await filterPane(app, `bbt-hostsw-${process.pid}-`);
  await app.waitFor((t) => t.includes(ca), 'our container on alpha');
  expect(app.text()).not.toContain(cb);

  await press(app, 'e');
  await app.waitFor(
    (t) => t.includes('Switch host') && t.includes('alpha (shown now)') && t.includes('< beta'),
    'the picker',
  );
  await press(app, KEYS.down, KEYS.enter);
  await app.waitFor((t) => t.includes('host beta') && t.includes(cb) && !t.includes(ca), 'beta on the dashboard');

  await press(app, 'l');
  await app.waitFor((t) => t.includes(betaId), "beta's backup on the backups screen");

  await press(app, 'q');
  expect((await app.waitExit()).exitCode).toBe(0);
}, 120_000);
