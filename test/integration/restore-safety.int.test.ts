// Safety against the real engine: conflicts refuse and change nothing; --force replaces only what
// was named; a hostile archive restores nothing and names each bad entry; a backup that does not
// match its manifest is refused unless --no-verify.
import { appendFile, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { BbackupError } from '../../src/errors.js';
import { parseRenames } from '../../src/restore/renames.js';
import { startRestore } from '../../src/restore/restore-job.js';
import type { Manifest } from '../../src/store/manifest.js';
import { createTestContainer, createTestVolume, testDocker, testLabels } from '../helpers/docker.js';
import { makeFixtureBackup, sha256Of } from '../helpers/fixture-backup.js';
import { testName } from '../helpers/names.js';
import { describeTree, fillRichTree, mountpointOf } from '../helpers/volume-data.js';
import { cleanupAfter, request } from '../helpers/restore.js';

let tmp: string;
let docker: Docker;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'bbt-rs-'));
  docker = testDocker();
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const deps = () => ({ docker, localEngine: true, helperLabels: testLabels() });
const refusal = async (p: Promise<unknown>): Promise<BbackupError> => {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(BbackupError);
  return err as BbackupError;
};

async function engineState(names: string[]) {
  const containers = (await docker.listContainers({ all: true })).filter((c) =>
    names.some((n) => c.Names.includes(`/${n}`)),
  );
  const volumes = ((await docker.listVolumes()).Volumes ?? []).filter((v) => names.includes(v.Name));
  return {
    containers: containers.map((c) => `${c.Names[0]} ${c.Id} ${c.State}`).sort(),
    volumes: volumes.map((v) => v.Name).sort(),
  };
}

describe('conflicts and --force', () => {
  it('without --force nothing changes; with --force only the named objects are replaced', async () => {
    const v = await createTestVolume(docker, 'rs');
    const w = await createTestVolume(docker, 'rs');
    await fillRichTree(await mountpointOf(docker, v));
    await writeFile(join(await mountpointOf(docker, w), 'w.txt'), 'original w');
    const c = await createTestContainer(docker, 'rs', { HostConfig: { Binds: [`${v}:/data`] } });
    const dir = join(tmp, '20261125T201000Z');
    await makeFixtureBackup(docker, { dir, containers: [c], volumes: [v, w] });
    // The live objects drift from the backup.
    await appendFile(join(await mountpointOf(docker, v), 'etc/app.conf'), 'changed after backup\n');
    await writeFile(join(await mountpointOf(docker, w), 'w.txt'), 'changed w');
    const state = await engineState([c, v, w]);
    const vTree = await describeTree(await mountpointOf(docker, v));

    const err = await refusal(startRestore(request(dir, { all: true }), deps()).done);
    expect(err.code).toBe('CONFLICT');
    expect(err.exitCode).toBe(1);
    expect(err.message).toContain(
      `volume ${v} already exists (use --force to replace it, or --rename ${v}:NEW to restore beside it)`,
    );
    expect(err.message).toContain(`container ${c} already exists`);
    expect(err.message).toContain('nothing was changed');
    expect(await engineState([c, v, w])).toEqual(state);
    expect(await describeTree(await mountpointOf(docker, v))).toEqual(vTree);

    // --force on w alone: w is back to the backup, v and the container are untouched.
    const r1 = await startRestore(request(dir, { volumes: [w], force: true }), deps()).done;
    expect(r1.outcome).toBe('ok');
    expect(await readFile(join(await mountpointOf(docker, w), 'w.txt'), 'utf8')).toBe('original w');
    expect(await describeTree(await mountpointOf(docker, v))).toEqual(vTree);
    expect((await engineState([c])).containers).toEqual(state.containers);

    // --force on the container: it is replaced (new id, started: it was running); its volume v,
    // only a dependency, keeps the live data.
    const r2 = await startRestore(request(dir, { containers: [c], force: true }), deps()).done;
    expect(r2.outcome).toBe('ok');
    const after = await docker.getContainer(c).inspect();
    expect(after.Id).not.toBe(state.containers[0]!.split(' ')[1]);
    expect(after.State.Running).toBe(true);
    expect(await readFile(join(await mountpointOf(docker, v), 'etc/app.conf'), 'utf8')).toContain(
      'changed after backup',
    );
    expect(r2.value!.plan.items.map((i) => `${i.action} ${i.kind}`)).toEqual(['reuse volume', 'replace container']);
  });
});

