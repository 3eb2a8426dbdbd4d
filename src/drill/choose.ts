// Which backup a drill restores when no id is given: the newest complete, unencrypted backup of the
// host that holds what was asked for (the named containers, every named Compose project, or a
// backup set's run), else the newest complete one holding any container.
import { BbackupError } from '../errors.js';
import { listBackups } from '../store/catalog.js';
import { projectContainersInBackup } from './project-scope.js';

export interface DrillScope {
  containers: string[];
  /** Compose projects: their containers as the backup recorded them (label com.docker.compose.project) */
  projects?: string[];
  backupSet?: string;
}

export interface ChosenBackup {
  id: string;
  dir: string;
  /** the containers to drill: the named ones plus those of the named projects; empty = everything */
  containers: string[];
}

export async function chooseDrillBackup(hostFolder: string, scope: DrillScope): Promise<ChosenBackup> {
  const projects = scope.projects ?? [];
  for (const { id, dir, manifest: m } of (await listBackups(hostFolder)).reverse()) {
    if (!m || m.status !== 'complete' || m.encrypted) continue;
    if (scope.backupSet !== undefined && m.scope.backupSet !== scope.backupSet) continue;
    const held = new Set(m.items.filter((i) => i.kind === 'container').map((i) => i.name));
    if (
      scope.containers.length > 0
        ? !scope.containers.every((c) => held.has(c))
        : held.size === 0 && !m.items.some((i) => i.kind === 'volume')
    )
      continue;
    if (projects.length === 0) return { id, dir, containers: scope.containers };
    const inProjects = await projectContainersInBackup(dir, m, projects);
    if (projects.every((p) => inProjects.has(p)))
      return { id, dir, containers: unique([...scope.containers, ...[...inProjects.values()].flat()]) };
  }
  const what = [
    scope.backupSet !== undefined ? `of backup set ${scope.backupSet}` : '',
    scope.containers.length > 0 ? `holding ${scope.containers.join(', ')}` : '',
    projects.length > 0
      ? `holding containers of Compose project${projects.length > 1 ? 's' : ''} ${projects.join(', ')}`
      : '',
  ].filter(Boolean);
  throw new BbackupError(
    'NOT_FOUND',
    `no complete backup ${what.join(' ') || 'holding containers or volumes'} in ${hostFolder} to drill (list them with: bbackup list-backups)`,
    { hostFolder },
  );
}

const unique = (xs: string[]): string[] => [...new Set(xs)];
