// Rotation after real backups: `rotate --dry-run` lists every backup with keep/remove and the
// reason; `rotate` then removes exactly those, locally and on a remote. With retention enabled,
// the next backup rotates by itself, locally and on the remote it uploaded to.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDocker, testLabels } from '../helpers/docker.js';
import { testName } from '../helpers/names.js';
import { mountpointOf } from '../helpers/volume-data.js';
import { mkdir, writeFile } from 'node:fs/promises';
import { configFile } from './remote-helpers.js';

let tmp: string;
let docker: Docker;
let volume: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'bbt-rm-rot-'));
  docker = testDocker();
  volume = testName('rm');
  await docker.createVolume({ Name: volume, Labels: testLabels() });
});
afterAll(async () => {
  await docker
    ?.getVolume(volume)
    .remove({ force: true })
    .catch(() => undefined);
  await rm(tmp, { recursive: true, force: true });
});

interface RotateDoc {
  dryRun: boolean;
  reports: {
    target: string;
    host: string;
    plan: { decisions: { id: string; keep: boolean; reasons: string[] }[]; remove: string[] };
    removed: string[];
    cleaned?: string[];
  }[];
}

const ids = async (dir: string) =>
  (await readdir(dir).catch(() => [] as string[])).filter((n) => /^\d{8}T\d{6}Z/.test(n)).sort();

describe('rotation after real backups', () => {
  it('rotate removes exactly what the dry run said, locally and on the remote', async () => {
    const base = { backup: { store: join(tmp, 'store') }, remotes: { nas: { type: 'local', path: join(tmp, 'nas') } } };
    const noRotation = await configFile(join(tmp, 'a.yaml'), { ...base, retention: { enabled: false } });
    for (let i = 0; i < 4; i++) {
      await writeFile(join(await mountpointOf(docker, volume), `file-${i}`), `version ${i}\n`);
      const r = await noRotation(['backup', '--volumes', volume]);
      expect(r.exitCode, r.stderr).toBe(0);
    }
    const [host] = await readdir(join(tmp, 'store'));
    const local = join(tmp, 'store', host!);
    const remote = join(tmp, 'nas', host!);
    const before = await ids(local);
    expect(before).toHaveLength(4);
    expect(await ids(remote)).toEqual(before);

    const policy = await configFile(join(tmp, 'b.yaml'), {
      ...base,
      retention: { last: 2, daily: 0, weekly: 0, monthly: 0, keep_within: 0 },
    });
    const dry = await policy(['--json', 'rotate', '--dry-run']);
    expect(dry.exitCode, dry.stderr).toBe(0);
    const plan = JSON.parse(dry.stdout) as RotateDoc;
    expect(plan.reports.map((r) => r.target).sort()).toEqual(['local', 'nas']);
    for (const r of plan.reports) {
      expect(r.removed).toEqual([]);
      expect(r.plan.decisions.map((d) => d.id)).toEqual([...before].reverse()); // every backup, newest first
      expect(r.plan.decisions.filter((d) => d.keep).map((d) => d.reasons)).toEqual([['last'], ['last']]);
      expect(r.plan.remove.sort()).toEqual(before.slice(0, 2));
    }
    // nothing changed by the dry run
    expect(await ids(local)).toEqual(before);
    expect(await ids(remote)).toEqual(before);
    // the text form shows every backup with its action and reason
    const text = await policy(['rotate', '--dry-run']);
    for (const id of before)
      expect(text.stdout).toMatch(new RegExp(`${id}\\s+(keep\\s+last|remove\\s+no keep rule matches)`));

    // a cut upload from long ago (left by a killed process) and a fresh one (maybe still running)
    await mkdir(join(remote, '20200101T000000Z.partial', 'volumes'), { recursive: true });
    await writeFile(join(remote, '20200101T000000Z.partial', 'volumes', 'x.tar.zst'), 'half');
    const fresh = `${new Date()
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d{3}Z$/, 'Z')}.partial`;
    await mkdir(join(remote, fresh));
    await writeFile(join(remote, fresh, 'metadata.tar.zst'), 'half');
    const real = JSON.parse((await policy(['--json', 'rotate'])).stdout) as RotateDoc;
    expect(real.reports.find((r) => r.target === 'nas')?.cleaned).toEqual([`${host}/20200101T000000Z.partial`]);
    expect((await readdir(remote)).filter((n) => n.endsWith('.partial'))).toEqual([fresh]);
    await rm(join(remote, fresh), { recursive: true });
    for (const r of real.reports)
      expect(r.removed.sort()).toEqual(plan.reports.find((p) => p.target === r.target)!.plan.remove.sort());
    expect(await ids(local)).toEqual(before.slice(2));
    expect(await ids(remote)).toEqual(before.slice(2));
    expect((await readdir(local)).filter((n) => n.startsWith('.removing'))).toEqual([]);

    // with retention on, the next backup rotates by itself, locally and on the remote
    const r = await policy(['backup', '--volumes', volume]);
    expect(r.exitCode, r.stderr).toBe(0);
    const after = await ids(local);
    expect(after).toHaveLength(2);
    expect(after[0]).toBe(before[3]);
    expect(await ids(remote)).toEqual(after);
  });

  it('rotate -r NAME touches only that remote', async () => {
    const cli = await configFile(join(tmp, 'c.yaml'), {
      backup: { store: join(tmp, 'store') },
      remotes: { nas: { type: 'local', path: join(tmp, 'nas') } },
      retention: { last: 1, daily: 0, weekly: 0, monthly: 0, keep_within: 0 },
    });
    const [host] = await readdir(join(tmp, 'store'));
    const localBefore = await ids(join(tmp, 'store', host!));
    const r = await cli(['rotate', '-r', 'nas']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(await ids(join(tmp, 'nas', host!))).toEqual(localBefore.slice(-1));
    expect(await ids(join(tmp, 'store', host!))).toEqual(localBefore);
  });
});
