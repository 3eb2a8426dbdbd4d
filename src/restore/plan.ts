// planRestore: reads what the plan needs (saved definitions, the engine's objects, images) and hands
// it to the pure buildPlan. Nothing on the engine is changed here.
import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type Docker from 'dockerode';
import { BbackupError } from '../errors.js';
import { backupDir as storeBackupDir, BACKUP_ID_RE, rel } from '../store/layout.js';
import { readManifest, type Manifest } from '../store/manifest.js';
import { listContainers, listNetworks, listVolumes } from '../docker/inventory.js';
import { buildPlan, type EngineSnapshot, type ImageState } from './plan-build.js';
import { checkRenames } from './renames.js';
import { expandProjectRenames, projectMembers } from './project-rename.js';
import { PROJECT_LABEL } from '../docker/compose-order.js';
import { attachDumps } from '../dump/restore-plan.js';
import type { ContainerInspect, NetworkInspect } from './inspect-types.js';
import type { RestorePlan, RestoreRequest } from './types.js';

/**
 * ID|PATH -> a backup folder. A bare backup id (20261124T230501Z) is looked up in <store>/<host>/
 * only, never in the current directory: a folder there named like an id must not stand in for
 * the store's backup. A path must look like one (contains a slash, or starts with a dot).
 */
export async function locateBackup(ref: string, store: string, host: string): Promise<string> {
  const isId = BACKUP_ID_RE.test(ref);
  const isPath = !isId && (ref.includes('/') || ref.startsWith('.'));
  if (!isId && !isPath) {
    throw new BbackupError(
      'USAGE',
      `"${ref}" is neither a backup id (like 20261124T230501Z; see bbackup list-backups) nor a path; give a folder as a path: ./${ref} or an absolute path`,
      { ref },
    );
  }
  const dir = isId ? storeBackupDir(store, host, ref) : resolve(ref);
  const st = await stat(join(dir, 'manifest.json')).catch(() => undefined);
  if (st?.isFile()) return dir;
  if (isId)
    throw new BbackupError(
      'NOT_FOUND',
      `no backup ${ref} for host ${host} in ${store} (list them with: bbackup list-backups; a folder in the current directory is given as ./${ref})`,
      { ref, store, host },
    );
  throw new BbackupError('NOT_FOUND', `${ref} is not a backup folder (no manifest.json there)`, { ref });
}

export async function readJson<T>(backupDir: string, relPath: string, what: string): Promise<T> {
  const path = join(backupDir, ...relPath.split('/'));
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    throw new BbackupError(
      'INTEGRITY',
      `${what}: ${path} is ${missing ? 'missing' : 'not valid JSON'}`,
      { path },
      { cause: err },
    );
  }
}

/** `docker inspect` saves an array of one; the backup may store either form. */
export function unwrap<T>(doc: T | T[]): T {
  return Array.isArray(doc) ? doc[0]! : doc;
}

export async function planRestore(
  backupDir: string,
  manifest: Manifest,
  request: RestoreRequest,
  docker: Docker,
): Promise<RestorePlan> {
  if (manifest.encrypted) {
    throw new BbackupError(
      'USAGE',
      `backup ${manifest.id} in ${backupDir} is stored encrypted; restore reads plain backups: pull it with \`bbackup pull\` (which decrypts) or decrypt its files with \`age -d\` first`,
    );
  }
  const inspects = new Map<string, ContainerInspect>();
  const images = new Map<string, ImageState>();
  const projects = request.projects ?? [];
  const projectRenames = request.projectRenames ?? {};
  const byProject = projects.length > 0 || Object.keys(projectRenames).length > 0;
  const readInspect = async (name: string) =>
    unwrap(
      await readJson<ContainerInspect | ContainerInspect[]>(backupDir, rel.containerInspect(name), `container ${name}`),
    );
  // Compose projects are known from the saved labels: every container's definition is read.
  const all = new Map<string, ContainerInspect>();
  if (byProject)
    for (const item of manifest.items) if (item.kind === 'container') all.set(item.name, await readInspect(item.name));
  const networks = new Map<string, NetworkInspect>();
  for (const item of manifest.items) {
    if (item.kind !== 'network') continue;
    networks.set(
      item.name,
      unwrap(
        await readJson<NetworkInspect | NetworkInspect[]>(backupDir, rel.network(item.name), `network ${item.name}`),
      ),
    );
  }
  const members = (p: string) => projectMembers(p, manifest, all, networks);
  let selection: RestoreRequest = request;
  for (const p of projects) {
    const m = members(p);
    if (m.containers.length + m.volumes.length + m.networks.length === 0)
      throw new BbackupError(
        'USAGE',
        `backup ${manifest.id} holds nothing of Compose project ${p} (label ${PROJECT_LABEL} on its containers)`,
      );
    selection = {
      ...selection,
      containers: [...new Set([...selection.containers, ...m.containers])],
      volumes: [...new Set([...selection.volumes, ...m.volumes])],
      networks: [...new Set([...selection.networks, ...m.networks])],
    };
  }
  const renames = checkRenames(
    byProject ? expandProjectRenames(projectRenames, members, request.renames) : request.renames,
    manifest,
  );
  const wanted = selection.all
    ? manifest.items.filter((i) => i.kind === 'container').map((i) => i.name)
    : selection.containers;
  for (const name of wanted) {
    if (!manifest.items.some((i) => i.kind === 'container' && i.name === name)) continue; // buildPlan reports it
    const inspect = all.get(name) ?? (await readInspect(name));
    inspects.set(name, inspect);
    images.set(name, await imageState(docker, inspect.Config.Image ?? '', inspect.Image));
  }
  const engine = await snapshotEngine(docker);
  const plan = attachDumps(
    buildPlan({ backupDir, manifest, request: selection, renames, inspects, networks, engine, images }),
    { dump: request.dump !== false, inspects, engine },
  );
  return Object.keys(projectRenames).length > 0 ? { ...plan, projectRenames } : plan;
}

export async function snapshotEngine(docker: Docker): Promise<EngineSnapshot> {
  const containers = await listContainers(docker);
  const [volumes, networks] = await Promise.all([
    listVolumes(docker, containers, { sizes: false }),
    listNetworks(docker, containers),
  ]);
  return {
    containers: new Map(containers.map((c) => [c.name, { state: c.state }])),
    volumes: new Map(volumes.map((v) => [v.name, { usedBy: v.usedBy }])),
    networks: new Map(networks.map((n) => [n.name, { containers: n.containers, subnets: n.subnets }])),
  };
}

async function imageState(docker: Docker, ref: string, id: string): Promise<ImageState> {
  const exists = (r: string) =>
    docker
      .getImage(r)
      .inspect()
      .then(
        () => true,
        (err: { statusCode?: number }) => {
          if (err.statusCode === 404) return false;
          throw err;
        },
      );
  if (ref && (await exists(ref))) return 'present';
  if (id && (await exists(id))) return 'id';
  return 'missing';
}

export { readManifest };
