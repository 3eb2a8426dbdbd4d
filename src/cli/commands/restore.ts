// restore ID|PATH: bring back containers, volumes and networks from a backup. Thin: build the
// request, plan, print the plan (--dry-run stops there), run the job, return its result.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { isLocalEngine } from '../../docker/client.js';
import { expandHome } from '../../config/locate.js';
import { BbackupError, failedWith, type Ending } from '../../errors.js';
import { fanOut } from '../../events.js';
import { pulled, startPull } from '../../jobs/pull-job.js';
import { locateBackup, planRestore } from '../../restore/plan.js';
import { describePlan } from '../../restore/describe-plan.js';
import { parseRenames } from '../../restore/renames.js';
import { parseProjectRenames } from '../../restore/project-rename.js';
import { assertRunnable, startRestore } from '../../restore/restore-job.js';
import { privilegeLines, privilegesAccepted, type RestoreRequest } from '../../restore/types.js';
import { readManifest } from '../../store/manifest.js';
import type { CliContext } from '../context.js';
import type { Action } from '../run.js';
import { textPrinter } from '../printers/text.js';
import { withInterrupt } from '../signals.js';
import { restorePrinter } from './restore-printer.js';
import { restorePathsCommand, restorePathsFromRemote } from './restore-paths.js';
import { commaList } from '../option-lists.js';

interface RestoreFlags {
  containers?: string[];
  volumes?: string[];
  networks?: string[];
  all?: boolean;
  rename?: string[];
  force?: boolean;
  start: boolean;
  dryRun?: boolean;
  verify: boolean;
  fromRemote?: string;
  dump: boolean;
  dumpWait?: string;
  allowPrivileged?: boolean;
  composeDir?: string;
  path?: string[];
  to?: string;
  inPlace?: boolean;
  overwrite?: boolean;
  project?: string[];
  projectRename?: string[];
}

