// Retention that never eats the backup you need, through the real CLI, a real store and a real
// `local` remote: a full backup followed by `-s databases` runs survives rotation (groups); the
// default policy keeps a second backup of the day; rotate shows each backup's group and the rule;
// an encrypted remote rotates by the status in retention.json without the age identity, and a
// remote backup nothing tells anything about is kept.
import { execa } from 'execa';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfigObject } from '../../src/config/load.js';
import { openRemote } from '../../src/remote/open.js';
import { uploadBackup } from '../../src/remote/upload-backup.js';
import { hashedGroup } from '../../src/store/retention-group.js';
import { makeFixtureBackup } from '../helpers/backup-fixture.js';
import { testDocker, testLabels } from '../helpers/docker.js';
import { testName } from '../helpers/names.js';
import { mountpointOf } from '../helpers/volume-data.js';
import { configFile } from './remote-helpers.js';

let tmp: string;
let docker: Docker;
const volumes: string[] = [];
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'bbt-ret-'));
  docker = testDocker();
});
afterAll(async () => {
  for (const v of volumes)
    await docker
      ?.getVolume(v)
      .remove({ force: true })
      .catch(() => undefined);
  await rm(tmp, { recursive: true, force: true });
});

async function volume(content: string): Promise<string> {
  const name = testName('ret');
  await docker.createVolume({ Name: name, Labels: testLabels() });
  volumes.push(name);
  await writeFile(join(await mountpointOf(docker, name), 'data'), content);
  return name;
}

interface Decision {
  id: string;
  group: string;
  complete: boolean;
  keep: boolean;
  reasons: string[];
}
interface RotateDoc {
  reports: { target: string; host: string; plan: { decisions: Decision[]; remove: string[] }; removed: string[] }[];
}

const ids = async (dir: string) =>
  (await readdir(dir).catch(() => [] as string[])).filter((n) => /^\d{8}T\d{6}Z(-\d+)?$/.test(n)).sort();
const idOf = (stdout: string) => (JSON.parse(stdout) as { id: string }).id;
const day = (id: string) => `${id.slice(0, 4)}-${id.slice(4, 6)}-${id.slice(6, 8)}`;