/** A backup folder holding one archive volume, with a manifest that matches it. */
async function archiveBackup(dir: string, volume: string, tarFile: string): Promise<void> {
  await mkdir(join(dir, 'volumes'), { recursive: true });
  const rel = `volumes/${volume}.tar`;
  await execa('cp', [tarFile, join(dir, rel)]);
  const manifest: Manifest = {
    format: 1,
    id: dir.split('/').pop()!,
    host: 'h',
    created: '',
    finished: '',
    tool: { name: 'bbackup', version: 't' },
    status: 'complete',
    scope: { containers: false, volumes: true, networks: false },
    compression: { method: 'none', level: 0 },
    encrypted: false,
    errors: [],
    items: [
      {
        kind: 'volume',
        name: volume,
        driver: 'local',
        labels: testLabels(),
        options: {},
        usedBy: [],
        format: 'archive',
        compression: 'none',
        bytes: 10,
        fileCount: 3,
        files: [{ path: rel, size: (await stat(join(dir, rel))).size, sha256: await sha256Of(join(dir, rel)) }],
      },
    ],
  };
  await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest));
}

describe('hostile archives', () => {
  it('../, absolute paths and a file through a symlink: nothing restored, nothing outside, every entry named', async () => {
    const outside = await mkdtemp(join(tmpdir(), 'bbt-rs-outside-'));
    onTestFinished(() => rm(outside, { recursive: true, force: true }));
    const stage = join(tmp, 'hostile');
    await mkdir(join(stage, 'real/link'), { recursive: true });
    await writeFile(join(stage, 'ok.txt'), 'fine');
    await writeFile(join(stage, 'real/link/pwned'), 'through the link');
    await symlink(outside, join(stage, 'link'));
    await writeFile(join(outside, 'abs.txt'), 'abs');
    const tar = join(tmp, 'hostile.tar');
    await execa('tar', ['-C', stage, '-cf', tar, 'ok.txt', 'link']);
    await execa('tar', ['-C', join(stage, 'real'), '-rf', tar, 'link/pwned']);
    await execa('tar', ['-C', stage, '-rPf', tar, '../escaped.txt'], { reject: false });
    await writeFile(join(tmp, 'escaped.txt'), 'dotdot');
    await execa('tar', ['-C', stage, '-rPf', tar, '../escaped.txt']);
    await execa('tar', ['-rPf', tar, join(outside, 'abs.txt')]);
    await rm(join(outside, 'abs.txt'));
    const dir = join(tmp, '20261125T202000Z');
    const name = testName('rs');
    await archiveBackup(dir, name, tar);

    for (const verify of [true, false]) {
      const err = await refusal(startRestore(request(dir, { volumes: [name], verify }), deps()).done);
      expect(err.code).toBe('INTEGRITY');
      expect(err.message).toContain('could write outside their volume; nothing was restored');
      expect(err.message).toContain(
        `volume ${name}: entry "link/pwned": goes through the symlink link (would write outside the target)`,
      );
      expect(err.message).toContain(`volume ${name}: entry "../escaped.txt": path contains a ".." component`);
      expect(err.message).toMatch(new RegExp(`entry "${outside}/abs.txt": absolute path`));
      expect(
        await docker
          .getVolume(name)
          .inspect()
          .then(
            () => true,
            () => false,
          ),
      ).toBe(false);
      expect(
        await stat(join(outside, 'pwned')).then(
          () => true,
          () => false,
        ),
      ).toBe(false);
      expect(
        await stat(join(outside, 'abs.txt')).then(
          () => true,
          () => false,
        ),
      ).toBe(false);
    }
  });
});