export function register(program: Command, action: Action): void {
  program
    .command('restore')
    .description(
      'restore containers, volumes and networks from a backup (an id in the store, or a backup folder anywhere)',
    )
    .argument('<backup>', 'backup id (see list-backups) or path to a backup folder')
    .option('-C, --containers <names...>', 'containers to restore (with the volumes and networks they use)', commaList)
    .option('-V, --volumes <names...>', 'volumes to restore', commaList)
    .option('-N, --networks <names...>', 'networks to restore', commaList)
    .option('--all', 'everything the backup holds')
    .option(
      '-P, --project <names...>',
      'Compose projects: their containers, volumes and networks (saved label com.docker.compose.project)',
      commaList,
    )
    .option(
      '--project-rename <old:new...>',
      'restore Compose project OLD as NEW: all its containers, volumes and networks get new names and the labels follow, so it runs beside the original',
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option(
      '-r, --rename <old:new...>',
      'restore under another name (KIND:OLD:NEW for one kind only); applies everywhere the name is used',
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option('--force', 'replace existing objects that were named (never the ones only used by a restored container)')
    .option('--no-start', 'leave containers that were running at backup time stopped')
    .option('--dry-run', 'print the plan and every conflict; change nothing')
    .option(
      '--no-verify',
      'restore even if files do not match the manifest (archives are still checked for unsafe entries)',
    )
    .option(
      '--compose-dir <dir>',
      "write the Compose projects' files (compose files, .env) to DIR/<project>/ so `docker compose up` works there",
    )
    .option('--no-dump', 'do not load database dumps: restore the volumes from their file copy only')
    .option(
      '--dump-wait <seconds>',
      'how long a restored database server may take to accept connections before its dump is loaded (default 300)',
    )
    .option(
      '--from-remote <name>',
      'pull backup ID from this remote into the local store first (kept there), then restore',
    )
    .option(
      '--allow-privileged',
      'restore containers, volumes and networks that need privileges on this host (privileged mode, capabilities, devices, host paths, host namespaces, security options off); --dry-run lists them',
    )
    .option(
      '--path <path...>',
      'restore only these files or folders of the one volume named with -V (relative to its root); needs --to or --in-place',
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option('--to <dir>', 'with --path: write the paths under this host folder')
    .option(
      '--in-place',
      'with --path: write the paths into the live volume (what they replace is kept as NAME.bbackup-TIME)',
    )
    .option('--overwrite', 'with --path: remove what a restored path replaces instead of keeping it')
    .addHelpText(
      'after',
      '\nA backup id is looked up in the store only; give a folder as a path (./NAME, /mnt/usb/...).\n\nExamples:\n  bbackup restore 20261124T230501Z -C web\n  bbackup restore 20261124T230501Z -P shop --project-rename shop:shop-copy\n  bbackup restore /mnt/usb/prod-1/20261124T230501Z --all -r pgdata:pgdata-copy --dry-run\n  bbackup restore 20261124T230501Z -V pgdata --path conf/pg_hba.conf --in-place',
    )
    .action(action(restoreCommand));
}

async function restoreCommand(ctx: CliContext, ref: string, flags: RestoreFlags): Promise<Ending> {
  const conn = await ctx.docker();
  const store = expandHome(ctx.config.backup.store);
  const wantsPaths = Boolean(flags.path || flags.to || flags.inPlace || flags.overwrite);
  if (flags.fromRemote && wantsPaths && !(await locateBackup(ref, store, conn.hostName).catch(() => undefined))) {
    const done = await restorePathsFromRemote(
      ctx,
      { remote: flags.fromRemote, id: ref, store, local: isLocalEngine(conn.target), docker: conn.docker },
      flags,
    );
    if (done) return done;
  }
  const backupDir = flags.fromRemote
    ? await pull(ctx, flags.fromRemote, ref, store)
    : await locateBackup(ref, store, conn.hostName);
  const manifest = await readManifest(backupDir);
  if (flags.path || flags.to || flags.inPlace || flags.overwrite)
    return restorePathsCommand(
      ctx,
      { backupDir, manifest, store, local: isLocalEngine(conn.target), docker: conn.docker },
      flags,
    );
  const request: RestoreRequest = {
    backupDir,
    containers: flags.containers ?? [],
    volumes: flags.volumes ?? [],
    networks: flags.networks ?? [],
    all: flags.all ?? false,
    renames: parseRenames(flags.rename ?? []),
    ...(flags.project ? { projects: flags.project } : {}),
    ...(flags.projectRename ? { projectRenames: parseProjectRenames(flags.projectRename) } : {}),
    force: flags.force ?? false,
    start: flags.start,
    verify: flags.verify,
    dump: flags.dump,
    dumpWait: flags.dumpWait === undefined ? undefined : seconds(flags.dumpWait),
    allowPrivileged: flags.allowPrivileged ?? false,
    ...(flags.composeDir ? { composeDir: resolve(expandHome(flags.composeDir)) } : {}),
  };
  ctx.logger.debug(`restore: planning from ${backupDir}`); // the bench's start-up/plan boundary
  const plan = await planRestore(backupDir, manifest, request, conn.docker);
  const privileges = privilegeLines(plan);
  const privilegesAllowed = privilegesAccepted(plan, request.allowPrivileged);
  const runnable = plan.conflicts.length === 0 && plan.missingImages.length === 0 && privilegesAllowed;
  if (flags.dryRun) {
    if (ctx.opts.json)
      ctx.printJson({ dryRun: true, runnable, privileges, privilegesAllowed, plan: { ...plan, manifest: undefined } });
    else ctx.print(describePlan(plan, { dryRun: true, allowPrivileged: request.allowPrivileged }));
    return runnable
      ? { outcome: 'ok' }
      : failedWith(!privilegesAllowed ? 'USAGE' : plan.missingImages.length > 0 ? 'NOT_FOUND' : 'CONFLICT');
  }
  // throws when refused: every privilege not allowed, conflict or missing image listed, nothing changed
  if (!runnable) assertRunnable(plan, request.allowPrivileged);
  if (!ctx.opts.json && !ctx.opts.quiet)
    ctx.print(describePlan(plan, { dryRun: false, allowPrivileged: request.allowPrivileged }));
  // Items and live bars (on a terminal) through the shared text printer; warnings and the summary through ours.
  const quiet = ctx.opts.json || ctx.opts.quiet;
  const text = textPrinter({ out: ctx.io.stdout, live: !quiet && ctx.io.stdout.isTTY === true, quiet });
  const result = await withInterrupt((signal) => {
    const job = startRestore(
      request,
      {
        docker: conn.docker,
        emit: fanOut(ctx.logger.emit, text.emit, quiet ? () => undefined : restorePrinter(ctx.io.stdout)),
        localEngine: isLocalEngine(conn.target),
        volumeMode: conn.target.volumeMode ?? ctx.config.backup.volumes.mode,
        workerImage: ctx.config.backup.volumes.worker_image,
        plan,
        store,
      },
      { signal },
    );
    return job.done.finally(() => text.close());
  });
  if (ctx.opts.json)
    ctx.printJson({
      backup: plan.backupId,
      outcome: result.outcome,
      restored: result.value?.restored ?? [],
      errors: result.errors,
    });
  return result;
}

/** --from-remote: the backup is pulled (checked, decrypted) into the local store, or reused if already there. */
export async function pull(ctx: CliContext, remote: string, id: string, store: string): Promise<string> {
  const { dir } = await withInterrupt(
    (signal) =>
      startPull(
        ctx.config,
        remote,
        id,
        { store, host: ctx.opts.host, emit: ctx.logger.emit, ifExists: 'reuse' },
        { signal },
      ).done,
  ).then(pulled);
  if (!ctx.opts.json) ctx.print(`backup ${id} from remote ${remote} is in ${dir}`);
  return dir;
}

function seconds(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0)
    throw new BbackupError('USAGE', `--dump-wait must be a positive number of seconds, got "${v}"`);
  return n;
}
