// The backup commands as an operator runs them: Ctrl-C and SIGTERM cancel cleanly (exit 5,
// nothing listed, no helper left, the next run works), verify finds a flipped byte (exit 4),
// a second run while one holds the lock names the holder (exit 3), --dry-run prints the plan,
// --json prints one summary document, list-backups shows what is stored.
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliCommand, runCli } from '../helpers/cli.js';
import { testDocker, testLabels } from '../helpers/docker.js';
import { testName, WORKER_IMAGE } from '../helpers/names.js';
import { bigFile, makeVolume, sh, tempDir } from './backup-helpers.js';

async function setup(extra = ''): Promise<{ store: string; cfg: string }> {
  const root = await tempDir();
  const store = join(root, 'store');
  const cfg = join(root, 'bbackup.yaml');
  writeFileSync(
    cfg,
    `backup:\n  store: ${store}\n  volumes:\n    worker_image: ${WORKER_IMAGE}\n${extra}retention:\n  enabled: false\n`,
  );
  return { store, cfg };
}

const listBackups = async (cfg: string) =>
  JSON.parse((await runCli(['-c', cfg, '--json', 'list-backups'])).stdout) as {
    backups: { id: string; status: string; size: number; added: number; volumes: number }[];
  };

describe('signals', () => {
  let big: { name: string; mountpoint: string };
  beforeAll(async () => {
    // shared by both cases (filling it takes a while), so created and removed here, not per test
    const docker = testDocker();
    const name = testName('bk-sig');
    await docker.createVolume({ Name: name, Labels: testLabels() });
    big = { name, mountpoint: ((await docker.getVolume(name).inspect()) as { Mountpoint: string }).Mountpoint };
    for (const i of [1, 2, 3]) bigFile(`${big.mountpoint}/big${i}`, 150);
  });
  afterAll(async () => {
    await testDocker()
      .getVolume(big.name)
      .remove({ force: true })
      .catch(() => undefined);
  });

  it.each([
    ['SIGINT', 'worker'],
    ['SIGTERM', 'host'],
  ] as const)(
    '%s mid-backup (%s mode): exit 5, nothing listed, no helper left, next run succeeds',
    async (sig, mode) => {
      const { store, cfg } = await setup(`    mode: ${mode}\n`);
      const { file, args, cwd } = cliCommand();
      const child = execa(file, [...args, '-c', cfg, 'backup', '--volumes-only', '--volumes', big.name], {
        cwd,
        reject: false,
        env: { NO_COLOR: '1' },
      });
      // wait until the volume copy is under way inside <id>.partial
      const deadline = Date.now() + 30_000;
      const copying = () =>
        existsSync(store) &&
        readdirSync(store).some((h) =>
          readdirSync(join(store, h)).some(
            (n) => n.endsWith('.partial') && existsSync(join(store, h, n, 'volumes', big.name)),
          ),
        );
      while (!copying()) {
        if (Date.now() > deadline || child.exitCode !== null)
          throw new Error(`backup never started copying: ${child.exitCode}`);
        await new Promise((r) => setTimeout(r, 10));
      }
      child.kill(sig);
      const r = await child;
      expect(r.exitCode, String(r.stderr)).toBe(5);
      expect(String(r.stderr)).toMatch(/cancel/i);
      expect((await listBackups(cfg)).backups).toEqual([]);
      for (const h of readdirSync(store)) expect(readdirSync(join(store, h)).filter((n) => n !== '.lock')).toEqual([]);
      const helpers = await testDocker().listContainers({
        all: true,
        filters: { label: [`bbackup.owner=${hostname()}:${child.pid}`] },
      });
      expect(helpers).toEqual([]);
      const again = await runCli(['-c', cfg, 'backup', '--volumes-only', '--volumes', big.name]);
      expect(again.exitCode, again.stderr).toBe(0);
      expect((await listBackups(cfg)).backups).toHaveLength(1);
    },
  );
});

