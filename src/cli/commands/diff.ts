// bbackup diff ID -V vol [--deep]: a saved volume against the live one (src/files/diff.ts).
// Exit 0 whether or not they differ (the list is the answer); 1 for a bad backup, volume or
// usage, 3 when the live volume cannot be read.
import type { Command } from 'commander';
import { expandHome } from '../../config/locate.js';
import { isLocalEngine } from '../../docker/client.js';
import type { Ending } from '../../errors.js';
import { diffVolume, type DiffEntry } from '../../files/diff.js';
import { liveVolumeFolder, volumeItemOf } from '../../files/restore-paths.js';
import { locateBackup } from '../../restore/plan.js';
import { readManifest } from '../../store/manifest.js';
import { withBackupReader } from '../../store/readers.js';
import type { CliContext } from '../context.js';
import type { Action } from '../run.js';
import { withInterrupt } from '../signals.js';

interface DiffFlags {
  volume: string;
  deep?: boolean;
}

export function register(program: Command, action: Action): void {
  program
    .command('diff')
    .description('compare a volume in a backup with the live volume: added, removed and changed paths')
    .argument('<backup>', 'backup id (see list-backups) or path to a backup folder')
    .requiredOption('-V, --volume <name>', 'the volume to compare')
    .option('--deep', 'also compare the content (sha256) of files whose size and mtime match')
    .addHelpText(
      'after',
      '\nLines: "+ path" added since the backup, "- path" removed since, "~ path (what)" changed.\nExit code 0 whether or not there are differences.',
    )
    .action(action(diffCommand));
}

async function diffCommand(ctx: CliContext, ref: string, flags: DiffFlags): Promise<Ending> {
  const conn = await ctx.docker();
  const store = expandHome(ctx.config.backup.store);
  const backupDir = await locateBackup(ref, store, conn.hostName);
  const manifest = await readManifest(backupDir);
  const item = volumeItemOf(manifest, flags.volume);
  const live = await liveVolumeFolder(conn.docker, flags.volume, isLocalEngine(conn.target));
  const entries = await withInterrupt((signal) =>
    withBackupReader(
      store,
      backupDir,
      'restore',
      async () => {
        const out: DiffEntry[] = [];
        for await (const d of diffVolume({ backupDir, item, live, deep: flags.deep ?? false, signal })) {
          out.push(d);
          if (!ctx.opts.json) ctx.print(diffLine(d));
        }
        return out;
      },
      signal,
    ),
  );
  const count = (c: DiffEntry['change']) => entries.filter((d) => d.change === c).length;
  const totals = { added: count('added'), removed: count('removed'), changed: count('changed') };
  if (ctx.opts.json)
    ctx.printJson({ backup: manifest.id, volume: flags.volume, deep: flags.deep ?? false, ...totals, entries });
  else
    ctx.print(
      entries.length === 0
        ? `volume ${flags.volume} is the same as in backup ${manifest.id}${flags.deep ? '' : ' (sizes and times; --deep compares content)'}`
        : `${totals.added} added, ${totals.removed} removed, ${totals.changed} changed since backup ${manifest.id}`,
    );
  return { outcome: 'ok' };
}

export function diffLine(d: DiffEntry): string {
  const p = d.path || '(volume root)';
  return d.change === 'added'
    ? `+ ${p}`
    : d.change === 'removed'
      ? `- ${p}`
      : `~ ${p} (${(d.fields ?? []).join(', ')})`;
}
