// Rotation rewrites packs that are mostly unneeded (a real local-folder remote, backups made by the
// real engine through the CLI): the live objects move to a new pack, the old one goes, the stored
// bytes drop, and every kept backup still pulls byte-identical and passes verify --read-data. A
// rewrite cut after its new pack was stored leaves a readable repository; the next rotation
// finishes it (the old pack goes, nothing is stored twice).
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfigObject } from '../../src/config/load.js';
import { listRemoteBackups } from '../../src/remote/list.js';
import { openRemote } from '../../src/remote/open.js';
import { sweepRemote } from '../../src/remote/repo/sweep.js';
import { collect, type Remote } from '../../src/remote/types.js';
import { testDocker, testLabels } from '../helpers/docker.js';
import { testName } from '../helpers/names.js';
import { describeTree, mountpointOf } from '../helpers/volume-data.js';
import { configFile } from './remote-helpers.js';

const FILES = 20;
const FILE_SIZE = 64 * 1024;
const SLOW = 900_000;

let tmp: string;
let docker: Docker;
const volumes: string[] = [];
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'bbt-offs-repack-'));
  docker = testDocker();
});
afterAll(async () => {
  for (const v of volumes)
    await docker
      .getVolume(v)
      .remove({ force: true })
      .catch(() => undefined);
  await rm(tmp, { recursive: true, force: true });
});

/** files first..first+n-1 get new contents */
async function rewriteFiles(mp: string, first: number, n: number): Promise<void> {
  for (let i = first; i < first + n; i++)
    await writeFile(join(mp, 'data', `f-${String(i).padStart(2, '0')}.bin`), randomBytes(FILE_SIZE));
}

async function stored(remote: Remote): Promise<number> {
  return (await collect(remote.list('', { signal: AbortSignal.timeout(60_000) }))).reduce((a, e) => a + e.size, 0);
}

/** pack id -> its index's objects (packs listed with their index only) */
async function packs(remote: Remote): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  const keys = (await collect(remote.list('packs', { signal: AbortSignal.timeout(60_000) }))).map((e) => e.key);
  for (const k of keys) {
    const m = /^packs\/([0-9a-f]{32})\.idx\.json$/.exec(k);
    if (!m || !keys.includes(`packs/${m[1]}.tar.zst`)) continue;
    const s = await remote.get(k, { signal: AbortSignal.timeout(60_000) });
    const parts: Buffer[] = [];
    for await (const c of s) parts.push(c as Buffer);
    out.set(
      m[1]!,
      (JSON.parse(Buffer.concat(parts).toString('utf8')) as { objects: [string, number][] }).objects.map((o) => o[0]),
    );
  }
  return out;
}

/** objects held by more than one pack */
function duplicates(p: Map<string, string[]>): string[] {
  const seen = new Set<string>();
  const dup: string[] = [];
  for (const objs of p.values())
    for (const o of objs) {
      if (seen.has(o)) dup.push(o);
      seen.add(o);
    }
  return dup;
}

