// The drill sandbox: what a drill restores must run beside the originals without touching them or
// the outside world. Every object is renamed `drill-<time>-<name>` (through the restore's renames),
// and the create options are rewritten here: no published ports, no restart policy, host paths
// mounted read-only, default/host networking replaced by none, user networks made internal, and
// Compose's labels dropped (so `docker compose` never counts a sandbox container as its own).
import { BbackupError } from '../errors.js';
import { currentRun } from '../process-identity.js';
import type { ContainerSpec } from '../restore/container-spec.js';
import { emptyRenames } from '../restore/renames.js';
import type { Renames, Sandbox } from '../restore/types.js';
import type { Manifest } from '../store/manifest.js';

/** Label on every sandbox object; its value is the drill id. */
export const DRILL_LABEL = 'bbackup.drill';
/** Optional per-container probe: a JSON argv run with `docker exec` once the container is up. */
export const PROBE_LABEL = 'bbackup.drill.probe';
/** The drill's process (JSON RunIdentity): a sandbox whose process is dead is a killed drill's leftover. */
export const RUN_LABEL = 'bbackup.drill.run';

const BUILTIN = new Set(['bridge', 'default', 'host', '']);

/** "drill-20261202T060102-" for a drill started at `now`. */
export const drillPrefix = (drillId: string): string => `drill-${drillId}-`;

/** Docker names are at most 255 characters here in practice; keep well inside what the engine accepts. */
export const sandboxName = (prefix: string, name: string): string => `${prefix}${name}`.slice(0, 200);

/** Every container, volume and network of the backup, renamed into the sandbox. */
export function sandboxRenames(manifest: Manifest, prefix: string): Renames {
  const r = emptyRenames();
  // images keep their ids (the engine shares them; a drill never loads over one), projects are files only
  for (const i of manifest.items)
    if (i.kind === 'container' || i.kind === 'volume' || i.kind === 'network')
      r[i.kind][i.name] = sandboxName(prefix, i.name);
  return r;
}

export function withDrillLabels(
  labels: Readonly<Record<string, string>> | null | undefined,
  drillId: string,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels ?? {})) if (!k.startsWith('com.docker.compose.')) out[k] = v;
  out[DRILL_LABEL] = drillId;
  out[RUN_LABEL] = JSON.stringify(currentRun());
  return out;
}

/** "/srv/x:/x" -> "/srv/x:/x:ro"; named volumes (the sandbox's own copies) stay writable. */
export function readOnlyBind(bind: string): string {
  const parts = bind.split(':');
  if (!parts[0]?.startsWith('/') || parts.length < 2) return bind;
  const opts = (parts[2] ?? '').split(',').filter((o) => o !== '' && o !== 'rw' && o !== 'ro');
  return [parts[0], parts[1], [...opts, 'ro'].join(',')].join(':');
}

export interface DrillSandbox extends Sandbox {
  /** volumes the containers mount that the backup does not hold: created empty by Docker, removed with the sandbox */
  readonly extraVolumes: Set<string>;
}

export function makeSandbox(drillId: string, prefix: string): DrillSandbox {
  const extraVolumes = new Set<string>();
  const inside = (name: string) => name.startsWith(prefix);
  // A volume the backup does not hold would otherwise be the live one: give the sandbox its own, empty.
  const ownVolume = (name: string) => {
    if (inside(name)) return name;
    const own = sandboxName(prefix, name);
    extraVolumes.add(own);
    return own;
  };
  const ownContainer = (ref: string, what: string) => {
    if (!inside(ref.split(':')[0]!))
      throw new BbackupError(
        'USAGE',
        `drill refused: ${what} refers to container ${ref}, which is not part of the drill; drill it together with that container (-C)`,
      );
    return ref;
  };
  return {
    extraVolumes,
    container(spec: ContainerSpec): void {
      const c = spec.create;
      const hc = c.HostConfig;
      for (const key of ['NetworkMode', 'PidMode', 'IpcMode'] as const) {
        const m = hc[key];
        if (typeof m === 'string' && m.startsWith('container:')) ownContainer(m.slice(10), `${c.name}'s ${key}`);
      }
      for (const v of hc.VolumesFrom ?? []) ownContainer(v, `${c.name}'s volumes-from`);
      if (hc.Binds)
        hc.Binds = hc.Binds.map((b) => (b.startsWith('/') ? b : ownVolume(b.split(':')[0]!) + b.slice(b.indexOf(':'))));
      if (hc.Mounts)
        hc.Mounts = hc.Mounts.map((m) => (m.Type === 'volume' && m.Source ? { ...m, Source: ownVolume(m.Source) } : m));
      const mode = hc.NetworkMode ?? '';
      if (BUILTIN.has(mode)) {
        hc.NetworkMode = 'none';
        delete c.NetworkingConfig;
        spec.connect = [];
        delete c.Hostname; // a hostname with network none is harmless, but it may equal the original's
      }
      delete hc.PortBindings;
      hc.PublishAllPorts = false;
      hc.RestartPolicy = { Name: 'no', MaximumRetryCount: 0 };
      hc.AutoRemove = false;
      if (hc.Binds) hc.Binds = hc.Binds.map(readOnlyBind);
      if (hc.Mounts) hc.Mounts = hc.Mounts.map((m) => (m.Type === 'bind' ? { ...m, ReadOnly: true } : m));
      c.Labels = withDrillLabels(c.Labels as Record<string, string> | undefined, drillId);
      spec.notes.push('sandbox: no published ports, restart policy no, host paths read-only');
    },
    network(create: Record<string, unknown>): void {
      create.Internal = true;
      create.Ingress = false;
      create.Attachable = false;
      create.Labels = withDrillLabels(create.Labels as Record<string, string> | undefined, drillId);
    },
    labels: (saved) => withDrillLabels(saved, drillId),
  };
}
