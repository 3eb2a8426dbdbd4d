// The repository (remote format 2) on all three remote kinds: a local folder, sftp to a real
// OpenSSH sshd, and rclone against a real S3 API (s3rver on 127.0.0.1). Backups are made by the
// real engine through the CLI, each run uploading to the three remotes at once; what each upload
// stores is measured from each remote's own listing.
import { execa } from 'execa';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfigObject } from '../../src/config/load.js';
import type { EngineEvent } from '../../src/events.js';
import { listRemoteBackups } from '../../src/remote/list.js';
import { openRemote } from '../../src/remote/open.js';
import { uploadSnapshot } from '../../src/remote/repo/upload.js';
import { collect, type Remote } from '../../src/remote/types.js';
import { readManifest } from '../../src/store/manifest.js';
import { cliCommand } from '../helpers/cli.js';
import { testDocker, testLabels } from '../helpers/docker.js';
import { testName } from '../helpers/names.js';
import { rcloneTestEnv } from '../helpers/rclone-env.js';
import { startS3, type S3Server } from '../helpers/s3.js';
import { startSshd, type Sshd } from '../helpers/sshd.js';
import { describeTree, fillRichTree, mountpointOf } from '../helpers/volume-data.js';
import { configFile, REPO_KINDS, remotesSection, type RemoteKind } from './remote-helpers.js';

let sshd: Sshd;
let s3: S3Server;
let tmp: string;
let docker: Docker;
const volumes: string[] = [];
beforeAll(async () => {
  sshd = await startSshd();
  rcloneTestEnv(sshd);
  s3 = await startS3();
  tmp = await mkdtemp(join(tmpdir(), 'bbt-repo-'));
  docker = testDocker();
});
afterAll(async () => {
  for (const v of volumes)
    await docker
      .getVolume(v)
      .remove({ force: true })
      .catch(() => undefined);
  await sshd?.stop();
  await s3?.stop();
  await rm(tmp, { recursive: true, force: true });
});

// 1% of the files is one file: enough volume that a second upload of everything (no dedup) would
// be 20x over the 5% bound, small enough that the time goes to what is tested, not to bytes.
const FILES = 100;
const FILE_SIZE = 64 * 1024;

async function makeVolume(): Promise<{ name: string; mp: string }> {
  const name = testName('repo');
  await docker.createVolume({ Name: name, Labels: testLabels() });
  volumes.push(name);
  const mp = await mountpointOf(docker, name);
  await fillRichTree(mp);
  await mkdir(join(mp, 'data'));
  for (let i = 0; i < FILES; i++)
    await writeFile(join(mp, 'data', `f-${String(i).padStart(3, '0')}.bin`), randomBytes(FILE_SIZE));
  return { name, mp };
}

/** 1% of the files get new contents */
async function change(mp: string, first: number): Promise<void> {
  for (let i = first; i < first + FILES / 100; i++)
    await writeFile(join(mp, 'data', `f-${String(i).padStart(3, '0')}.bin`), randomBytes(FILE_SIZE));
}

function remoteOf(cfg: Record<string, unknown>, kind: RemoteKind): Remote {
  return openRemote(parseConfigObject(cfg), kind);
}

/** bytes stored on each kind's remote of `cfg` */
async function storedBytesAll(cfg: Record<string, unknown>): Promise<Record<RemoteKind, number>> {
  const out = {} as Record<RemoteKind, number>;
  for (const kind of REPO_KINDS) {
    const remote = remoteOf(cfg, kind);
    try {
      out[kind] = await storedBytes(remote);
    } finally {
      await remote.close();
    }
  }
  return out;
}

async function storedBytes(remote: Remote): Promise<number> {
  return (await collect(remote.list('', { signal: AbortSignal.timeout(60_000) }))).reduce((a, e) => a + e.size, 0);
}

const ids = async (dir: string) =>
  (await readdir(dir).catch(() => [] as string[])).filter((n) => /^\d{8}T\d{6}Z/.test(n)).sort();

