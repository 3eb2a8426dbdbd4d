// Restoring Compose projects as a unit: `-P NAME` picks a project's objects from the backup, and
// `--project-rename old:new` gives all of them new names so the copy runs beside the original.
// A project's objects are its containers (saved label com.docker.compose.project), the volumes and
// networks with that label, and the volumes and networks its containers use that the backup holds.
// New names: Compose's own prefix is swapped (old-web-1 -> new-web-1, old_data -> new_data); a
// name without it gets one (data -> new_data, web -> new-web). The labels follow (the project label
// on containers, volumes and networks), and so do network aliases that are old container names, so
// `docker compose -p new` sees the copy as its project. Pure, apart from the Sandbox it returns.
import { PROJECT_LABEL } from '../docker/compose-order.js';
import { BbackupError } from '../errors.js';
import type { Manifest } from '../store/manifest.js';
import type { ContainerInspect, NetworkInspect } from './inspect-types.js';
import { usedNetworks, usedVolumes } from './plan-build.js';
import type { Renames, RestoreKind, Sandbox } from './types.js';

// Compose's rule for project names.
const PROJECT_RE = /^[a-z0-9][a-z0-9_-]*$/;

export function parseProjectRenames(specs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const spec of specs) {
    const [from, to, ...rest] = spec.split(':');
    if (!from || !to || rest.length > 0)
      throw new BbackupError('USAGE', `--project-rename ${spec}: expected OLD:NEW (Compose project names)`);
    if (!PROJECT_RE.test(to))
      throw new BbackupError(
        'USAGE',
        `--project-rename ${spec}: "${to}" is not a valid Compose project name (lower-case letters, digits, _ and -; first a letter or digit)`,
      );
    if (out[from] !== undefined && out[from] !== to)
      throw new BbackupError('USAGE', `--project-rename: project ${from} is renamed twice (${out[from]} and ${to})`);
    out[from] = to;
  }
  return out;
}

/** old-web-1 -> new-web-1, old_data -> new_data; a name without the prefix gets the new one with `sep`. */
export function projectObjectName(name: string, from: string, to: string, sep: '-' | '_'): string {
  for (const s of ['-', '_']) if (name.startsWith(`${from}${s}`)) return `${to}${s}${name.slice(from.length + 1)}`;
  return `${to}${sep}${name}`;
}

export interface ProjectMembers {
  containers: string[];
  volumes: string[];
  networks: string[];
}

export function projectMembers(
  project: string,
  manifest: Manifest,
  inspects: ReadonlyMap<string, ContainerInspect>,
  networks: ReadonlyMap<string, NetworkInspect>,
): ProjectMembers {
  const held = (kind: RestoreKind, name: string) => manifest.items.some((i) => i.kind === kind && i.name === name);
  const containers = [...inspects].filter(([, i]) => i.Config.Labels?.[PROJECT_LABEL] === project).map(([n]) => n);
  const volumes = new Set(
    manifest.items.flatMap((i) => (i.kind === 'volume' && i.labels?.[PROJECT_LABEL] === project ? [i.name] : [])),
  );
  const nets = new Set([...networks].filter(([, n]) => n.Labels?.[PROJECT_LABEL] === project).map(([n]) => n));
  for (const c of containers) {
    for (const v of usedVolumes(inspects.get(c)!)) if (held('volume', v)) volumes.add(v);
    for (const n of usedNetworks(inspects.get(c)!)) if (held('network', n)) nets.add(n);
  }
  return { containers, volumes: [...volumes], networks: [...nets] };
}

/** The object renames the project renames stand for; an explicit --rename of the same object is refused. */
export function expandProjectRenames(
  projectRenames: Readonly<Record<string, string>>,
  members: (project: string) => ProjectMembers,
  explicit: Renames,
): Renames {
  const out: Renames = {
    container: { ...explicit.container },
    volume: { ...explicit.volume },
    network: { ...explicit.network },
  };
  for (const [from, to] of Object.entries(projectRenames)) {
    const m = members(from);
    if (m.containers.length + m.volumes.length + m.networks.length === 0)
      throw new BbackupError(
        'USAGE',
        `--project-rename ${from}:${to}: the backup holds nothing of Compose project ${from}`,
      );
    const add = (kind: RestoreKind, names: string[], sep: '-' | '_') => {
      for (const n of names) {
        if (explicit[kind][n] !== undefined)
          throw new BbackupError(
            'USAGE',
            `${kind} ${n} is renamed both by --rename (${explicit[kind][n]}) and by --project-rename ${from}:${to}`,
          );
        out[kind][n] = projectObjectName(n, from, to, sep);
      }
    };
    add('container', m.containers, '-');
    add('volume', m.volumes, '_');
    add('network', m.networks, '_');
  }
  return out;
}

const relabel = (labels: Record<string, string> | undefined | null, renames: Readonly<Record<string, string>>) => {
  const p = labels?.[PROJECT_LABEL];
  if (!labels || p === undefined || renames[p] === undefined) return labels ?? undefined;
  return { ...labels, [PROJECT_LABEL]: renames[p] };
};

/** Rewrites what is created so the labels and aliases follow the project renames; composes with a drill's sandbox. */
export function projectRenameSandbox(projectRenames: Readonly<Record<string, string>>, inner?: Sandbox): Sandbox {
  const aliasFor = (alias: string, project: string | undefined) => {
    const to = project === undefined ? undefined : projectRenames[project];
    return to && project && (alias.startsWith(`${project}-`) || alias.startsWith(`${project}_`))
      ? projectObjectName(alias, project, to, '-')
      : alias;
  };
  return {
    container(spec) {
      const labels = spec.create.Labels as Record<string, string> | undefined;
      const project = labels?.[PROJECT_LABEL];
      const next = relabel(labels, projectRenames);
      if (next) spec.create.Labels = next;
      const endpoints = [
        ...Object.values(
          (spec.create.NetworkingConfig as { EndpointsConfig?: Record<string, { Aliases?: string[] }> } | undefined)
            ?.EndpointsConfig ?? {},
        ),
        ...spec.connect.map((c) => c.config),
      ];
      for (const ep of endpoints) if (ep.Aliases) ep.Aliases = ep.Aliases.map((a) => aliasFor(a, project));
      inner?.container(spec);
    },
    network(create) {
      const next = relabel(create.Labels as Record<string, string> | undefined, projectRenames);
      if (next) create.Labels = next;
      inner?.network(create);
    },
    labels(saved) {
      const next = relabel(saved, projectRenames) ?? saved;
      return inner ? inner.labels(next) : next;
    },
  };
}
