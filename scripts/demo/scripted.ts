// What the demo runs through bbackup: the seed every run needs (a backup on both remotes that the
// local store has lost, and one scheduled run, so remotes, pull and schedules have something to
// show), and the scripted tour of commands shown when there is no terminal for the TUI. The seed
// sends only the small set "db" off-site: the big media volume goes to the remotes when the user
// backs up "shop" (B in the TUI), where its transfer is worth watching; start-up stays short.
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { listBackups } from '../../src/store/catalog.js';
import type { DemoCli } from './bbackup.js';
import { REMOTES, SCHEDULES } from './config.js';
import { changeDemoData, DEMO } from './objects.js';

export interface Seeded {
  /** the backup that is on both remotes but no longer in the local store */
  offsiteId: string;
}

/** The newest backup id in the store's one host folder. */
async function newestBackup(store: string): Promise<{ hostDir: string; id: string }> {
  // dot folders (.remotes: the remote repositories' cache) are not hosts
  const hosts = (await readdir(store, { withFileTypes: true })).filter(
    (d) => d.isDirectory() && !d.name.startsWith('.'),
  );
  if (hosts.length !== 1) throw new Error(`expected one host folder in ${store}, found ${hosts.length}`);
  const hostDir = join(store, hosts[0]!.name);
  const id = (await listBackups(hostDir)).at(-1)?.id;
  if (!id) throw new Error(`no backup in ${hostDir}`);
  return { hostDir, id };
}

export async function seed(cli: DemoCli, store: string, say: (s: string) => void): Promise<Seeded | undefined> {
  say(
    `backing up the set "db"; it is uploaded, age-encrypted, to both remotes: ${REMOTES.folder} (a folder) and ${REMOTES.sftp} (sftp on 127.0.0.1)`,
  );
  if (!(await cli.run(['backup', '-s', 'db']))) return undefined;
  const first = await newestBackup(store);
  say(
    `running the schedule "${SCHEDULES.often}" once now, as the daemon would: the set "shop" with its ${DEMO.volumes.media}, kept locally`,
  );
  if (!(await cli.run(['schedule', 'run', SCHEDULES.often]))) return undefined;
  // The newer backup's snapshot of the database is hard links to this one's: it keeps every file.
  say(
    `dropping the local copy of ${first.id}, as if it had been lost: only the remotes hold it now (O, then F pulls it back)`,
  );
  await rm(join(first.hostDir, first.id), { recursive: true, force: true });
  return { offsiteId: first.id };
}

/** Without a terminal: the commands a newcomer would try, each with the exit code it should give. */
export async function scriptedTour(
  cli: DemoCli,
  docker: Docker,
  store: string,
  say: (s: string) => void,
): Promise<string[]> {
  const failed: string[] = [];
  const step = async (args: string[], expected = 0) => {
    if (!(await cli.run(args, expected))) failed.push(`bbackup ${args.join(' ')}`);
  };
  for (const c of ['list-containers', 'list-volumes', 'list-networks']) await step([c]);
  // The legacy set names a missing container on purpose: list-backup-sets flags it with exit 1.
  await step(['list-backup-sets'], 1);
  const seeded = await seed(cli, store, say);
  if (!seeded) return [...failed, 'the seed backups'];
  await step(['list-backups']);
  await step(['list-remote-backups']);
  await step(['schedule', 'list']);
  await step(['pull', REMOTES.sftp, seeded.offsiteId]);
  const restored = `${DEMO.volumes.db}-restored`;
  await step(['restore', seeded.offsiteId, '-V', DEMO.volumes.db, '-r', `${DEMO.volumes.db}:${restored}`]);
  say(
    `the set "reports" runs a pre-backup hook in ${DEMO.containers.reports} that fails: the backup ends partial (exit 4) and says why`,
  );
  await step(['backup', '-s', 'reports'], 4);
  say('changing two small files, then backing up again: unchanged files are hard links to the previous backup');
  await changeDemoData(docker);
  await step(['backup', '-s', 'shop', '--no-upload']);
  await step(['verify']);
  return failed;
}
