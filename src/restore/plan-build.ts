// The pure heart of planning: from the manifest, the request, the saved definitions and a snapshot
// of the engine, decide what is created, replaced, reused or in the way. No I/O, so every rule is a
// table test (test/unit/restore-plan.test.ts).
import { BbackupError } from '../errors.js';
import type { ContainerItem, ImageItem, Manifest, NetworkItem, VolumeItem } from '../store/manifest.js';
import {
  composeOrderOrFallback,
  DEPENDS_ON_LABEL,
  parseDependsOn,
  PROJECT_LABEL,
  SERVICE_LABEL,
} from '../docker/compose-order.js';
import { buildNetworkSpec } from './network.js';
import { planProjectFiles } from './project-files.js';
import { containerPrivileges, networkPrivileges, volumePrivileges, type PrivilegeContext } from './privileges.js';
import { renamed } from './renames.js';
import type { ContainerInspect, NetworkInspect } from './inspect-types.js';
import type { PlanImage, PlanItem, PlanProblem, Renames, RestoreKind, RestorePlan, RestoreRequest } from './types.js';

export interface EngineSnapshot {
  containers: Map<string, { state: string }>;
  /** volume -> containers that mount it */
  volumes: Map<string, { usedBy: string[] }>;
  /** network -> containers attached and subnets */
  networks: Map<string, { containers: string[]; subnets: string[] }>;
}

/** present: the tag exists; id: only the image id is left; missing: neither */
export type ImageState = 'present' | 'id' | 'missing';

export interface PlanInput {
  backupDir: string;
  manifest: Manifest;
  request: Pick<
    RestoreRequest,
    'containers' | 'volumes' | 'networks' | 'all' | 'force' | 'start' | 'composeDir' | 'projects' | 'projectRenames'
  >;
  /** already checked against the manifest (checkRenames) */
  renames: Renames;
  /** saved inspect of the selected containers */
  inspects: Map<string, ContainerInspect>;
  /** saved inspect of the networks in the backup */
  networks: Map<string, NetworkInspect>;
  engine: EngineSnapshot;
  /** per selected container: whether its image is there */
  images: Map<string, ImageState>;
}

const BUILTIN = new Set(['bridge', 'host', 'none', 'default']);
const RUNNING = new Set(['running', 'paused', 'restarting']);