describe('rotation rewrites mostly unneeded packs (local-folder remote)', () => {
  it(
    'rewrite frees space, kept backups pull identical and verify; a cut rewrite leaves a readable repo and the next rotation finishes it',
    async () => {
      const name = testName('offs');
      await docker.createVolume({ Name: name, Labels: testLabels() });
      volumes.push(name);
      const mp = await mountpointOf(docker, name);
      await mkdir(join(mp, 'data'));
      await rewriteFiles(mp, 0, FILES);
      const store = join(tmp, 'store');
      const cfg = {
        backup: { store, backup_sets: { a: { volumes: [name] } } },
        remotes: { local: { type: 'local', path: join(tmp, 'remote'), retry: 0 } },
        retention: { enabled: false },
      };
      const rotCfg = { ...cfg, retention: { last: 1, daily: 0, weekly: 0, monthly: 0, keep_within: 0 } };
      const cli = await configFile(join(tmp, 'c.yaml'), cfg);
      const rotCli = await configFile(join(tmp, 'rot.yaml'), rotCfg);
      const remote = openRemote(parseConfigObject(cfg), 'local');
      const host = async () => (await readdir(store)).filter((n) => !n.startsWith('.'))[0]!;
      const ids = async () => (await readdir(join(store, await host()))).filter((n) => /^\d{8}T\d{6}Z/.test(n)).sort();
      let pulls = 0;
      const pullsIdentical = async (id: string) => {
        const into = join(tmp, `pulled-${pulls++}`);
        const pullCli = await configFile(join(tmp, `pull-${pulls}.yaml`), { ...cfg, backup: { store: into } });
        const pulled = await pullCli(['pull', 'local', id]);
        expect(pulled.exitCode, pulled.stderr).toBe(0);
        const a = join(store, await host(), id);
        const b = join(into, await host(), id);
        expect(await readFile(join(b, 'manifest.json'), 'utf8')).toBe(await readFile(join(a, 'manifest.json'), 'utf8'));
        expect(await describeTree(join(b, 'volumes', name))).toEqual(await describeTree(join(a, 'volumes', name)));
        const verified = await cli(['verify', '--remote', 'local', '--all', '--read-data']);
        expect(verified.exitCode, verified.stdout + verified.stderr).toBe(0);
      };
      try {
        // 1. two backups, 80% of the files new in the second; rotation keeps the second only
        expect((await cli(['backup', '-s', 'a'])).exitCode).toBe(0);
        await rewriteFiles(mp, 0, 16);
        expect((await cli(['backup', '-s', 'a'])).exitCode).toBe(0);
        const before = await stored(remote);
        const packsBefore = await packs(remote);
        const rot = await rotCli(['--json', 'rotate', '-r', 'local']);
        expect(rot.exitCode, rot.stderr).toBe(0);
        const sweep = (JSON.parse(rot.stdout) as { sweeps: { packsRewritten: number; freed: number }[] }).sweeps[0]!;
        expect(sweep.packsRewritten).toBeGreaterThanOrEqual(1);
        const after = await stored(remote);
        console.info(`[offs] rotation with a rewrite: stored ${before} -> ${after} bytes (freed ${sweep.freed})`);
        // the first backup's 16 replaced files (1 MiB of incompressible data) are gone from the remote
        expect(before - after).toBeGreaterThan(16 * FILE_SIZE * 0.9);
        const packsAfter = await packs(remote);
        expect([...packsAfter.keys()].filter((p) => !packsBefore.has(p)).length).toBeGreaterThanOrEqual(1);
        expect(duplicates(packsAfter)).toEqual([]);
        const [, second] = await ids();
        await pullsIdentical(second!);

        // 2. a third backup, the second's data mostly replaced; its snapshot goes (as rotation
        // removes it) and the sweep is cut once the rewrite stored its new pack and index
        await rewriteFiles(mp, 2, 16);
        expect((await cli(['backup', '-s', 'a'])).exitCode).toBe(0);
        const third = (await ids())[2]!;
        const listing = await listRemoteBackups(remote, AbortSignal.timeout(60_000));
        const gone = listing.backups.find((b) => b.id === second)!;
        await remote.removeDir(gone.prefix, { signal: AbortSignal.timeout(60_000) });
        const ac = new AbortController();
        let cut: { old: string; new: string } | undefined;
        await expect(
          sweepRemote(remote, {
            store,
            signal: ac.signal,
            dryRun: false,
            encrypted: false,
            canDecrypt: false,
            level: 3,
            afterNewPack: (oldPack, newPack) => {
              cut = { old: oldPack, new: newPack };
              ac.abort();
              return Promise.reject(new Error('cut after the new pack was stored'));
            },
          }),
        ).rejects.toThrow();
        expect(cut).toBeDefined();
        const cutPacks = await packs(remote);
        expect(cutPacks.has(cut!.old) && cutPacks.has(cut!.new)).toBe(true); // both there: nothing lost
        await pullsIdentical(third);

        const cutStored = await stored(remote);
        const fin = await rotCli(['--json', 'rotate', '-r', 'local']);
        expect(fin.exitCode, fin.stderr).toBe(0);
        const finPacks = await packs(remote);
        expect(finPacks.has(cut!.old)).toBe(false);
        expect(finPacks.has(cut!.new)).toBe(true);
        expect(duplicates(finPacks)).toEqual([]);
        expect(await stored(remote)).toBeLessThan(cutStored);
        await pullsIdentical(third);
      } finally {
        await remote.close();
      }
    },
    SLOW,
  );
});
