// restore ID|PATH: bring back containers, volumes and networks from a backup. Thin: build the
// request, plan, print the plan (--dry-run stops there), run the job, map the outcome to an exit code.
import type { Command } from 'commander';
import { isLocalEngine } from '../../docker/client.js';
import { expandHome } from '../../config/locate.js';
import { BbackupError, exitCodeFor } from '../../errors.js';
import { fanOut } from '../../events.js';
import { pullBackup } from '../../remote/pull.js';
import { locateBackup, planRestore } from '../../restore/plan.js';
import { describePlan } from '../../restore/describe-plan.js';
import { parseRenames } from '../../restore/renames.js';
import { assertRunnable, startRestore } from '../../restore/restore-job.js';
import type { RestoreRequest } from '../../restore/types.js';
import { readManifest } from '../../store/manifest.js';
import type { CliContext } from '../context.js';
import type { Action } from '../run.js';
import { textPrinter } from '../printers/text.js';
import { restorePrinter } from './restore-printer.js';

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
}

const list = (v: string, prev: string[] = []) => [...prev, ...v.split(',').map((s) => s.trim()).filter(Boolean)];

export function register(program: Command, action: Action): void {
  program
    .command('restore')
    .description('restore containers, volumes and networks from a backup (an id in the store, or a backup folder anywhere)')
    .argument('<backup>', 'backup id (see list-backups) or path to a backup folder')
    .option('-C, --containers <names...>', 'containers to restore (with the volumes and networks they use)', list)
    .option('-V, --volumes <names...>', 'volumes to restore', list)
    .option('-N, --networks <names...>', 'networks to restore', list)
    .option('--all', 'everything the backup holds')
    .option('-r, --rename <old:new...>', 'restore under another name (KIND:OLD:NEW for one kind only); applies everywhere the name is used', (v: string, prev: string[] = []) => [...prev, v])
    .option('--force', 'replace existing objects that were named (never the ones only used by a restored container)')
    .option('--no-start', 'leave containers that were running at backup time stopped')
    .option('--dry-run', 'print the plan and every conflict; change nothing')
    .option('--no-verify', 'restore even if files do not match the manifest (archives are still checked for unsafe entries)')
    .option('--no-dump', 'do not load database dumps: restore the volumes from their file copy only')
    .option('--dump-wait <seconds>', 'how long a restored database server may take to accept connections before its dump is loaded (default 300)')
    .option('--from-remote <name>', 'pull backup ID from this remote into the local store first (kept there), then restore')
    .addHelpText('after', '\nExamples:\n  bbackup restore 20261124T230501Z -C web\n  bbackup restore /mnt/usb/prod-1/20261124T230501Z --all -r pgdata:pgdata-copy --dry-run')
    .action(action(restoreCommand));
}

async function restoreCommand(ctx: CliContext, ref: string, flags: RestoreFlags): Promise<number> {
  const conn = await ctx.docker();
  const store = expandHome(ctx.config.backup.store);
  const backupDir = flags.fromRemote ? await pull(ctx, flags.fromRemote, ref, store) : await locateBackup(ref, store, conn.hostName);
  const manifest = await readManifest(backupDir);
  const request: RestoreRequest = {
    backupDir,
    containers: flags.containers ?? [],
    volumes: flags.volumes ?? [],
    networks: flags.networks ?? [],
    all: flags.all ?? false,
    renames: parseRenames(flags.rename ?? []),
    force: flags.force ?? false,
    start: flags.start,
    verify: flags.verify,
    dump: flags.dump,
    dumpWait: flags.dumpWait === undefined ? undefined : seconds(flags.dumpWait),
  };
  const plan = await planRestore(backupDir, manifest, request, conn.docker);
  const runnable = plan.conflicts.length === 0 && plan.missingImages.length === 0;
  if (flags.dryRun) {
    if (ctx.opts.json) ctx.printJson({ dryRun: true, runnable, plan: { ...plan, manifest: undefined } });
    else ctx.print(describePlan(plan, { dryRun: true }));
    return runnable ? 0 : exitCodeFor(plan.missingImages.length > 0 ? 'NOT_FOUND' : 'CONFLICT');
  }
  if (!runnable) assertRunnable(plan); // throws: refused with every conflict and missing image, nothing changed
  if (!ctx.opts.json && !ctx.opts.quiet) ctx.print(describePlan(plan, { dryRun: false }));
  // Items and live bars (on a terminal) through the shared text printer; warnings and the summary through ours.
  const quiet = ctx.opts.json || ctx.opts.quiet;
  const text = textPrinter({ out: ctx.io.stdout, live: !quiet && ctx.io.stdout.isTTY === true, quiet });
  const job = startRestore(request, {
    docker: conn.docker,
    emit: fanOut(ctx.logger.emit, text.emit, quiet ? () => undefined : restorePrinter(ctx.io.stdout)),
    localEngine: isLocalEngine(conn.target),
    volumeMode: conn.target.volumeMode ?? ctx.config.backup.volumes.mode,
    workerImage: ctx.config.backup.volumes.worker_image,
    plan,
  });
  // `on`, not `once`: execa's signal-exit re-raises a signal when its own handler is the last one
  // left, which killed the process before the job could clean up. A second Ctrl-C is harmless.
  const onSignal = () => job.cancel();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const result = await job.done.finally(() => text.close());
    if (ctx.opts.json) ctx.printJson({ backup: plan.backupId, outcome: result.outcome, restored: result.value?.restored ?? [], errors: result.errors });
    if (result.outcome === 'ok') return 0;
    if (result.outcome === 'cancelled') return exitCodeFor('CANCELLED');
    // a dump that did not load is partial (4) even when it was the only item
    return result.outcome === 'partial' || result.errors.every((e) => e.code === 'DUMP_FAILED') ? exitCodeFor('PARTIAL') : exitCodeFor('DOCKER_FAILED');
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** --from-remote: the backup is pulled (checked, decrypted) into the local store, or reused if already there. */
async function pull(ctx: CliContext, remote: string, id: string, store: string): Promise<string> {
  const abort = new AbortController();
  const onSignal = () => abort.abort(new BbackupError('CANCELLED', 'pull cancelled'));
  process.on('SIGINT', onSignal);
  try {
    const dir = await pullBackup(ctx.config, remote, id, { store, host: ctx.opts.host, emit: ctx.logger.emit, signal: abort.signal, ifExists: 'reuse' });
    if (!ctx.opts.json) ctx.print(`backup ${id} from remote ${remote} is in ${dir}`);
    return dir;
  } finally {
    process.off('SIGINT', onSignal);
  }
}

function seconds(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new BbackupError('USAGE', `--dump-wait must be a positive number of seconds, got "${v}"`);
  return n;
}
