// Which backup a drill restores when no id is given: the newest complete, unencrypted backup of the
// host that holds what was asked for (the named containers, or a backup set's run), else the newest
// complete one holding any container.
import { BbackupError } from '../errors.js';
import { listBackups } from '../store/catalog.js';

export interface DrillScope {
  containers: string[];
  backupSet?: string;
}

export async function chooseDrillBackup(hostFolder: string, scope: DrillScope): Promise<{ id: string; dir: string }> {
  const backups = (await listBackups(hostFolder)).reverse();
  const fits = backups.find(({ manifest: m }) => {
    if (!m || m.status !== 'complete' || m.encrypted) return false;
    if (scope.backupSet !== undefined && m.scope.backupSet !== scope.backupSet) return false;
    const held = new Set(m.items.filter((i) => i.kind === 'container').map((i) => i.name));
    return scope.containers.length > 0
      ? scope.containers.every((c) => held.has(c))
      : held.size > 0 || m.items.some((i) => i.kind === 'volume');
  });
  if (!fits) {
    const what =
      scope.backupSet !== undefined
        ? `of backup set ${scope.backupSet}`
        : scope.containers.length > 0
          ? `holding ${scope.containers.join(', ')}`
          : 'holding containers or volumes';
    throw new BbackupError(
      'NOT_FOUND',
      `no complete backup ${what} in ${hostFolder} to drill (list them with: bbackup list-backups)`,
      { hostFolder },
    );
  }
  return { id: fits.id, dir: fits.dir };
}
