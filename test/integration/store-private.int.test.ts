// The store is private and holds no device nodes (issue 10, item 10; README "Store permissions"
// and "Device nodes"). A container's root can mknod a device or make a setuid-root program in its
// volume; against the real engine, in every volume mode (host, worker, stream) and format (tree,
// archive): the backup holds no device node and the manifest counts the ones left out; the setuid
// file is stored, but every folder above it is 0700 and the files bbackup writes are 0600. A
// store made 0755 by an older version is tightened on the next run. The local remote and a
// pulled backup are private too.
import { execFileSync } from 'node:child_process';
import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EngineEvent } from '../../src/events.js';
import { hostDir as hostDirOf } from '../../src/store/layout.js';
import type { Manifest, VolumeItem } from '../../src/store/manifest.js';
import { verifyBackup } from '../../src/store/verify.js';
import { pullBackup } from '../../src/remote/pull.js';
import { createTestContainer, createTestVolume, testDocker } from '../helpers/docker.js';
import { connect, runBackup, sh, tempDir, testConfig } from './backup-helpers.js';

const docker = testDocker();
const DEVICES = ['dev/null0', 'dev/null0-again', 'loop0'];

/** A volume as a hostile container's root could leave it, filled through the Mountpoint (we are root). */
async function hostileVolume(): Promise<string> {
  const name = await createTestVolume(docker, 'dur');
  const { Mountpoint } = (await docker.getVolume(name).inspect()) as { Mountpoint: string };
  sh(`cd '${Mountpoint}'
    mkdir -p dev data
    printf 'hello' > data/file && printf 'x' > suid && chown 0:0 suid && chmod 4755 suid
    mknod dev/null0 c 1 3 && ln dev/null0 dev/null0-again && mknod loop0 b 7 0 && mkfifo data/fifo`);
  return name;
}

const mode = async (p: string) => ((await stat(p)).mode & 0o7777).toString(8);

describe.each([
  ['host', 'tree'],
  ['host', 'archive'],
  ['worker', 'tree'],
  ['worker', 'archive'],
  ['stream', 'tree'],
  ['stream', 'archive'],
] as const)('%s mode, %s format', (volumeMode, format) => {
  it('stores no device node, counts it in the manifest, and keeps the backup private', async () => {
    const store = join(await tempDir('bbt-dur-'), 'store');
    const volume = await hostileVolume();
    const container = await createTestContainer(
      docker,
      'dur',
      { Env: ['DB_PASSWORD=hunter2'], HostConfig: { Binds: [`${volume}:/v`] } },
      false,
    );
    const config = testConfig(store, { volumes: { mode: volumeMode, format } });
    const { result, events } = await runBackup(
      { containers: [container], scope: { containers: true, volumes: true, networks: false } },
      config,
    );
    expect(result.errors).toEqual([]);
    if (result.value?.dryRun !== false) throw new Error('expected a backup');
    const { dir, manifest } = result.value;
    expect(result.value.plan.volumes[0]!.mode).toBe(volumeMode);
    const item = manifest.items.find((i): i is VolumeItem => i.kind === 'volume')!;
    expect(item.format).toBe(format);

    // no device node (nor a hard link to one) is stored
    const listing = storedListing(dir, item);
    expect(listing.filter((l) => /^[bc]/.test(l) || /null0/.test(l))).toEqual([]);
    // the setuid-root file is stored as it is, and so is the rest
    expect(listing.find((l) => l.endsWith(' suid'))).toMatch(/^-rwsr-xr-x 0\/0 /);
    expect(listing.some((l) => l.endsWith(' data/fifo') && l.startsWith('p'))).toBe(true);
    expect(listing.some((l) => l.endsWith(' data/file'))).toBe(true);

    // the ones left out are counted and named: manifest, warning, item detail
    expect(item.skippedDevices).toBe(3);
    expect([...item.skippedDevicePaths!].sort()).toEqual(DEVICES);
    const warn = events.find(
      (e): e is Extract<EngineEvent, { type: 'log' }> =>
        e.type === 'log' && e.level === 'warn' && e.msg.includes('device node'),
    );
    expect(warn?.msg).toMatch(/left out 3 device nodes \(.*loop0.*\)/);
    const done = events.find(
      (e): e is Extract<EngineEvent, { type: 'item.done' }> => e.type === 'item.done' && e.item === `volume ${volume}`,
    );
    expect(done?.detail).toBe('3 device nodes left out');

    // private: every folder on the way is 0700, what bbackup writes 0600
    const host = hostDirOf(store, manifest.host);
    for (const d of [store, host, dir, join(dir, 'containers'), join(dir, 'volumes')])
      expect(`${d} ${await mode(d)}`).toBe(`${d} 700`);
    const files = [...manifest.items.flatMap((i) => i.files.map((f) => f.path)), 'manifest.json'];
    expect(files).toContain(`containers/${container}/inspect.json`);
    for (const f of files) expect(`${f} ${await mode(join(dir, f))}`).toBe(`${f} 600`);

    const report = await verifyBackup(dir);
    expect(report.problems).toEqual([]);
  });
});

