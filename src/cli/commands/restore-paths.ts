// restore ID -V vol --path p [--path q] (--to DIR | --in-place [--overwrite]): file-level restore,
// thin over src/files/restore-paths.ts.
import type Docker from 'dockerode';
import { expandHome } from '../../config/locate.js';
import { BbackupError, type Ending } from '../../errors.js';
import { restorePaths } from '../../files/restore-paths.js';
import { formatBytes } from '../../format/units.js';
import type { Manifest } from '../../store/manifest.js';
import type { CliContext } from '../context.js';
import { withInterrupt } from '../signals.js';

interface PathFlags {
  volumes?: string[];
  containers?: string[];
  networks?: string[];
  all?: boolean;
  project?: string[];
  dryRun?: boolean;
  path?: string[];
  to?: string;
  inPlace?: boolean;
  overwrite?: boolean;
}

interface Where {
  backupDir: string;
  manifest: Manifest;
  store: string;
  local: boolean;
  docker: Docker;
}

export async function restorePathsCommand(ctx: CliContext, w: Where, flags: PathFlags): Promise<Ending> {
  if (!flags.path?.length) throw new BbackupError('USAGE', '--to, --in-place and --overwrite go with --path');
  if (
    flags.volumes?.length !== 1 ||
    flags.containers?.length ||
    flags.networks?.length ||
    flags.project?.length ||
    flags.all
  )
    throw new BbackupError(
      'USAGE',
      '--path restores files of exactly one volume: name it with -V VOLUME (and nothing else)',
    );
  if (flags.dryRun) throw new BbackupError('USAGE', '--dry-run is not supported with --path (see bbackup diff)');
  const result = await withInterrupt((signal) =>
    restorePaths(
      {
        backupDir: w.backupDir,
        manifest: w.manifest,
        volume: flags.volumes![0]!,
        paths: flags.path!,
        ...(flags.to ? { to: expandHome(flags.to) } : {}),
        inPlace: flags.inPlace ?? false,
        overwrite: flags.overwrite ?? false,
      },
      { docker: w.docker, localEngine: w.local, store: w.store, signal },
    ),
  );
  if (ctx.opts.json) ctx.printJson(result);
  else {
    for (const p of result.restored)
      ctx.print(
        `restored ${p.path}${p.keptAs ? ` (the current one kept as ${p.keptAs})` : p.replaced ? ' (replaced)' : ''}`,
      );
    ctx.print(
      `${result.entries} entries, ${formatBytes(result.bytes)} from volume ${result.volume} of backup ${result.backup} into ${result.target}`,
    );
  }
  return { outcome: 'ok' };
}
