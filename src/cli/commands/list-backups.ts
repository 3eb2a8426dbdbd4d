// bbackup list-backups: the local store's backups per host, newest last, with size on disk
// (hard links counted once: SIZE is the backup alone, ADDED what it adds beyond older ones).
import type { Command } from 'commander';
import type { Outcome } from '../../events.js';
import { diskUsage, listBackups, listHostFolders, type CatalogEntry } from '../../store/catalog.js';
import { fromSafeSegment, hostDir } from '../../store/layout.js';
import { join } from 'node:path';
import type { CliContext } from '../context.js';
import { formatBytes } from '../../format/units.js';
import { formatTable } from '../output.js';
import type { Action } from '../run.js';

export interface BackupRow {
  id: string;
  host: string;
  created?: string;
  finished?: string;
  items: number;
  containers: number;
  volumes: number;
  networks: number;
  size: number;
  added: number;
  status: 'complete' | 'partial' | 'damaged';
  parent?: string;
  dir: string;
  problem?: string;
}

export function register(program: Command, action: Action): void {
  program
    .command('list-backups')
    .description('backups in the local store (per host; --host for one), with size on disk and status')
    .action(action(listBackupsCommand));
}

export async function backupRows(store: string, hostName?: string): Promise<BackupRow[]> {
  const folders = hostName ? [hostDir(store, hostName)] : (await listHostFolders(store)).map((f) => join(store, f));
  const rows: BackupRow[] = [];
  for (const folder of folders) {
    const seen = new Set<string>();
    for (const entry of await listBackups(folder))
      rows.push(await rowFor(entry, fromSafeSegment(folder.split('/').pop()!), seen));
  }
  return rows;
}

async function rowFor(e: CatalogEntry, host: string, seen: Set<string>): Promise<BackupRow> {
  const { size, added } = await diskUsage(e.dir, seen);
  const m = e.manifest;
  const count = (k: string) => m?.items.filter((i) => i.kind === k).length ?? 0;
  return {
    id: e.id,
    host: m?.host ?? host,
    created: m?.created,
    finished: m?.finished,
    items: m ? m.items.filter((i) => i.kind !== 'metadata').length : 0,
    containers: count('container'),
    volumes: count('volume'),
    networks: count('network'),
    size,
    added,
    status: m ? m.status : 'damaged',
    parent: m?.parent,
    dir: e.dir,
    ...(e.damaged ? { problem: e.damaged } : {}),
  };
}

async function listBackupsCommand(ctx: CliContext): Promise<Outcome> {
  const rows = await backupRows(ctx.config.backup.store, ctx.opts.host);
  if (ctx.opts.json) {
    ctx.printJson({ store: ctx.config.backup.store, backups: rows });
    return 'ok';
  }
  if (rows.length === 0) {
    ctx.print(`no backups in ${ctx.config.backup.store}${ctx.opts.host ? ` for host ${ctx.opts.host}` : ''}`);
    return 'ok';
  }
  ctx.print(
    formatTable(rows, [
      { header: 'ID', value: (r) => r.id },
      { header: 'HOST', value: (r) => r.host },
      { header: 'TIME', value: (r) => (r.created ? r.created.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '-') },
      { header: 'ITEMS', value: (r) => `${r.containers}c ${r.volumes}v ${r.networks}n`, align: 'right' },
      { header: 'SIZE', value: (r) => formatBytes(r.size), align: 'right' },
      { header: 'ADDED', value: (r) => formatBytes(r.added), align: 'right' },
      { header: 'STATUS', value: (r) => r.status + (r.problem ? ` (${r.problem})` : '') },
    ]),
  );
  return 'ok';
}