/** "type+mode uid/gid path" of each stored volume entry, from the tree or the archive. */
function storedListing(dir: string, item: VolumeItem): string[] {
  if (item.format === 'tree') {
    const root = join(dir, 'volumes', item.name);
    return sh(`cd '${root}' && find . -mindepth 1 -printf '%M %U/%G %P\\n'`).split('\n').filter(Boolean);
  }
  const out = execFileSync('tar', ['--zstd', '--numeric-owner', '-tvf', join(dir, item.files[0]!.path)], {
    encoding: 'utf8',
  });
  return out
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(/\s+/))
    .map((f) => `${f[0]} ${f[1]} ${f.slice(5).join(' ').replace(/^\.\//, '')}`)
    .filter((l) => !l.endsWith(' '));
}

describe('a store made by an older version', () => {
  it('is tightened to 0700 on the next run, and the local remote and a pulled backup are private too', async () => {
    const tmp = await tempDir('bbt-dur-');
    const store = join(tmp, 'store');
    const volume = await createTestVolume(docker, 'dur');
    const config = testConfig(
      store,
      { volumes: { mode: 'host', format: 'tree' } },
      { remotes: { usb: { type: 'local', path: join(tmp, 'usb'), retry: 0 } } },
    );
    const host = hostDirOf(store, (await connect(config)).hostName);
    // what an older bbackup left: world-readable folders and an old backup inside
    await mkdir(join(host, '20200101T000000Z', 'containers'), { recursive: true, mode: 0o755 });
    sh(
      `chmod 0755 '${store}' '${host}' && umask 022 && printf '{}' > '${host}/20200101T000000Z/containers/inspect.json'`,
    );
    expect(await mode(store)).toBe('755');

    const { result, events } = await runBackup(
      { volumes: [volume], scope: { containers: false, volumes: true, networks: false }, remotes: ['usb'] },
      config,
    );
    expect(result.errors).toEqual([]);
    if (result.value?.dryRun !== false) throw new Error('expected a backup');
    expect([await mode(store), await mode(host)]).toEqual(['700', '700']);
    const infos = events
      .filter((e): e is Extract<EngineEvent, { type: 'log' }> => e.type === 'log' && e.level === 'info')
      .map((e) => e.msg);
    expect(infos).toContain(
      `made ${store} private (mode 0755 -> 0700): backups hold container secrets and volume files only root may read`,
    );
    expect(infos).toContain(
      `made ${host} private (mode 0755 -> 0700): backups hold container secrets and volume files only root may read`,
    );

    // the local remote: folders 0700, files 0600
    const remoteListing = sh(`cd '${join(tmp, 'usb')}' && find . -mindepth 1 -printf '%y %m %P\\n'`)
      .split('\n')
      .filter(Boolean);
    expect(remoteListing.length).toBeGreaterThan(3);
    for (const l of remoteListing) expect(l).toMatch(/^(d 700|f 600) /);

    // pulled into a fresh store: private as well
    const pulledStore = join(tmp, 'pulled');
    const pulled = await pullBackup(config, 'usb', result.value.id, {
      store: pulledStore,
      signal: AbortSignal.timeout(60_000),
    });
    for (const d of [pulledStore, hostDirOf(pulledStore, result.value.manifest.host), pulled])
      expect(`${d} ${await mode(d)}`).toBe(`${d} 700`);
    const manifest = JSON.parse(sh(`cat '${pulled}/manifest.json'`)) as Manifest;
    for (const f of [...manifest.items.flatMap((i) => i.files.map((x) => x.path)), 'manifest.json'])
      expect(`${f} ${await mode(join(pulled, f))}`).toBe(`${f} 600`);
  });
});
