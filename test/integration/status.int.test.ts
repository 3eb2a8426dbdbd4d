// `bbackup status`: freshness of each container against its schedule: one backed up now is ok,
// one whose newest backup is older than two periods is missed, one never backed up is never;
// exit 4 while any is overdue, 0 once none is.
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { createTestContainer, testDocker } from '../helpers/docker.js';
import { filesConfig } from '../helpers/files-cli.js';

let tmp: string;
let docker: Docker;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'bbt-fresh-'));
  docker = testDocker();
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

interface StatusDoc {
  overdue: number;
  containers: { container: string; state: string; ageSeconds?: number; periodSeconds?: number }[];
}

it('ok, missed and never against an hourly schedule; exit 4 while one is overdue', async () => {
  const [fresh, old, never] = (await Promise.all(
    [1, 2, 3].map(() => createTestContainer(docker, 'fresh', {}, false)),
  )) as [string, string, string];
  const cfg = await filesConfig(
    tmp,
    'tree',
    `schedule:\n  hourly: {cron: "0 * * * *", containers: [${fresh}, ${old}, ${never}]}\n`,
  );
  const backup = async (c: string) => {
    const r = await runCli(['-c', cfg.path, '--json', 'backup', '-C', c], { env: cfg.env });
    expect(r.exitCode, r.stderr).toBe(0);
    return (JSON.parse(r.stdout) as { id: string }).id;
  };
  const oldId = await backup(old);
  // that backup finished three hours ago
  const host = (await readdir(cfg.store)).find((d) => !d.startsWith('.'))!;
  const manifestPath = join(cfg.store, host, oldId, 'manifest.json');
  const m = JSON.parse(await readFile(manifestPath, 'utf8')) as { created: string; finished: string };
  const then = new Date(Date.now() - 3 * 3600_000).toISOString();
  await writeFile(manifestPath, JSON.stringify({ ...m, created: then, finished: then }));
  await backup(fresh);

  const r = await runCli(['-c', cfg.path, '--json', 'status'], { env: cfg.env });
  expect(r.exitCode, r.stderr).toBe(4);
  const doc = JSON.parse(r.stdout) as StatusDoc;
  const state = (c: string) => doc.containers.find((x) => x.container === c);
  expect(state(fresh)).toMatchObject({ state: 'ok', periodSeconds: 3600 });
  expect(state(old)).toMatchObject({ state: 'missed' });
  expect(state(old)!.ageSeconds).toBeGreaterThan(3 * 3600 - 60);
  expect(state(never)).toMatchObject({ state: 'never' });
  expect(doc.overdue).toBe(2);

  const text = await runCli(['-c', cfg.path, 'status'], { env: cfg.env });
  expect(text.exitCode).toBe(4);
  expect(text.stdout).toMatch(new RegExp(`${fresh}\\s+ok\\s+\\d+s\\s+1h`));
  expect(text.stdout).toMatch(new RegExp(`${old}\\s+missed\\s+3h`));
  expect(text.stdout).toMatch(new RegExp(`${never}\\s+never\\s+-`));

  await backup(old);
  await backup(never);
  const ok = await runCli(['-c', cfg.path, 'status'], { env: cfg.env });
  expect(ok.exitCode, ok.stdout + ok.stderr).toBe(0);
});
