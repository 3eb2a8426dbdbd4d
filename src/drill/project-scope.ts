// `drill -P NAME`: the containers of a Compose project as the backup recorded them, from the label
// com.docker.compose.project in each container's stored inspect.json (not from the live engine:
// the project may be gone, which is when a drill matters most). The stored file is read as
// untrusted input: anything unreadable or oddly shaped belongs to no project.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PROJECT_LABEL } from '../backup/project-plan.js';
import { BbackupError } from '../errors.js';
import { rel } from '../store/layout.js';
import type { Manifest } from '../store/manifest.js';

/** Project name -> its containers in the backup (only projects asked for and present). */
export async function projectContainersInBackup(
  backupDir: string,
  manifest: Manifest,
  projects: readonly string[],
): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const item of manifest.items) {
    if (item.kind !== 'container') continue;
    const project = await storedProject(backupDir, item.name);
    if (project === undefined || !projects.includes(project)) continue;
    out.set(project, [...(out.get(project) ?? []), item.name]);
  }
  return out;
}

/** The containers of the named projects in one backup; a project with none there is NOT_FOUND. */
export async function requireProjectContainers(
  backupDir: string,
  manifest: Manifest,
  projects: readonly string[],
): Promise<string[]> {
  const found = await projectContainersInBackup(backupDir, manifest, projects);
  const missing = projects.filter((p) => !found.has(p));
  if (missing.length > 0)
    throw new BbackupError(
      'NOT_FOUND',
      `backup ${manifest.id} holds no containers of Compose project ${missing.join(', ')} (label ${PROJECT_LABEL})`,
      { backup: manifest.id, missing },
    );
  return [...found.values()].flat();
}

async function storedProject(backupDir: string, container: string): Promise<string | undefined> {
  try {
    const raw: unknown = JSON.parse(await readFile(join(backupDir, rel.containerInspect(container)), 'utf8'));
    const inspect: unknown = Array.isArray(raw) ? raw[0] : raw;
    const labels = (inspect as { Config?: { Labels?: unknown } } | null)?.Config?.Labels;
    const value = labels && typeof labels === 'object' ? (labels as Record<string, unknown>)[PROJECT_LABEL] : undefined;
    return typeof value === 'string' && value !== '' ? value : undefined;
  } catch {
    return undefined;
  }
}
