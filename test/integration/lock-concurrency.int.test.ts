// 10 real `bbackup backup` processes on one host store at once, starting over a stale lock left by
// a dead run: exactly one copies at a time (no two backups' [created, finished] intervals
// overlap; in the first round a pre-hook holds each copy for a second so an overlap cannot slip
// through), none loses its data (every successful run's backup is listed and verifies), the
// others exit 3 naming the holder; with --wait all 10 succeed, one after the other. (10, not
// more: on 2 cores each more process adds a second of start-up, and 10 already start together.)
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { currentRun } from '../../src/process-identity.js';
import { hostDir } from '../../src/store/layout.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { createTestContainer, testDocker } from '../helpers/docker.js';
import { WORKER_IMAGE } from '../helpers/names.js';
import { connect, makeVolume, sh, tempDir, testConfig } from './backup-helpers.js';

const N = 10;

interface Listed {
  id: string;
  status: string;
  created: string;
  finished: string;
}

function overlaps(backups: Listed[]): string[] {
  const sorted = [...backups].sort((a, b) => Date.parse(a.created) - Date.parse(b.created));
  const bad: string[] = [];
  for (let i = 1; i < sorted.length; i++) {
    const [a, b] = [sorted[i - 1]!, sorted[i]!];
    if (Date.parse(b.created) < Date.parse(a.finished))
      bad.push(`${a.id} [${a.created}, ${a.finished}] overlaps ${b.id} [${b.created}, ${b.finished}]`);
  }
  return bad;
}

describe('store lock under 10 concurrent backups', () => {
  it(
    'one copies at a time, none loses data, the rest exit 3; with --wait all succeed',
    { timeout: 1_800_000 },
    async () => {
      const root = await tempDir('bbt-lock-');
      const store = join(root, 'store');
      const cfg = join(root, 'bbackup.yaml');
      writeFileSync(
        cfg,
        `backup:\n  store: ${store}\n  volumes:\n    worker_image: ${WORKER_IMAGE}\n    mode: host\nretention:\n  enabled: false\ndocker:\n  socket: ${(process.env.BBACKUP_TEST_DOCKER_HOST ?? '').replace(/^unix:\/\//, '')}\n`,
      );
      const [slow, quick] = [await makeVolume('lock'), await makeVolume('lock')];
      for (const v of [slow, quick])
        sh(`cd '${v.mountpoint}' && for i in $(seq 1 10); do head -c 3000 /dev/urandom > f$i; done`);
      // round 1: a pre-hook runs inside the copy, under the lock, so each copy lasts at least a second
      const container = await createTestContainer(testDocker(), 'lock', {
        Labels: { 'bbackup.exec.pre': 'sleep 1' },
        HostConfig: { NetworkMode: 'none', Binds: [`${slow.name}:/data`] },
      });
      const host = hostDir(store, (await connect(testConfig(store))).hostName);

      // a dead run's lock: every process must judge it stale, and only one may take it over
      sh(`mkdir -p '${host}'`);
      const dead = Number(sh('echo $$').trim());
      writeFileSync(
        join(host, '.lock'),
        JSON.stringify({
          version: 2,
          run: { ...currentRun(), runId: 'dead-run', pid: dead },
          pid: dead,
          hostname: currentRun().hostname,
          started: new Date().toISOString(),
        }),
      );

      const backup = (extra: string[]) => runCli(['-c', cfg, '--json', 'backup', '--volumes-only', ...extra]);
      const listed = async (): Promise<Listed[]> => {
        const r = await runCli(['-c', cfg, '--json', 'list-backups']);
        expect(r.exitCode, r.stderr).toBe(0);
        return (JSON.parse(r.stdout) as { backups: Listed[] }).backups;
      };
      const ids = (rs: CliResult[]) =>
        rs.filter((r) => r.exitCode === 0).map((r) => (JSON.parse(r.stdout) as { id: string }).id);

      const first = await Promise.all(Array.from({ length: N }, () => backup(['-C', container])));
      const codes = first.map((r) => r.exitCode);
      for (const r of first) {
        expect([0, 3], r.stderr).toContain(r.exitCode);
        if (r.exitCode === 3) expect(r.stderr).toMatch(/another bbackup run holds the store lock .*: pid \d+ on /);
      }
      const won = ids(first);
      expect(won.length).toBeGreaterThanOrEqual(1);
      let backups = await listed();
      expect(backups.map((b) => b.id).sort()).toEqual([...won].sort());
      expect(overlaps(backups)).toEqual([]);
      console.log(`round 1: ${won.length} succeeded, ${codes.filter((c) => c === 3).length} exited 3`);

      const t0 = Date.now();
      const second = await Promise.all(Array.from({ length: N }, () => backup(['--volumes', quick.name, '--wait'])));
      console.log(`round 2: ${second.map((r) => r.exitCode).join(' ')} in ${Math.round((Date.now() - t0) / 1000)} s`);
      for (const r of second) expect(r.exitCode, r.stderr).toBe(0);
      backups = await listed();
      expect(backups.map((b) => b.id).sort()).toEqual([...won, ...ids(second)].sort());
      expect(backups).toHaveLength(won.length + N);
      expect(backups.every((b) => b.status === 'complete')).toBe(true);
      expect(overlaps(backups)).toEqual([]);

      const verify = await runCli(['-c', cfg, 'verify', '--all']);
      expect(verify.exitCode, verify.stdout + verify.stderr).toBe(0);
      expect(readdirSync(host).filter((n) => n.startsWith('.'))).toEqual([]); // no lock, no temporary, no mark
      expect(existsSync(join(host, '.lock'))).toBe(false);
    },
  );
});
