// Rows of the backups screen: a backup, the items inside one, the files of a volume, and the
// words of the restore confirmation.
import type { DiffEntry } from '../../src/files/diff.js';
import type { ListedEntry } from '../../src/files/listing.js';
import type { ManifestItem } from '../../src/store/manifest.js';
import type { RestorePreview } from '../engine/types.js';
import type { BackupRow, RemoteRow } from '../state/types.js';
import { esc, type Theme } from '../theme.js';
import { clip, fit, formatBytes, idTime } from './format.js';

export function backupRowText(b: BackupRow, width: number, t: Theme): string {
  const status = b.status === 'complete' ? t.paint('green', fit(b.status, 9)) : t.paint('yellow', fit(b.status, 9));
  const items = `${b.items} items (${b.containers}c ${b.volumes}v ${b.networks}n)`;
  return `${fit(b.id, 18)} ${fit(idTime(b.id).slice(0, 19), 19)} ${formatBytes(b.size).padStart(9)}  ${status} ${esc(clip(items, Math.max(0, width - 60)))}`;
}

export const BACKUP_HEADER = `${fit('ID', 18)} ${fit('TIME (UTC)', 19)} ${'SIZE'.padStart(9)}  ${fit('STATUS', 9)} ITEMS`;

export interface ContentRow {
  key: string;
  kind: 'item' | 'file' | 'note';
  item?: ManifestItem;
  text: string;
  /** file browser: the saved entry; diff list: the difference */
  entry?: ListedEntry;
  diff?: DiffEntry;
}

export function itemRowText(i: ManifestItem, width: number): string {
  switch (i.kind) {
    case 'container':
      return clip(`container ${i.name}  image ${i.image}  was ${i.state}  ${i.files.length} files`, width);
    case 'volume':
      return clip(
        `volume    ${i.name}  ${formatBytes(i.bytes)}  ${i.fileCount} files  ${i.format}${i.parent ? ` (parent ${i.parent})` : ''}${i.usedBy.length ? `  used by ${i.usedBy.join(',')}` : ''}`,
        width,
      );
    case 'network':
      return clip(`network   ${i.name}  ${i.driver}`, width);
    case 'image':
      return clip(
        `image     ${i.tags[0] ?? i.name.slice(0, 19)}  ${formatBytes(i.bytes)}${i.linkedFrom ? ` (linked to ${i.linkedFrom})` : ''}${i.usedBy.length ? `  used by ${i.usedBy.join(',')}` : ''}`,
        width,
      );
    case 'project':
      return clip(`project   ${i.name}  ${i.files.length} files${i.workingDir ? ` from ${i.workingDir}` : ''}`, width);
    case 'dump':
      return clip(
        `dump      ${i.name}  ${i.engine} by ${i.tool}  ${formatBytes(i.bytes)}${i.only ? '  (data volume not copied)' : ''}`,
        width,
      );
    case 'metadata':
      return clip(`metadata  ${i.files.map((f) => f.path).join(', ')}`, width);
  }
}

export function remoteRowText(r: RemoteRow, width: number): string {
  return clip(
    `${fit(r.id, 18)} ${fit(r.created ? r.created.slice(0, 19) : idTime(r.id).slice(0, 19), 19)} ${formatBytes(r.size).padStart(9)}  ${r.encrypted ? 'encrypted' : '         '} ${r.host ?? ''}`,
    width,
  );
}

/** The confirmation of a restore: exactly what will be created and what replaced, and every privilege. */
export function restoreConfirmLines(p: RestorePreview, force: boolean, t: Theme): string[] {
  const list = (title: string, xs: string[]) => (xs.length ? [title, ...xs.map((x) => `  ${esc(x)}`)] : []);
  return [
    ...list('Will be created:', p.create),
    ...list(force ? 'Will be REPLACED (removed, then restored):' : 'Will be replaced:', p.replace),
    ...list('Used as they are (exist already):', p.reuse),
    ...list('Conflicts (exist already; tick force to replace):', p.conflicts),
    ...list('Problems:', p.problems),
    ...(p.create.length + p.replace.length === 0 ? ['Nothing to restore.'] : []),
    ...privilegeList(p.privileges, t),
  ];
}

/** The privileges a restore grants, highlighted: text from the backup, so escaped. */
export function privilegeList(privileges: string[], t: Theme): string[] {
  if (privileges.length === 0) return [];
  return [
    t.bold(t.paint('red', `PRIVILEGES on this host (${privileges.length}):`)),
    ...privileges.map((x) => t.bold(t.paint('red', `  ! ${esc(x)}`))),
  ];
}

/** The extra step before a restore that needs privileges: the list again, and what accepting means. */
export function privilegeConfirmLines(privileges: string[], t: Theme): string[] {
  return [
    ...privilegeList(privileges, t),
    '',
    'A backup folder can be edited by whoever could write to it. Allow these only if you',
    'expect them (e.g. a monitoring agent that mounts the Docker socket).',
  ];
}