/**
 * One volume and one local store for all three kinds: each backup run uploads to the three
 * remotes at once (as a user with three remotes has it), and every check reads each remote on its own.
 */
interface State {
  volume: string;
  mp: string;
  /** backup sets a and b of the volume, one remote folder per kind under <tmp>/r */
  cfg: Record<string, unknown>;
  host: string;
  ids: string[];
  store: string;
}
const st = {} as State;

/** CLI runs of the real engine on a 2-core machine shared with other test runs: never a measure of speed */
const SLOW = 900_000;

/** st.cfg with only `kind`'s remote, its folder moved to <tmp>/<kind>/<folder> */
const cfgFor = (kind: RemoteKind, folder: string, extra: Record<string, unknown> = {}) => ({
  ...st.cfg,
  remotes: remotesSection(sshd, join(tmp, kind, folder), [kind]),
  ...extra,
});

describe('repository on local, sftp and rclone-s3', () => {
  it(
    'the second backup (1% of files changed) stores <= 5% of the first on each kind',
    async () => {
      const { name, mp } = await makeVolume();
      st.volume = name;
      st.mp = mp;
      st.store = join(tmp, 'store');
      st.cfg = {
        backup: { store: st.store, backup_sets: { a: { volumes: [name] }, b: { volumes: [name] } } },
        remotes: remotesSection(sshd, join(tmp, 'r'), REPO_KINDS),
        retention: { enabled: false },
      };
      const cli = await configFile(join(tmp, 'all.yaml'), st.cfg);
      const first = await cli(['backup', '-s', 'a']);
      expect(first.exitCode, first.stderr).toBe(0);
      const s1 = await storedBytesAll(st.cfg);
      await change(mp, 0);
      const second = await cli(['backup', '-s', 'b']);
      expect(second.exitCode, second.stderr).toBe(0);
      const s2 = await storedBytesAll(st.cfg);
      for (const kind of REPO_KINDS) {
        console.info(
          `[${kind}] stored by the first upload: ${s1[kind]} bytes; added by the second (1% of files changed): ${s2[kind] - s1[kind]} bytes (${((100 * (s2[kind] - s1[kind])) / s1[kind]).toFixed(2)}%)`,
        );
        expect(s1[kind], kind).toBeGreaterThan(FILES * FILE_SIZE * 0.9);
        expect(s2[kind] - s1[kind], kind).toBeLessThanOrEqual(0.05 * s1[kind]);
        expect(s2[kind] - s1[kind], kind).toBeGreaterThanOrEqual((FILES / 100) * FILE_SIZE); // the changed files did travel
      }
      await change(mp, 1);
      const third = await cli(['backup', '-s', 'b']);
      expect(third.exitCode, third.stderr).toBe(0);
      st.host = (await readdir(st.store)).filter((n) => !n.startsWith('.'))[0]!;
      st.ids = await ids(join(st.store, st.host));
      expect(st.ids).toHaveLength(3);
    },
    SLOW,
  );

  it.each(REPO_KINDS)(
    '%s: all three are listed; rotation frees space; the first and third pull identical after the second went',
    async (kind) => {
      expect(st.ids, 'the first test must pass').toHaveLength(3);
      const root = join(tmp, kind);
      const cfg = { ...st.cfg, remotes: remotesSection(sshd, join(tmp, 'r'), [kind]) };
      const cli = await configFile(join(tmp, `${kind}.yaml`), cfg);
      const remote = remoteOf(cfg, kind);
      try {
        const listed = await cli(['--json', 'list-remote-backups', '-r', kind]);
        expect(
          (JSON.parse(listed.stdout) as { backups: { id: string; format: number }[] }).backups.map((b) => [
            b.id,
            b.format,
          ]),
        ).toEqual(st.ids.map((id) => [id, 2]));
        const s3b = await storedBytes(remote);

        // one backup per group kept: #1 (set a) and #3 (set b); #2 goes, and with it the objects only it needed
        const rotCli = await configFile(join(tmp, `${kind}-rot.yaml`), {
          ...cfg,
          retention: { last: 1, daily: 0, weekly: 0, monthly: 0, keep_within: 0 },
        });
        const rot = await rotCli(['--json', 'rotate', '-r', kind]);
        expect(rot.exitCode, rot.stderr).toBe(0);
        const doc = JSON.parse(rot.stdout) as {
          reports: { removed: string[] }[];
          sweeps: { ran: boolean; freed: number; packsRemoved: number }[];
        };
        expect(doc.reports.flatMap((r) => r.removed)).toEqual([st.ids[1]]);
        expect(doc.sweeps[0]).toMatchObject({ ran: true });
        expect(doc.sweeps[0]!.freed).toBeGreaterThan(0);
        const s4 = await storedBytes(remote);
        expect(s4).toBeLessThan(s3b);

        // #1 and #3 pull back exactly as the engine wrote them
        const pullCli = await configFile(join(tmp, `${kind}-pull.yaml`), {
          ...cfg,
          backup: { store: join(root, 'pulled') },
        });
        for (const id of [st.ids[0]!, st.ids[2]!]) {
          const pulled = await pullCli(['pull', kind, id]);
          expect(pulled.exitCode, pulled.stderr).toBe(0);
          const a = join(st.store, st.host, id);
          const b = join(root, 'pulled', st.host, id);
          expect(await readFile(join(b, 'manifest.json'), 'utf8')).toBe(
            await readFile(join(a, 'manifest.json'), 'utf8'),
          );
          expect(await describeTree(join(b, 'volumes', st.volume))).toEqual(
            await describeTree(join(a, 'volumes', st.volume)),
          );
        }
        expect(await readdir(join(root, 'pulled', st.host))).not.toContain(st.ids[1]);
        // both pulled backups pass the engine's own check (every file against its index)
        const verified = await pullCli(['verify', '--all']);
        expect(verified.exitCode, verified.stdout).toBe(0);
        expect(verified.stdout).toMatch(new RegExp(`ok\\s+${st.ids[0]}`));
        expect(verified.stdout).toMatch(new RegExp(`ok\\s+${st.ids[2]}`));
      } finally {
        await remote.close();
      }
    },
    SLOW,
  );

  it.each(REPO_KINDS)(
    '%s: a cut upload is resumed by the next: what it sent is not sent again, and it is never listed',
    async (kind) => {
      expect(st.ids, 'the first test must pass').toHaveLength(3);
      const remote = remoteOf(cfgFor(kind, 'r-cut'), kind);
      const dir = join(st.store, st.host, st.ids[2]!);
      const manifest = await readManifest(dir);
      const base = {
        remote,
        backupDir: dir,
        manifest,
        store: st.store,
        level: 3,
        encrypted: false,
        canDecrypt: false,
        transfers: 1,
        packSize: 1 << 20,
      };
      try {
        const ac = new AbortController();
        const emit = (e: EngineEvent) => {
          if (e.type === 'log' && /stored pack/.test(e.msg)) ac.abort();
        };
        await expect(uploadSnapshot({ ...base, signal: ac.signal, emit })).rejects.toThrow();
        expect((await listRemoteBackups(remote, AbortSignal.timeout(60_000))).backups).toEqual([]);
        const sentBefore = await packObjects(remote);
        expect(sentBefore.size).toBeGreaterThan(0);

        const r = await uploadSnapshot({ ...base, signal: AbortSignal.timeout(300_000) });
        expect(r.existed).toBe(false);
        const after = await packObjects(remote);
        const cutBytes = [...sentBefore.values()].reduce((a, s) => a + s.size, 0);
        expect(r.skipped).toBeGreaterThanOrEqual(cutBytes);
        // no object of the cut run's packs is in a pack of the resumed run
        for (const [obj, at] of after) if (sentBefore.has(obj)) expect(at.pack).toBe(sentBefore.get(obj)!.pack);
        expect((await listRemoteBackups(remote, AbortSignal.timeout(60_000))).backups.map((b) => b.id)).toEqual([
          st.ids[2],
        ]);
      } finally {
        await remote.close();
      }
    },
    SLOW,
  );

  it.each(REPO_KINDS)(
    '%s: a bbackup killed (SIGKILL) mid-upload leaves no backup and no blocking lock; the next run sends only what is missing',
    async (kind) => {
      expect(st.ids, 'the first test must pass').toHaveLength(3);
      // one local store for the three kinds (each run uploads only to its kind): after the first
      // kind, the local part of each run is an incremental; the remote is new each time
      const cfg = cfgFor(kind, 'r-kill', { backup: { ...(st.cfg.backup as object), store: join(tmp, 'store-kill') } });
      const path = join(tmp, `${kind}-kill.yaml`);
      const cli = await configFile(path, cfg);
      const remote = remoteOf(cfg, kind);
      try {
        const { file, args, cwd } = cliCommand();
        const child = execa(file, [...args, '-c', path, 'backup', '-s', 'a'], {
          cwd,
          reject: false,
          stdin: 'ignore',
          env: { NO_COLOR: '1' },
        });
        // wait for the first pack to be on the remote with its index, then kill without warning
        let killed = false;
        const ended = child.then(() => undefined);
        while (!killed) {
          const listed = await collect(remote.list('packs', { signal: AbortSignal.timeout(60_000) })).catch(() => []);
          if (listed.some((e) => e.key.endsWith('.idx.json'))) {
            killed = child.kill('SIGKILL');
            break;
          }
          const done = await Promise.race([
            ended.then(() => true),
            new Promise<false>((r) => setImmediate(() => r(false))),
          ]);
          if (done) break;
        }
        const r = await child;
        expect(killed, `the upload ended before a pack was stored: ${String(r.stderr)}`).toBe(true);
        expect(r.signal).toBe('SIGKILL');
        const sentBefore = await packObjects(remote);
        expect(sentBefore.size).toBeGreaterThan(0);
        expect((await listRemoteBackups(remote, AbortSignal.timeout(60_000))).backups).toEqual([]);

        // the killed run's lock is left behind, but its run is provably dead: the next run proceeds
        const again = await cli(['--json', 'backup', '-s', 'a']);
        expect(again.exitCode, again.stderr).toBe(0);
        const listed = await listRemoteBackups(remote, AbortSignal.timeout(60_000), undefined, { details: true });
        expect(listed.backups).toHaveLength(1);
        // nothing the killed run stored was sent again: each of its objects is still only in its pack
        for (const [obj, at] of await packObjects(remote))
          if (sentBefore.has(obj)) expect(at.pack).toBe(sentBefore.get(obj)!.pack);
        expect(listed.backups[0]!.info!.added).toBeLessThan(listed.backups[0]!.info!.size);
        const pullCli = await configFile(join(tmp, `${kind}-kill-pull.yaml`), {
          ...cfg,
          backup: { store: join(tmp, kind, 'store-kill-pulled') },
        });
        const pulled = await pullCli(['pull', kind, listed.backups[0]!.id]);
        expect(pulled.exitCode, pulled.stderr).toBe(0);
      } finally {
        await remote.close();
      }
    },
    SLOW,
  );

  it(
    'two hosts uploading to one remote share identical objects, on each kind',
    async () => {
      expect(st.ids).toHaveLength(3);
      const engine = process.env.DOCKER_HOST!;
      const cfg = {
        ...st.cfg,
        backup: { store: join(tmp, 'store-hosts') },
        hosts: { alpha: { docker_host: engine }, beta: { docker_host: engine } },
        remotes: remotesSection(sshd, join(tmp, 'r-hosts'), REPO_KINDS),
      };
      const cli = await configFile(join(tmp, 'hosts.yaml'), cfg);
      const a = await cli(['--host', 'alpha', 'backup', '--volumes', st.volume]);
      expect(a.exitCode, a.stderr).toBe(0);
      const sa = await storedBytesAll(cfg);
      const b = await cli(['--host', 'beta', 'backup', '--volumes', st.volume]);
      expect(b.exitCode, b.stderr).toBe(0);
      const sb = await storedBytesAll(cfg);
      for (const kind of REPO_KINDS) {
        expect(sb[kind] - sa[kind], kind).toBeLessThanOrEqual(0.05 * sa[kind]);
        const remote = remoteOf(cfg, kind);
        try {
          const listed = await listRemoteBackups(remote, AbortSignal.timeout(60_000), undefined, { details: true });
          expect(listed.backups.map((x) => x.host).sort()).toEqual(['alpha', 'beta']);
          const beta = listed.backups.find((x) => x.host === 'beta')!;
          expect(beta.info!.added, kind).toBeLessThan(0.05 * beta.info!.size);
        } finally {
          await remote.close();
        }
      }
    },
    SLOW,
  );

  it.each(REPO_KINDS)(
    '%s: verify --remote: a damaged pack is found only with --read-data; a pack deleted by hand is found',
    async (kind) => {
      expect(st.ids).toHaveLength(3);
      const cfg = { ...st.cfg, remotes: remotesSection(sshd, join(tmp, 'r'), [kind]) };
      const cli = await configFile(join(tmp, `${kind}-verify.yaml`), cfg);
      const remote = remoteOf(cfg, kind);
      try {
        const ok = await cli(['verify', '--remote', kind, '--all', '--read-data']);
        expect(ok.exitCode, ok.stdout + ok.stderr).toBe(0);
        expect(ok.stdout).toMatch(new RegExp(`ok\\s+${st.ids[0]}`));
        const { objects } = await refsOf(remote, st.host, st.ids[0]!);
        const packs = await packObjects(remote);
        const damaged = packs.get(objects.find((o) => packs.has(o))!)!.pack;
        const key = (await collect(remote.list('packs', { signal: AbortSignal.timeout(60_000) }))).find((e) =>
          e.key.startsWith(`packs/${damaged}.tar.zst`),
        )!;
        const garbage = randomBytes(key.size);
        await remote.put(key.key.replace(/\.age$/, ''), () => Readable.from([garbage]), {
          signal: AbortSignal.timeout(60_000),
          plaintext: true,
        });
        const listingOnly = await cli(['verify', '--remote', kind, st.ids[0]!]);
        expect(listingOnly.exitCode, listingOnly.stdout).toBe(0);
        const read = await cli(['verify', '--remote', kind, st.ids[0]!, '--read-data']);
        expect(read.exitCode).toBe(4);
        expect(read.stdout).toContain(`pack ${damaged}`);

        const third = await refsOf(remote, st.host, st.ids[2]!);
        const gone = [...new Set(third.objects.map((o) => packs.get(o)?.pack).filter((p) => p && p !== damaged))][0]!;
        const goneKey = (await collect(remote.list('packs', { signal: AbortSignal.timeout(60_000) }))).find((e) =>
          e.key.startsWith(`packs/${gone}.tar.zst`),
        )!.key;
        await remote.remove(goneKey, { signal: AbortSignal.timeout(60_000) });
        const missing = await cli(['--json', 'verify', '--remote', kind, st.ids[2]!, '--read-data']);
        expect(missing.exitCode).toBe(4);
        const report = JSON.parse(missing.stdout) as { ok: boolean; verified: { problems: string[] }[] };
        expect(report.ok).toBe(false);
        expect(report.verified[0]!.problems.join('\n')).toMatch(/object [0-9a-f]{64} is missing/);
      } finally {
        await remote.close();
      }
    },
    SLOW,
  );

  it(
    'encryption is write-only: upload and rotate with recipients only; pull with the identity, on each kind',
    async () => {
      expect(st.ids).toHaveLength(3);
      const key = join(tmp, 'age.key');
      await execa('age-keygen', ['-o', key]);
      const recipient = (await readFile(key, 'utf8')).match(/public key: (age1\w+)/)![1]!;
      const store = join(tmp, 'store-enc');
      const cfg = {
        ...st.cfg,
        backup: { ...(st.cfg.backup as object), store },
        remotes: remotesSection(sshd, join(tmp, 'r-enc'), REPO_KINDS),
        encryption: { enabled: true, recipients: [recipient] },
        retention: { last: 1, daily: 0, weekly: 0, monthly: 0, keep_within: 0 },
      };
      const cli = await configFile(join(tmp, 'enc.yaml'), cfg);
      const one = await cli(['backup', '-s', 'a']);
      expect(one.exitCode, one.stderr).toBe(0);
      await change(st.mp, 2);
      const two = await cli(['backup', '-s', 'a']); // rotation after it removes the first, and sweeps
      expect(two.exitCode, two.stderr).toBe(0);
      // retention (last 1) rotates the local store as well: only the second backup is left there
      const encIds = await ids(join(store, st.host));
      expect(encIds).toHaveLength(1);
      const newest = encIds[0]!;
      for (const kind of REPO_KINDS) {
        const remote = remoteOf(cfg, kind);
        try {
          const listed = await listRemoteBackups(remote, AbortSignal.timeout(60_000));
          expect(
            listed.backups.map((b) => [b.id, b.encrypted]),
            kind,
          ).toEqual([[newest, true]]);
          const plaintext = (await collect(remote.list('', { signal: AbortSignal.timeout(60_000) })))
            .map((e) => e.key)
            .filter((k) => !k.endsWith('.age'));
          for (const k of plaintext)
            expect(k, kind).toMatch(
              /^(bbackup-repo\.json|packs\/[0-9a-f]{32}\.idx\.json|snapshots\/[^/]+\/[^/]+\/(info\.json|refs\.json\.gz))$/,
            );
        } finally {
          await remote.close();
        }
        // the identity is needed only to read
        const pulledStore = join(tmp, kind, 'store-enc-pulled');
        const pullCli = await configFile(join(tmp, `${kind}-enc-pull.yaml`), {
          ...cfg,
          remotes: remotesSection(sshd, join(tmp, 'r-enc'), [kind]),
          backup: { store: pulledStore },
          encryption: { enabled: false, identity_file: key },
        });
        const pulled = await pullCli(['pull', kind, newest]);
        expect(pulled.exitCode, pulled.stderr).toBe(0);
        expect(await describeTree(join(pulledStore, st.host, newest, 'volumes', st.volume))).toEqual(
          await describeTree(join(store, st.host, newest, 'volumes', st.volume)),
        );
      }
    },
    SLOW,
  );
});

/** objectId -> pack and size, from every pack index on the remote */
async function packObjects(remote: Remote): Promise<Map<string, { pack: string; size: number }>> {
  const out = new Map<string, { pack: string; size: number }>();
  for (const e of await collect(remote.list('packs', { signal: AbortSignal.timeout(60_000) }))) {
    if (!e.key.endsWith('.idx.json')) continue;
    const doc = JSON.parse(await readAll(remote, e.key)) as { pack: string; objects: [string, number][] };
    for (const [obj, size] of doc.objects) out.set(obj, { pack: doc.pack, size });
  }
  return out;
}

async function refsOf(remote: Remote, host: string, id: string): Promise<{ objects: string[] }> {
  const { gunzipSync } = await import('node:zlib');
  const s = await remote.get(`snapshots/${host}/${id}/refs.json.gz`, { signal: AbortSignal.timeout(60_000) });
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c as Buffer);
  return JSON.parse(gunzipSync(Buffer.concat(parts)).toString('utf8')) as { objects: string[] };
}

async function readAll(remote: Remote, key: string): Promise<string> {
  const s = await remote.get(key, { signal: AbortSignal.timeout(60_000) });
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c as Buffer);
  return Buffer.concat(parts).toString('utf8');
}