export function buildPlan(input: PlanInput): RestorePlan {
  const { manifest, request, renames, engine } = input;
  const byKind = <K extends RestoreKind>(kind: K) =>
    manifest.items.filter((i) => i.kind === kind) as (K extends 'container'
      ? ContainerItem
      : K extends 'volume'
        ? VolumeItem
        : NetworkItem)[];
  const containers = byKind('container');
  const volumes = byKind('volume');
  const networks = byKind('network');
  const pick = <T extends { name: string }>(kind: RestoreKind, list: T[], names: string[]): T[] => {
    if (request.all) return list;
    return names.map((n) => {
      const found = list.find((i) => i.name === n);
      if (!found)
        throw new BbackupError(
          'USAGE',
          `backup ${manifest.id} holds no ${kind} named ${n}; it holds ${list.length ? list.map((i) => i.name).join(', ') : `no ${kind}s`}`,
        );
      return found;
    });
  };
  const selC = pick('container', containers, request.containers);
  const selV = pick('volume', volumes, request.volumes);
  const selN = pick('network', networks, request.networks);
  if (selC.length + selV.length + selN.length === 0) {
    throw new BbackupError(
      'USAGE',
      request.all
        ? `backup ${manifest.id} holds no containers, volumes or networks`
        : 'nothing to restore: name containers (-C), volumes (-V), networks (-N), or use --all',
    );
  }

  const conflicts: PlanProblem[] = [];
  const warnings: string[] = [];
  const missingImages: PlanProblem[] = [];
  const images: PlanImage[] = [];
  const wantV = new Map<string, 'selected' | 'dependency'>(selV.map((v) => [v.name, 'selected']));
  const wantN = new Map<string, 'selected' | 'dependency'>(selN.map((n) => [n.name, 'selected']));
  for (const c of selC) {
    const inspect = input.inspects.get(c.name)!;
    for (const v of usedVolumes(inspect)) {
      if (volumes.some((x) => x.name === v)) {
        if (!wantV.has(v)) wantV.set(v, 'dependency');
      } else if (!engine.volumes.has(renamed(renames, 'volume', v)) && !isAnonymous(v)) {
        warnings.push(
          `container ${c.name} mounts volume ${v}, which this backup does not hold: Docker creates it empty`,
        );
      }
    }
    for (const n of usedNetworks(inspect)) {
      if (networks.some((x) => x.name === n)) {
        if (!wantN.has(n)) wantN.set(n, 'dependency');
      } else if (!engine.networks.has(renamed(renames, 'network', n))) {
        conflicts.push({
          kind: 'network',
          name: n,
          message: `container ${c.name} joins network ${n}, which is neither in this backup nor on the engine: create it first`,
        });
      }
    }
  }

  // Containers that will be removed by --force: their volumes and networks may then be replaced too.
  const replacedContainers = new Set(
    selC.map((c) => renamed(renames, 'container', c.name)).filter((t) => engine.containers.has(t) && request.force),
  );
  const decide = (
    kind: RestoreKind,
    source: string,
    why: 'selected' | 'dependency',
    exists: boolean,
  ): Pick<PlanItem, 'action' | 'notes'> => {
    const target = renamed(renames, kind, source);
    if (!exists) return { action: 'create', notes: [] };
    if (why === 'dependency')
      return {
        action: 'reuse',
        notes: [
          `${kind} ${target} exists: used as it is (name it with -${kind[0]!.toUpperCase()} and --force to restore it from the backup)`,
        ],
      };
    if (!request.force) {
      conflicts.push({
        kind,
        name: target,
        message: `${kind} ${target} already exists (use --force to replace it, or --rename ${source}:NEW to restore beside it)`,
      });
      return { action: 'conflict', notes: [] };
    }
    return { action: 'replace', notes: [`existing ${kind} ${target} will be removed first (--force)`] };
  };

  const items: PlanItem[] = [];
  const subnetsTaken = new Map<string, string>();
  for (const [name, info] of engine.networks) for (const s of info.subnets) subnetsTaken.set(s, name);
  for (const n of networks.filter((x) => wantN.has(x.name))) {
    const target = renamed(renames, 'network', n.name);
    const why = wantN.get(n.name)!;
    const d = decide('network', n.name, why, engine.networks.has(target));
    const saved = input.networks.get(n.name);
    let network: PlanItem['network'] = { fixedSubnet: false };
    if (d.action === 'replace') {
      const users = engine.networks.get(target)!.containers.filter((c) => !replacedContainers.has(c));
      if (users.length > 0)
        conflicts.push({
          kind: 'network',
          name: target,
          message: `network ${target} cannot be replaced: containers ${users.join(', ')} are attached to it (remove them or restore the network under another name with --rename)`,
        });
    }
    if (saved && d.action !== 'reuse') {
      const taken = new Map([...subnetsTaken].filter(([, holder]) => !(d.action === 'replace' && holder === target)));
      const spec = buildNetworkSpec(saved, target, taken);
      network = { fixedSubnet: spec.fixedSubnet };
      if (spec.clash) {
        d.notes.push(`subnet not fixed: ${spec.clash}; the engine picks a free one`);
        network.dropStaticIp = `the network's subnet could not be kept (${spec.clash})`;
      } else if (target !== n.name) {
        network.dropStaticIp = `network renamed to ${target}`;
      }
      for (const c of saved.IPAM?.Config ?? []) if (c.Subnet && !spec.clash) subnetsTaken.set(c.Subnet, target);
    }
    const subnets = (saved?.IPAM?.Config ?? [])
      .map((c) => c.Subnet)
      .filter(Boolean)
      .join(',');
    const privileges = saved && d.action !== 'reuse' ? networkPrivileges(saved) : [];
    items.push({
      kind: 'network',
      source: n.name,
      target,
      why,
      ...d,
      detail: `${n.driver}${subnets ? ` ${subnets}` : ''}`,
      bytes: 0,
      network,
      privileges,
    });
  }

  for (const v of volumes.filter((x) => wantV.has(x.name))) {
    const target = renamed(renames, 'volume', v.name);
    const why = wantV.get(v.name)!;
    const d = decide('volume', v.name, why, engine.volumes.has(target));
    if (d.action === 'replace') {
      const users = engine.volumes.get(target)!.usedBy.filter((c) => !replacedContainers.has(c));
      if (users.length > 0)
        conflicts.push({
          kind: 'volume',
          name: target,
          message: `volume ${target} cannot be replaced: it is used by containers ${users.join(', ')} (remove them or restore under another name with --rename)`,
        });
    }
    const privileges = d.action === 'reuse' ? [] : volumePrivileges(v.driver, v.options);
    items.push({
      kind: 'volume',
      source: v.name,
      target,
      why,
      ...d,
      detail: `${v.format}${v.compression ? ` ${v.compression}` : ''}${v.fileCount ? `, ${v.fileCount} files` : ''}`,
      bytes: d.action === 'reuse' ? 0 : v.bytes,
      privileges,
    });
  }

  const privilegeCtx: PrivilegeContext = {
    restored: new Set(selC.map((c) => c.name)),
    idToName: new Map(containers.map((c) => [c.id, c.name])),
  };
  for (const c of orderContainers(selC, input.inspects, (m) => warnings.push(m))) {
    const target = renamed(renames, 'container', c.name);
    const d = decide('container', c.name, 'selected', engine.containers.has(target));
    const inspect = input.inspects.get(c.name)!;
    const image = inspect.Config.Image ?? c.image;
    const state = input.images.get(c.name) ?? 'missing';
    const saved =
      state === 'missing'
        ? manifest.items.find((i): i is ImageItem => i.kind === 'image' && i.name === inspect.Image)
        : undefined;
    if (saved) {
      const known = images.find((i) => i.id === saved.name);
      if (known) known.usedBy.push(target);
      else
        images.push({
          id: saved.name,
          tags: saved.tags,
          usedBy: [target],
          bytes: saved.files.reduce((a, f) => a + f.size, 0),
        });
      d.notes.push(`image ${image} is loaded from the backup first`);
    } else if (state === 'missing')
      missingImages.push({
        kind: 'image',
        name: image,
        message: `container ${c.name} needs image ${image}, which is not on the engine: run \`docker pull ${image}\` (or \`docker load -i FILE\` for an image built locally), then restore again`,
      });
    if (state === 'id')
      d.notes.push(`image tag ${image} is gone; created from the image id ${inspect.Image.slice(0, 19)}`);
    const start = request.start && RUNNING.has(c.state);
    items.push({
      kind: 'container',
      source: c.name,
      target,
      why: 'selected',
      ...d,
      detail: `${image}${start ? ', started' : RUNNING.has(c.state) ? ', not started (--no-start)' : `, left ${c.state}`}`,
      bytes: 0,
      container: {
        image,
        imageRef: state === 'id' || (saved && !saved.tags.includes(image)) ? inspect.Image : image,
        start,
      },
      privileges: containerPrivileges(inspect, privilegeCtx),
    });
  }
  if (manifest.status !== 'complete')
    warnings.push(
      `backup ${manifest.id} is partial: ${manifest.errors.map((e) => `${e.kind} ${e.name}: ${e.message}`).join('; ') || 'some items were not saved'}`,
    );
  const { composeDir, projects, projectRenames } = input.request;
  const projectFiles = composeDir
    ? planProjectFiles(manifest, composeDir, request.all ? undefined : projects, projectRenames)
    : [];
  if (input.request.composeDir && projectFiles.length === 0)
    warnings.push(
      `--compose-dir: backup ${manifest.id} holds no Compose project files (back up with -P NAME to keep them)`,
    );
  return {
    backupDir: input.backupDir,
    backupId: manifest.id,
    host: manifest.host,
    manifest,
    renames,
    items,
    conflicts,
    projectFiles,
    images,
    missingImages,
    warnings,
  };
}