describe('commands', () => {
  it('dry-run, json summary, list-backups, verify finds a flipped byte, lock held by a live run', async () => {
    const { store, cfg } = await setup();
    const vol = await makeVolume('bk-cli');
    sh(`cd '${vol.mountpoint}' && mkdir d && for i in $(seq 1 20); do head -c 5000 /dev/urandom > d/f$i; done`);

    const plan = await runCli(['-c', cfg, 'backup', '--volumes-only', '--volumes', vol.name, '--dry-run']);
    expect(plan.exitCode, plan.stderr).toBe(0);
    expect(plan.stdout).toMatch(new RegExp(`volume\\s+${vol.name}\\s+tree via host\\s+.*none \\(full copy\\)`));
    expect(existsSync(store)).toBe(false);

    const first = await runCli(['-c', cfg, '--json', 'backup', '--volumes-only', '--volumes', vol.name]);
    expect(first.exitCode, first.stderr).toBe(0);
    const doc = JSON.parse(first.stdout) as {
      outcome: string;
      id: string;
      dir: string;
      items: { kind: string; name: string; files?: number }[];
    };
    expect(doc.outcome).toBe('ok');
    expect(doc.items).toContainEqual(expect.objectContaining({ kind: 'volume', name: vol.name, files: 20 }));

    const second = await runCli(['-c', cfg, 'backup', '--volumes-only', '--volumes', vol.name, '--dry-run']);
    expect(second.stdout).toContain(doc.id);
    const again = await runCli(['-c', cfg, 'backup', '--volumes-only', '--volumes', vol.name]);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/backup \S+ complete/);

    const listed = await listBackups(cfg);
    expect(listed.backups.map((b) => b.status)).toEqual(['complete', 'complete']);
    // the second shares every file with the first: it adds almost nothing on disk
    expect(listed.backups[1]!.added).toBeLessThan(listed.backups[0]!.added / 4);
    const table = await runCli(['-c', cfg, 'list-backups']);
    expect(table.stdout).toMatch(/ID\s+HOST\s+TIME\s+ITEMS\s+SIZE\s+ADDED\s+STATUS/);

    expect((await runCli(['-c', cfg, 'verify', '--all'])).exitCode).toBe(0);
    const victim = join(doc.dir, 'volumes', vol.name, 'd', 'f7');
    sh(`printf '\\x01' | dd of='${victim}' bs=1 seek=1234 conv=notrunc status=none`);
    sh(`printf 'x' > '${doc.dir}/volumes/${vol.name}/d/intruder'`);
    const bad = await runCli(['-c', cfg, 'verify', doc.id]);
    expect(bad.exitCode).toBe(4);
    expect(bad.stdout).toMatch(new RegExp(`differs\\s+volumes/${vol.name}/d/f7: sha256`));
    expect(bad.stdout).toMatch(new RegExp(`extra\\s+volumes/${vol.name}/d/intruder`));
    // f7 is a hard link shared with the second backup: the flipped byte shows there too
    expect((await runCli(['-c', cfg, 'verify', '--all'])).exitCode).toBe(4);

    // a live holder of the lock: a clear message naming it, exit 3
    const host = readdirSync(store)[0]!;
    const now = new Date().toISOString();
    writeFileSync(
      join(store, host, '.lock'),
      JSON.stringify({ pid: process.pid, hostname: hostname(), started: now, heartbeat: now }),
    );
    const locked = await runCli(['-c', cfg, 'backup', '--volumes-only', '--volumes', vol.name]);
    expect(locked.exitCode).toBe(3);
    expect(locked.stderr).toContain(`pid ${process.pid} on ${hostname()}`);
    // a dead holder is stale: the run takes the lock over
    writeFileSync(
      join(store, host, '.lock'),
      JSON.stringify({ pid: 2 ** 22 + 12345, hostname: hostname(), started: now, heartbeat: now }),
    );
    const taken = await runCli(['-c', cfg, 'backup', '--volumes-only', '--volumes', vol.name]);
    expect(taken.exitCode, taken.stderr).toBe(0);
    expect(existsSync(join(store, host, '.lock'))).toBe(false);
  });

  it('an unknown container is a usage error naming it', async () => {
    const { cfg } = await setup();
    const r = await runCli(['-c', cfg, 'backup', '-C', 'bbt-bk-does-not-exist']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('no such container on this engine: bbt-bk-does-not-exist');
  });
});
