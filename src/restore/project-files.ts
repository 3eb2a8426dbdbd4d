// --compose-dir DIR: a Compose project's files from the backup written to DIR/<project>/, so
// `docker compose up` there finds the compose files and .env again (Compose names the project
// after the folder, and finds the restored volumes and networks by their labels). Existing files
// are never overwritten without --force.
import { copyFile, mkdir } from 'node:fs/promises';
import { constants } from 'node:fs';
import { join } from 'node:path';
import { BbackupError } from '../errors.js';
import { fromSafeSegment, isSafeSegment, rel } from '../store/layout.js';
import type { Manifest, ProjectItem } from '../store/manifest.js';
import { sourcePath } from './volume.js';

export interface PlanProjectFiles {
  project: string;
  /** DIR/<project> */
  dir: string;
  files: { from: string; to: string }[];
}

/** Which files go where; throws on a stored name that is not one plain file name. */
export function planProjectFiles(
  manifest: Manifest,
  composeDir: string,
  projects?: string[],
  /** --project-rename: a renamed project's files go to DIR/<new name>/ */
  renames: Readonly<Record<string, string>> = {},
): PlanProjectFiles[] {
  const items = manifest.items.filter(
    (i): i is ProjectItem => i.kind === 'project' && (!projects || projects.includes(i.name)),
  );
  return items.map((p) => {
    const folder = rel.project(p.name);
    const to = renames[p.name];
    const dir = join(composeDir, to ?? fromSafeSegment(folder.slice('projects/'.length)));
    const files = p.files.map((f) => {
      const seg = f.path.slice(folder.length + 1);
      if (!f.path.startsWith(`${folder}/`) || !isSafeSegment(seg))
        throw new BbackupError('INTEGRITY', `project ${p.name}: ${f.path} is not where the layout keeps project files`);
      const name = fromSafeSegment(seg);
      if (name.includes('/') || name === '.' || name === '..')
        throw new BbackupError('INTEGRITY', `project ${p.name}: ${f.path} is not one plain file name`);
      return { from: f.path, to: join(dir, name) };
    });
    return { project: to ?? p.name, dir, files };
  });
}

export async function writeProjectFiles(backupDir: string, plan: PlanProjectFiles, force: boolean): Promise<void> {
  await mkdir(plan.dir, { recursive: true, mode: 0o700 });
  for (const f of plan.files) {
    await copyFile(sourcePath(backupDir, f.from), f.to, force ? 0 : constants.COPYFILE_EXCL).catch(
      (err: NodeJS.ErrnoException) => {
        if (err.code === 'EEXIST')
          throw new BbackupError('CONFLICT', `${f.to} exists already: left as it is (--force overwrites it)`, {
            path: f.to,
          });
        throw err;
      },
    );
  }
}
