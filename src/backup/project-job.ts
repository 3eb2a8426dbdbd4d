// Project job: a Compose project's files (the compose files and .env its labels name) copied
// under projects/<name>/, so a restore can put them where `docker compose up` finds them again.
// A file that cannot be read is reported (the backup becomes partial); the others are kept.
import { copyFile, mkdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { BbackupError, describeError } from '../errors.js';
import { rel, safeSegment } from '../store/layout.js';
import type { ProjectItem } from '../store/manifest.js';
import { PRIVATE_DIR } from '../store/private.js';
import { chmod } from 'node:fs/promises';
import { fileEntry } from './hash.js';
import type { PlannedProject } from './types.js';

export interface SavedProject {
  item: ProjectItem;
  /** files named by the labels that could not be read */
  problems: string[];
}

export async function saveProject(p: PlannedProject, folder: string, signal: AbortSignal): Promise<SavedProject> {
  signal.throwIfAborted();
  const dir = rel.project(p.name);
  await mkdir(join(folder, dir), { recursive: true, mode: PRIVATE_DIR });
  const item: ProjectItem = {
    kind: 'project',
    name: p.name,
    ...(p.workingDir ? { workingDir: p.workingDir } : {}),
    sources: [],
    files: [],
  };
  const problems: string[] = [];
  const used = new Set<string>();
  const dotEnv = p.workingDir ? join(p.workingDir, '.env') : undefined;
  for (const original of p.files) {
    let name = safeSegment(basename(original));
    for (let n = 2; used.has(name); n++) name = safeSegment(`${n}-${basename(original)}`);
    const path = `${dir}/${name}`;
    try {
      await copyFile(original, join(folder, path));
      await chmod(join(folder, path), 0o600); // compose files and .env hold passwords
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (original === dotEnv && code === 'ENOENT') continue; // a project without .env is normal
      problems.push(
        `${original}: ${code === 'ENOENT' ? 'not found on this host' : code === 'EACCES' ? 'not readable' : describeError(err)}`,
      );
      continue;
    }
    used.add(name);
    item.sources.push({ path, original });
    item.files.push(await fileEntry(folder, path, signal));
  }
  if (item.files.length === 0 && problems.length > 0) {
    throw new BbackupError(
      'NOT_FOUND',
      `compose files of project ${p.name} could not be read: ${problems.join('; ')}; its containers, volumes and networks are backed up without them`,
      { project: p.name },
    );
  }
  return { item, problems };
}