/** Named volumes a container mounts (anonymous ones included: the backup may hold them). */
export function usedVolumes(inspect: ContainerInspect): string[] {
  const names = new Set<string>();
  for (const m of inspect.Mounts ?? []) if (m.Type === 'volume' && m.Name) names.add(m.Name);
  for (const m of inspect.HostConfig.Mounts ?? []) if (m.Type === 'volume' && m.Source) names.add(m.Source);
  for (const b of inspect.HostConfig.Binds ?? []) {
    const src = b.split(':')[0]!;
    if (src && !src.startsWith('/')) names.add(src);
  }
  return [...names];
}

export function usedNetworks(inspect: ContainerInspect): string[] {
  const mode = inspect.HostConfig.NetworkMode ?? 'default';
  if (mode === 'host' || mode.startsWith('container:')) return [];
  const names = new Set(Object.keys(inspect.NetworkSettings?.Networks ?? {}));
  if (!BUILTIN.has(mode)) names.add(mode);
  return [...names].filter((n) => !BUILTIN.has(n));
}

const isAnonymous = (name: string): boolean => /^[0-9a-f]{64}$/.test(name);

/**
 * Containers another one depends on come first: container:X network/pid/ipc, --volumes-from, and
 * within a Compose project the services its com.docker.compose.depends_on label names (a project
 * whose labels form a cycle keeps name order for those, with a warning).
 */