describe('manifest mismatch', () => {
  it('a changed byte in a tree snapshot is refused (naming the file) unless --no-verify', async () => {
    const v = await createTestVolume(docker, 'rs');
    await fillRichTree(await mountpointOf(docker, v));
    const dir = join(tmp, '20261125T203000Z');
    await makeFixtureBackup(docker, { dir, volumes: [v] });
    const file = join(dir, 'volumes', v, 'etc/app.conf');
    const bytes = await readFile(file);
    bytes[0] = bytes[0]! ^ 0xff;
    await writeFile(file, bytes);
    const v2 = testName('rs');
    cleanupAfter(docker, { volumes: [v2] });
    const req = request(dir, { volumes: [v], renames: parseRenames([`${v}:${v2}`]) });
    const err = await refusal(startRestore(req, deps()).done);
    expect(err.code).toBe('INTEGRITY');
    expect(err.message).toContain(`volume ${v}: etc/app.conf: content differs from the index (sha256)`);
    expect(err.message).toContain('--no-verify restores anyway');
    expect(
      await docker
        .getVolume(v2)
        .inspect()
        .then(
          () => true,
          () => false,
        ),
    ).toBe(false);
    const r = await startRestore({ ...req, verify: false }, deps()).done;
    expect(r.outcome).toBe('ok');
    expect(await readFile(join(await mountpointOf(docker, v2), 'etc/app.conf'))).toEqual(bytes);
  });

  it('found while copying (new volumes are checked in the same pass): what the restore created is removed again', async () => {
    // two volumes; the one restored first is intact, the second has a changed byte
    const good = await createTestVolume(docker, 'rs');
    const bad = await createTestVolume(docker, 'rs');
    await writeFile(join(await mountpointOf(docker, good), 'fine.txt'), 'fine');
    await fillRichTree(await mountpointOf(docker, bad));
    const dir = join(tmp, '20261125T203500Z');
    await makeFixtureBackup(docker, { dir, volumes: [good, bad] });
    const file = join(dir, 'volumes', bad, 'data.bin');
    const bytes = await readFile(file);
    bytes[100] = bytes[100]! ^ 0x01;
    await writeFile(file, bytes);
    const [g2, b2] = [testName('rs'), testName('rs')];
    cleanupAfter(docker, { volumes: [g2, b2] });
    const events: { type: string; item?: string }[] = [];
    const job = startRestore(
      request(dir, { volumes: [good, bad], renames: parseRenames([`${good}:${g2}`, `${bad}:${b2}`]) }),
      { ...deps(), emit: (e) => events.push(e) },
    );
    const err = await refusal(job.done);
    expect(err.message).toMatch(
      /^refused: backup \S+ does not match its manifest; nothing was restored \(--no-verify restores anyway\)/,
    );
    expect(err.message).toContain(`volume ${bad}: data.bin: content differs from the index (sha256)`);
    // the check ran during the copy (the good volume was restored first), not before it
    expect(events.filter((e) => e.type === 'item.done').map((e) => e.item)).toContain(`volume ${g2}`);
    for (const name of [g2, b2])
      expect(
        await docker
          .getVolume(name)
          .inspect()
          .then(
            () => true,
            () => false,
          ),
      ).toBe(false);
  });

  it('an archive whose sha256 differs from the manifest is refused', async () => {
    const v = await createTestVolume(docker, 'rs');
    await writeFile(join(await mountpointOf(docker, v), 'f.txt'), 'x'.repeat(10000));
    const dir = join(tmp, '20261125T204000Z');
    const { manifest } = await makeFixtureBackup(docker, { dir, volumes: [v], format: 'archive', compression: 'gzip' });
    const rel = (manifest.items[0] as { files: { path: string }[] }).files[0]!.path;
    await appendFile(join(dir, rel), 'trailing garbage');
    const err = await refusal(startRestore(request(dir, { volumes: [v], force: true }), deps()).done);
    expect(err.message).toMatch(
      new RegExp(`${rel.replace(/\./g, '\\.')}: \\d+ bytes sha256 [0-9a-f]{12}…, the manifest says \\d+ bytes`),
    );
    expect(await readFile(join(await mountpointOf(docker, v), 'f.txt'), 'utf8')).toBe('x'.repeat(10000));
  });
});
