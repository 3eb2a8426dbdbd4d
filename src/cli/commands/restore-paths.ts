// restore ID -V vol --path p [--path q] (--to DIR | --in-place [--overwrite]): file-level restore,
// thin over src/files/restore-paths.ts.
import type Docker from 'dockerode';
import { expandHome } from '../../config/locate.js';
import { BbackupError, type Ending } from '../../errors.js';
import { restorePaths } from '../../files/restore-paths.js';
import { normalizeSelection } from '../../files/selection.js';
import { withPartialPull } from '../../remote/pull.js';
import { readManifest } from '../../store/manifest.js';
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
  /** the store holding backupDir (a reader mark keeps rotation off it); none for a partial pull's folder */
  store?: string;
  local: boolean;
  docker: Docker;
}

export async function restorePathsCommand(ctx: CliContext, w: Where, flags: PathFlags): Promise<Ending> {
  checkPathFlags(flags);
  return restoreChosen(ctx, w, flags);
}

/**
 * --from-remote with --path, the backup not in the store: fetch only what the paths need (format-2
 * remotes) into a work folder, restore from it, remove it. undefined: the remote is format 1 (the
 * caller pulls the whole backup).
 */
export async function restorePathsFromRemote(
  ctx: CliContext,
  w: { remote: string; id: string; store: string; local: boolean; docker: Docker },
  flags: PathFlags,
): Promise<Ending | undefined> {
  checkPathFlags(flags);
  const paths = normalizeSelection(flags.path!); // bad paths refused before anything is fetched
  return withInterrupt((signal) =>
    withPartialPull(
      ctx.config,
      w.remote,
      w.id,
      { store: w.store, host: ctx.opts.host, emit: ctx.logger.emit, signal, volume: flags.volumes![0]!, paths },
      async (backupDir, fetched) => {
        if (!ctx.opts.json)
          ctx.print(`fetched ${formatBytes(fetched)} of backup ${w.id} from remote ${w.remote} (only these paths)`);
        return restoreChosen(
          ctx,
          { backupDir, manifest: await readManifest(backupDir), local: w.local, docker: w.docker },
          flags,
          { remote: w.remote, fetchedBytes: fetched },
        );
      },
    ),
  );
}

function checkPathFlags(flags: PathFlags): void {
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
}

async function restoreChosen(
  ctx: CliContext,
  w: Where,
  flags: PathFlags,
  fetched?: { remote: string; fetchedBytes: number },
): Promise<Ending> {
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
      { docker: w.docker, localEngine: w.local, ...(w.store ? { store: w.store } : {}), signal },
    ),
  );
  if (ctx.opts.json) ctx.printJson({ ...result, ...fetched });
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