function orderContainers(
  list: ContainerItem[],
  inspects: Map<string, ContainerInspect>,
  warn: (msg: string) => void,
): ContainerItem[] {
  const byId = new Map(list.map((c) => [c.id, c.name]));
  const labels = (c: ContainerItem) => inspects.get(c.name)?.Config.Labels ?? {};
  const composeDeps = new Map<string, string[]>();
  const projects = new Set(list.map((c) => labels(c)[PROJECT_LABEL]).filter((p): p is string => !!p));
  for (const project of projects) {
    const members = list
      .filter((c) => labels(c)[PROJECT_LABEL] === project)
      .map((c) => ({ name: c.name, labels: labels(c) }));
    let cyclic = false;
    composeOrderOrFallback(members, (msg) => {
      cyclic = true;
      warn(`Compose project ${project}: ${msg}`);
    });
    if (cyclic) continue;
    for (const m of members) {
      const services = parseDependsOn(m.labels[DEPENDS_ON_LABEL]);
      composeDeps.set(
        m.name,
        members.filter((o) => o !== m && services.includes(o.labels[SERVICE_LABEL] ?? '')).map((o) => o.name),
      );
    }
  }
  const deps = (c: ContainerItem): string[] => {
    const hc = inspects.get(c.name)?.HostConfig;
    if (!hc) return [];
    const refs = [hc.NetworkMode, hc.PidMode, hc.IpcMode]
      .filter((m): m is string => !!m && m.startsWith('container:'))
      .map((m) => m.slice(10));
    refs.push(...(hc.VolumesFrom ?? []).map((v) => v.split(':')[0]!));
    return [...refs.map((r) => byId.get(r) ?? r), ...(composeDeps.get(c.name) ?? [])];
  };
  const out: ContainerItem[] = [];
  const seen = new Set<string>();
  const visit = (c: ContainerItem) => {
    if (seen.has(c.name)) return;
    seen.add(c.name);
    for (const d of deps(c)) {
      const dep = list.find((x) => x.name === d);
      if (dep) visit(dep);
    }
    out.push(c);
  };
  list.forEach(visit);
  return out;
}
