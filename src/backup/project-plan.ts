// Compose projects as a unit: the containers labelled com.docker.compose.project=NAME, the volumes
// and networks Compose made for the project (same label), and the files the labels name
// (config_files, working_dir/.env, environment_file). Pure.
import { isAbsolute, join } from 'node:path';
import type { ContainerInfo } from '../docker/inventory.js';
import { BbackupError } from '../errors.js';
import type { PlannedProject } from './types.js';

import { PROJECT_LABEL } from '../docker/compose-order.js';

export { PROJECT_LABEL };
const CONFIG_FILES = 'com.docker.compose.project.config_files';
const WORKING_DIR = 'com.docker.compose.project.working_dir';
const ENV_FILE = 'com.docker.compose.project.environment_file';

export const projectOf = (labels: Record<string, string> | undefined): string | undefined =>
  labels?.[PROJECT_LABEL] || undefined;

/** The containers of each named project; a project with none on the engine is a usage error. */
export function projectContainers(projects: string[], containers: ContainerInfo[]): ContainerInfo[] {
  const missing = projects.filter((p) => !containers.some((c) => projectOf(c.labels) === p));
  if (missing.length > 0) {
    const known = [...new Set(containers.map((c) => projectOf(c.labels)).filter((p): p is string => !!p))].sort();
    throw new BbackupError(
      'NOT_FOUND',
      `no containers of Compose project${missing.length > 1 ? 's' : ''} ${missing.join(', ')} on this engine (label ${PROJECT_LABEL}); ${known.length ? `projects here: ${known.join(', ')}` : 'no Compose projects here'}`,
      { missing },
    );
  }
  return containers.filter((c) => projects.includes(projectOf(c.labels) ?? ''));
}

/** Project name -> the compose files and .env its containers' labels name (absolute paths only). */
export function planProjects(projects: string[], containers: ContainerInfo[]): PlannedProject[] {
  return projects.map((name) => {
    const files = new Set<string>();
    let workingDir: string | undefined;
    for (const c of containers.filter((x) => projectOf(x.labels) === name)) {
      const dir = c.labels[WORKING_DIR];
      if (dir && isAbsolute(dir)) workingDir ??= dir;
      for (const f of (c.labels[CONFIG_FILES] ?? '')
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean))
        files.add(isAbsolute(f) || !dir ? f : join(dir, f));
      for (const f of (c.labels[ENV_FILE] ?? '')
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean))
        files.add(isAbsolute(f) || !dir ? f : join(dir, f));
    }
    if (workingDir) files.add(join(workingDir, '.env'));
    return { name, workingDir, files: [...files].filter(isAbsolute) };
  });
}
