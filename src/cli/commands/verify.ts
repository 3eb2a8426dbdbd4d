// bbackup verify [ID|PATH] [--all]: re-read every stored byte and compare with the manifest.
// Without arguments the newest backup of each host is checked. Exit 4 when anything is wrong.
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { expandHome } from '../../config/locate.js';
import { BbackupError } from '../../errors.js';
import type { Outcome } from '../../events.js';
import { startVerify, type VerifyEntry } from '../../jobs/verify-job.js';
import { listBackups, listHostFolders } from '../../store/catalog.js';
import { BACKUP_ID_RE, hostDir, MANIFEST } from '../../store/layout.js';
import type { CliContext } from '../context.js';
import { formatBytes } from '../../format/units.js';
import type { Action } from '../run.js';
import { withInterrupt } from '../signals.js';

export function register(program: Command, action: Action): void {
  program
    .command('verify [id]')
    .description(
      're-read a backup (id or folder; default: the newest of each host) and check every byte against its manifest',
    )
    .option('--all', 'every backup in the store (or of --host)')
    .action(action(verifyCommand));
}

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

async function backupFolders(ctx: CliContext, id: string | undefined, all: boolean): Promise<string[]> {
  const store = ctx.config.backup.store;
  const hostFolders = ctx.opts.host
    ? [hostDir(store, ctx.opts.host)]
    : (await listHostFolders(store)).map((f) => join(store, f));
  if (id !== undefined && !BACKUP_ID_RE.test(id)) {
    if (await exists(join(id, MANIFEST))) return [id];
    throw new BbackupError('NOT_FOUND', `${id} is neither a backup id nor a backup folder (no ${MANIFEST} in it)`);
  }
  const found: string[] = [];
  for (const folder of hostFolders) {
    const entries = await listBackups(folder);
    if (id !== undefined) found.push(...entries.filter((e) => e.id === id).map((e) => e.dir));
    else if (all) found.push(...entries.map((e) => e.dir));
    else if (entries.length > 0) found.push(entries.at(-1)!.dir);
  }
  if (found.length === 0)
    throw new BbackupError('NOT_FOUND', id ? `no backup ${id} in ${store}` : `no backups in ${store}`);
  return found;
}

async function verifyCommand(ctx: CliContext, id: string | undefined, opts: { all?: boolean }): Promise<Outcome> {
  const dirs = await backupFolders(ctx, id, opts.all === true);
  const print = (r: VerifyEntry) => {
    if ('error' in r) return ctx.print(`FAILED ${r.dir}: ${r.error}`);
    ctx.print(
      `${r.problems.length === 0 ? 'ok    ' : 'FAILED'} ${r.id}  ${r.files} files, ${formatBytes(r.bytes)} read${r.problems.length ? `, ${r.problems.length} problem(s)` : ''}`,
    );
    for (const p of r.problems) ctx.print(`  ${p.problem.padEnd(8)} ${p.path}: ${p.detail}`);
  };
  const result = await withInterrupt(
    (signal) =>
      startVerify(expandHome(ctx.config.backup.store), dirs, { emit: ctx.logger.emit, signal, onReport: print }).done,
  );
  if (result.outcome === 'cancelled') throw new BbackupError('CANCELLED', 'verify cancelled');
  const { reports, bad } = result.value!;
  if (ctx.opts.json) ctx.printJson({ ok: bad === 0, verified: reports });
  // A backup that does not check out is a partial result whatever the reason (exit 4).
  return bad > 0 ? 'partial' : 'ok';
}
