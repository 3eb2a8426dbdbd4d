// Several Docker hosts from one config: two real engines on two sockets (the test engine and a
// private dockerd started here) as hosts `alpha` and `beta`. Each host's backups land in its own
// store folder, listings and retention work per host, and --host picks the engine everywhere.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { busyboxImageSpec, ensureImage } from '../../src/docker/images.js';
import { runCli } from '../helpers/cli.js';
import { createTestContainer, createTestVolume, runInBusybox, testDocker } from '../helpers/docker.js';
import { startPrivateEngine, type TestEngine } from '../helpers/engine.js';
import { BUSYBOX_IMAGE } from '../helpers/names.js';
import { tempDir, writeConfig } from './ops-fixtures.js';

const alphaDocker = testDocker();
const ALPHA = process.env.BBACKUP_TEST_DOCKER_HOST!;
let beta: TestEngine;
let betaDocker: Docker;

beforeAll(async () => {
  beta = await startPrivateEngine('bbt-ops-e2-');
  betaDocker = new Docker({ socketPath: beta.socketPath });
  await ensureImage(betaDocker, busyboxImageSpec(BUSYBOX_IMAGE));
}, 120_000);

afterAll(async () => {
  // stops the dockerd we started, by its pid, and removes its data root
  await beta?.stop?.();
}, 60_000);

const ids = async (dir: string) =>
  (await readdir(dir).catch(() => [] as string[])).filter((n) => /^\d{8}T\d{6}Z(-\d+)?$/.test(n)).sort();

describe('several hosts', () => {
  it('backs up two engines into their own store folders; listings and retention are per host', async () => {
    const dir = await tempDir('hosts');
    const store = join(dir, 'store');
    const config = await writeConfig(dir, {
      backup: { store },
      hosts: { alpha: { docker_host: ALPHA }, beta: { docker_host: beta.address } },
      retention: { last: 1, daily: 0, weekly: 0, monthly: 0, keep_within: 0 },
    });
    const run = (args: string[]) => runCli(['-c', config, ...args], { env: { BBACKUP_CONFIG: undefined } });

    const va = await createTestVolume(alphaDocker, 'ops-hosts');
    await runInBusybox(alphaDocker, 'echo on-alpha > /d/where', [`${va}:/d`]);
    const ca = await createTestContainer(alphaDocker, 'ops-hosts', { HostConfig: { Binds: [`${va}:/d`] } });
    const vb = await createTestVolume(betaDocker, 'ops-hosts');
    await runInBusybox(betaDocker, 'echo on-beta > /d/where', [`${vb}:/d`]);
    const cb = await createTestContainer(betaDocker, 'ops-hosts', { HostConfig: { Binds: [`${vb}:/d`] } });

    // --host picks the engine: each sees only its own containers
    const listA = JSON.parse((await run(['--host', 'alpha', '--json', 'list-containers'])).stdout) as {
      containers: { name: string }[];
    };
    const listB = JSON.parse((await run(['--host', 'beta', '--json', 'list-containers'])).stdout) as {
      containers: { name: string }[];
    };
    expect(listA.containers.map((c) => c.name)).toContain(ca);
    expect(listA.containers.map((c) => c.name)).not.toContain(cb);
    expect(listB.containers.map((c) => c.name)).toEqual([cb]);

    const a1 = await run(['--host', 'alpha', '--json', 'backup', '-C', ca]);
    expect(a1.exitCode, a1.stderr).toBe(0);
    const b1 = await run(['--host', 'beta', '--json', 'backup', '-C', cb]);
    expect(b1.exitCode, b1.stderr).toBe(0);
    const idA1 = (JSON.parse(a1.stdout) as { id: string }).id;
    const idB1 = (JSON.parse(b1.stdout) as { id: string }).id;
    expect(await readFile(join(store, 'alpha', idA1, 'volumes', va, 'where'), 'utf8')).toBe('on-alpha\n');
    expect(await readFile(join(store, 'beta', idB1, 'volumes', vb, 'where'), 'utf8')).toBe('on-beta\n');
    const mB = JSON.parse(await readFile(join(store, 'beta', idB1, 'manifest.json'), 'utf8')) as {
      host: string;
      items: { kind: string; name: string }[];
    };
    expect(mB.host).toBe('beta');
    expect(mB.items.filter((i) => i.kind === 'container').map((i) => i.name)).toEqual([cb]);

    // a second alpha backup: retention (last 1) rotates alpha only; beta's backup stays
    await new Promise((r) => setTimeout(r, 1100));
    const a2 = await run(['--host', 'alpha', '--json', 'backup', '-C', ca]);
    expect(a2.exitCode, a2.stderr).toBe(0);
    const idA2 = (JSON.parse(a2.stdout) as { id: string }).id;
    expect(await ids(join(store, 'alpha'))).toEqual([idA2]);
    expect(await ids(join(store, 'beta'))).toEqual([idB1]);

    // listings per host
    const lb = JSON.parse((await run(['--host', 'beta', '--json', 'list-backups'])).stdout) as {
      backups: { id: string; host: string }[];
    };
    expect(lb.backups.map((b) => [b.host, b.id])).toEqual([['beta', idB1]]);
    const all = JSON.parse((await run(['--json', 'list-backups'])).stdout) as {
      backups: { id: string; host: string }[];
    };
    expect(all.backups.map((b) => `${b.host}/${b.id}`).sort()).toEqual([`alpha/${idA2}`, `beta/${idB1}`].sort());
  });
});