describe('retention groups end to end', () => {
  it('a full backup followed by two `-s databases` runs: nothing the operator needs is removed', async () => {
    const app = await volume('app\n');
    const db = await volume('db\n');
    const store = join(tmp, 'store');
    const nas = join(tmp, 'nas');
    const base = {
      backup: { store, backup_sets: { databases: { volumes: [db] } } },
      remotes: { nas: { type: 'local', path: nas } },
    };
    // the default retention policy, rotating after every backup
    const cli = await configFile(join(tmp, 'default.yaml'), base);

    const full = await cli(['--json', 'backup', '--volumes', app, db]);
    expect(full.exitCode, full.stderr).toBe(0);
    const db1 = await cli(['--json', 'backup', '-s', 'databases']);
    expect(db1.exitCode, db1.stderr).toBe(0);
    const db2 = await cli(['--json', 'backup', '-s', 'databases']);
    expect(db2.exitCode, db2.stderr).toBe(0);
    const [fullId, db1Id, db2Id] = [idOf(full.stdout), idOf(db1.stdout), idOf(db2.stdout)];
    const [host] = await readdir(store);
    const local = join(store, host!);
    const remote = join(nas, host!);

    // the default policy (keep_within 24h, last 3) removed nothing: three backups, locally and on the remote
    expect(await ids(local)).toEqual([fullId, db1Id, db2Id].sort());
    expect(await ids(remote)).toEqual([fullId, db1Id, db2Id].sort());
    // each manifest records its group; each remote copy has its retention.json
    const fullGroup = `volumes:${[app, db].sort().join(',')}`;
    expect(JSON.parse(await readFile(join(local, fullId, 'manifest.json'), 'utf8'))).toMatchObject({
      group: fullGroup,
    });
    expect(JSON.parse(await readFile(join(local, db1Id, 'manifest.json'), 'utf8'))).toMatchObject({
      group: 'set:databases',
    });
    expect(JSON.parse(await readFile(join(remote, db2Id, 'retention.json'), 'utf8'))).toEqual({
      format: 1,
      id: db2Id,
      status: 'complete',
      group: 'set:databases',
    });

    // Without keep_within and last, only the day rules decide: the full backup keeps its day in its
    // own group; of the two databases runs the newer one wins the day.
    const strict = await configFile(join(tmp, 'strict.yaml'), { ...base, retention: { keep_within: 0, last: 0 } });
    const dry = await strict(['--json', 'rotate', '--dry-run']);
    expect(dry.exitCode, dry.stderr).toBe(0);
    const doc = JSON.parse(dry.stdout) as RotateDoc;
    const sameDay = day(db1Id) === day(db2Id); // a run across midnight UTC keeps both: each is its day's newest
    for (const r of doc.reports) {
      const by = new Map(r.plan.decisions.map((d) => [d.id, d]));
      expect(by.get(fullId)).toMatchObject({
        group: fullGroup,
        keep: true,
        reasons: [`daily ${day(fullId)}`, expect.stringMatching(/^weekly /), expect.stringMatching(/^monthly /)],
      });
      expect(by.get(db2Id)).toMatchObject({ group: 'set:databases', keep: true });
      expect(by.get(db1Id)).toMatchObject({
        group: 'set:databases',
        keep: !sameDay,
        reasons: sameDay ? ['no keep rule matches'] : [`daily ${day(db1Id)}`],
      });
    }
    expect(doc.reports.map((r) => r.target).sort()).toEqual(['local', 'nas']);
    // the text form: where, host, group, id, action, reason
    const text = await strict(['rotate', '--dry-run']);
    expect(text.stdout.split('\n')[0]).toMatch(/^WHERE\s+HOST\s+GROUP\s+ID\s+ACTION\s+REASON/);
    expect(text.stdout).toMatch(
      new RegExp(`local\\s+\\S+\\s+${fullGroup}\\s+${fullId}\\s+keep\\s+daily ${day(fullId)}`),
    );
    if (sameDay)
      expect(text.stdout).toMatch(
        new RegExp(`nas\\s+\\S+\\s+set:databases\\s+${db1Id}\\s+remove\\s+no keep rule matches`),
      );

    const real = await strict(['rotate']);
    expect(real.exitCode, real.stderr).toBe(0);
    const left = sameDay ? [fullId, db2Id].sort() : [fullId, db1Id, db2Id].sort();
    expect(await ids(local)).toEqual(left);
    expect(await ids(remote)).toEqual(left);
  }, 300_000); // eight CLI runs on a shared 2-core machine

  it('an encrypted remote rotates by retention.json without the age identity; a backup nothing describes is kept', async () => {
    const key = join(tmp, 'age.key');
    await execa('age-keygen', ['-o', key]);
    const recipient = (await readFile(key, 'utf8')).match(/public key: (age1\w+)/)![1]!;
    const store = join(tmp, 'enc-store');
    const vault = join(tmp, 'vault');
    const host = 'enc-host';
    // recipients only: this host can encrypt, never decrypt
    const raw = {
      backup: { store },
      remotes: { vault: { type: 'local', path: vault } },
      encryption: { enabled: true, recipients: [recipient] },
      retention: { keep_within: 0, last: 0, daily: 7 },
    };
    const config = parseConfigObject(raw, 'test', {});
    const remote = openRemote(config, 'vault');
    // one day: a complete backup at 03:00, a partial one at 23:00 (newest of the day); a backup of
    // another group the next day; and one uploaded by an old bbackup (no retention.json)
    const complete = '20261001T030000Z';
    const partial = '20261001T230000Z';
    const other = '20261002T030000Z';
    const old = '20260901T030000Z';
    const made = [
      await makeFixtureBackup({ store, host, id: complete, group: 'all' }),
      await makeFixtureBackup({ store, host, id: partial, group: 'all', status: 'partial' }),
      await makeFixtureBackup({ store, host, id: other, group: 'set:databases' }),
      await makeFixtureBackup({ store, host, id: old }),
    ];
    try {
      for (const m of made)
        await uploadBackup({
          remote,
          backupDir: m.dir,
          manifest: m.manifest,
          level: 3,
          encrypted: true,
          signal: AbortSignal.timeout(60_000),
        });
    } finally {
      await remote.close();
    }
    // retention.json is plaintext and names no group; everything else is encrypted
    const info = JSON.parse(await readFile(join(vault, host, other, 'retention.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(info).toEqual({ format: 1, id: other, status: 'complete', group: hashedGroup('set:databases') });
    expect(JSON.stringify(info)).not.toContain('databases');
    expect((await readdir(join(vault, host, partial))).sort()).toEqual([
      'containers',
      'manifest.json.age',
      'metadata.tar.zst.age',
      'networks',
      'remote-index.json.age',
      'retention.json',
      'volumes',
    ]);
    // the old upload has no retention.json; the local store has none of these backups any more
    await rm(join(vault, host, old, 'retention.json'));
    await rm(store, { recursive: true, force: true });

    const cli = await configFile(join(tmp, 'enc.yaml'), raw);
    const dry = await cli(['--json', 'rotate', '--dry-run', '-r', 'vault']);
    expect(dry.exitCode, dry.stderr).toBe(0);
    const [r] = (JSON.parse(dry.stdout) as RotateDoc).reports;
    const by = new Map(r!.plan.decisions.map((d) => [d.id, d]));
    expect(by.get(complete)).toMatchObject({
      complete: true,
      keep: true,
      group: hashedGroup('all'),
      reasons: ['daily 2026-10-01', 'weekly 2026-W40', 'monthly 2026-10'],
    });
    expect(by.get(partial)).toMatchObject({
      complete: false,
      keep: false,
      reasons: ['partial: day has a complete backup'],
    });
    expect(by.get(other)).toMatchObject({ keep: true, group: hashedGroup('set:databases') });
    // a group of its own, taken as complete: whatever the rules say, it is its group's newest
    expect(by.get(old)).toMatchObject({ keep: true, group: 'unknown' });
    expect(by.get(old)!.reasons[0]).toBe('no retention.json, manifest not readable: kept');
    expect(r!.plan.remove).toEqual([partial]);

    const real = await cli(['rotate', '-r', 'vault']);
    expect(real.exitCode, real.stderr).toBe(0);
    expect(await ids(join(vault, host))).toEqual([old, complete, other].sort());
  }, 300_000);

  it('a remote backup without retention.json takes its status from the local manifest, then from the remote manifest', async () => {
    const store = join(tmp, 'fb-store');
    const nas = join(tmp, 'fb-nas');
    const host = 'fb-host';
    const raw = {
      backup: { store },
      remotes: { nas: { type: 'local', path: nas } },
      retention: { keep_within: 0, last: 0, daily: 7 },
    };
    const remote = openRemote(parseConfigObject(raw, 'test', {}), 'nas');
    const made = [
      await makeFixtureBackup({ store, host, id: '20261001T030000Z' }),
      await makeFixtureBackup({ store, host, id: '20261001T230000Z', status: 'partial' }),
      await makeFixtureBackup({ store, host, id: '20261002T030000Z' }),
      await makeFixtureBackup({ store, host, id: '20261002T230000Z', status: 'partial' }),
    ];
    try {
      for (const m of made)
        await uploadBackup({
          remote,
          backupDir: m.dir,
          manifest: m.manifest,
          level: 3,
          encrypted: false,
          signal: AbortSignal.timeout(60_000),
        });
    } finally {
      await remote.close();
    }
    for (const m of made) await rm(join(nas, host, m.manifest.id, 'retention.json'));
    // day 1 is still in the local store, day 2 only on the remote (its plaintext manifest)
    await rm(made[2]!.dir, { recursive: true });
    await rm(made[3]!.dir, { recursive: true });
    const cli = await configFile(join(tmp, 'fb.yaml'), raw);
    const dry = await cli(['--json', 'rotate', '--dry-run', '-r', 'nas']);
    expect(dry.exitCode, dry.stderr).toBe(0);
    const [r] = (JSON.parse(dry.stdout) as RotateDoc).reports;
    expect(r!.plan.remove.sort()).toEqual(['20261001T230000Z', '20261002T230000Z']);
    // one group: both derive it from what the fixture holds
    expect(new Set(r!.plan.decisions.map((d) => d.group))).toEqual(
      new Set(['items:containers=web+volumes=data+networks=appnet']),
    );
  });
});
