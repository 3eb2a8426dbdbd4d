// A container's create options from its saved `docker inspect`. Pure: the image's own config and the
// renames come in as data, so every rule below is unit-tested without an engine.
//
// Inspect shows the *effective* config: the image's Env, Cmd, Labels ... merged with what the user
// set. Passing all of it back would pin the image's defaults as if the user had chosen them (a later
// image with a new PATH or CMD would then be ignored). So each image-defaulted field is passed only
// where it differs from the image.
import { isDeepStrictEqual } from 'node:util';
import type { RenameLookup } from './renames.js';
import type { ContainerConfig, ContainerInspect, EndpointSettings, HostConfig } from './inspect-types.js';

export interface SpecContext {
  /** the name the restored container gets */
  target: string;
  rename: RenameLookup;
  /** the image's Config (defaults); undefined when the image could not be inspected */
  image?: ContainerConfig;
  /** image reference to create from (the tag, or the id when only the id is left) */
  imageRef: string;
  /** backup volume names being restored: anonymous mounts of these are re-attached by name */
  restoredVolumes: ReadonlySet<string>;
  /** networks (backup names) whose static addresses must be dropped, with why */
  dropStaticIp: ReadonlyMap<string, string>;
  /** container id -> name for the other containers of the backup (container:<id> references) */
  idToName: ReadonlyMap<string, string>;
}

export interface EndpointSpec {
  /** network name on the engine (renamed) */
  network: string;
  config: EndpointSettings;
}

export interface ContainerSpec {
  /** body of POST /containers/create, with `name` */
  create: Record<string, unknown> & { name: string; HostConfig: HostConfig };
  /** networks joined after create: API 1.41 accepts only one network in the create call */
  connect: EndpointSpec[];
  notes: string[];
}

const BUILTIN_NETWORKS = new Set(['bridge', 'host', 'none', 'default']);
/** Fields only a user sets (images have no say in them): copied when present. */
const USER_ONLY = [
  'Domainname',
  'AttachStdin',
  'AttachStdout',
  'AttachStderr',
  'Tty',
  'OpenStdin',
  'StdinOnce',
  'NetworkDisabled',
  'MacAddress',
  'StopTimeout',
] as const;
/** Scalar fields an image can default. */
const IMAGE_SCALARS = ['User', 'WorkingDir', 'StopSignal'] as const;

export function buildContainerSpec(inspect: ContainerInspect, ctx: SpecContext): ContainerSpec {
  const notes: string[] = [];
  const cfg = inspect.Config;
  const img: ContainerConfig = ctx.image ?? {};
  const body: Record<string, unknown> = { Image: ctx.imageRef };

  for (const key of USER_ONLY) if (cfg[key] !== undefined && cfg[key] !== '' && cfg[key] !== null) body[key] = cfg[key];
  for (const key of IMAGE_SCALARS) if ((cfg[key] ?? '') !== (img[key] ?? '')) body[key] = cfg[key] ?? '';
  if (cfg.Hostname && cfg.Hostname !== inspect.Id.slice(0, 12) && !sharesNamespace(inspect.HostConfig.NetworkMode))
    body.Hostname = cfg.Hostname;

  const env = listDiff(cfg.Env, img.Env);
  if (env.length > 0) body.Env = env;
  const labels = mapDiff(cfg.Labels, img.Labels);
  if (labels) body.Labels = labels;
  const exposed = mapDiff(cfg.ExposedPorts, img.ExposedPorts);
  if (exposed) body.ExposedPorts = exposed;
  const volumes = mapDiff(cfg.Volumes, img.Volumes);
  if (volumes) body.Volumes = volumes;
  if (!same(cfg.Healthcheck, img.Healthcheck) && cfg.Healthcheck) body.Healthcheck = cfg.Healthcheck;
  if (!same(cfg.Shell, img.Shell) && cfg.Shell) body.Shell = cfg.Shell;
  Object.assign(body, commandFields(cfg, img));

  const HostConfig = hostConfig(inspect, ctx, notes);
  const { primary, connect } = endpoints(inspect, ctx, notes);
  if (primary) body.NetworkingConfig = { EndpointsConfig: { [primary.network]: primary.config } };
  return { create: { ...body, name: ctx.target, HostConfig }, connect, notes };
}

/**
 * Entrypoint and Cmd travel together: when a container sets its own entrypoint, Docker drops the
 * image's Cmd, so the recorded Cmd (possibly none) must be passed explicitly too.
 */
function commandFields(cfg: ContainerConfig, img: ContainerConfig): Record<string, unknown> {
  const entry = cfg.Entrypoint ?? null;
  const cmd = cfg.Cmd ?? null;
  if (!same(entry, img.Entrypoint ?? null)) {
    // An empty list means "inherit" to the API; [""] is how `--entrypoint ""` clears it.
    return { Entrypoint: entry && entry.length > 0 ? entry : [''], Cmd: cmd ?? [] };
  }
  if (!same(cmd, img.Cmd ?? null)) return { Cmd: cmd ?? [] };
  return {};
}

function hostConfig(inspect: ContainerInspect, ctx: SpecContext, notes: string[]): HostConfig {
  const hc: HostConfig = structuredClone(inspect.HostConfig);
  const { rename } = ctx;
  hc.Binds = (hc.Binds ?? []).map((b) => renameBind(b, rename.volume));
  hc.Mounts = (hc.Mounts ?? []).map((m) =>
    m.Type === 'volume' && m.Source ? { ...m, Source: rename.volume(m.Source) } : m,
  );
  // Volumes mounted without being named in Binds/Mounts (anonymous, or from an image VOLUME):
  // when the backup restores them, attach the restored one by name instead of a fresh empty one.
  const covered = new Set([...hc.Binds.map((b) => bindTarget(b)), ...hc.Mounts.map((m) => m.Target)]);
  for (const m of inspect.Mounts ?? []) {
    if (m.Type !== 'volume' || !m.Name || covered.has(m.Destination) || !ctx.restoredVolumes.has(m.Name)) continue;
    hc.Binds.push(`${rename.volume(m.Name)}:${m.Destination}${m.RW ? '' : ':ro'}`);
    notes.push(`volume ${m.Name} at ${m.Destination} was unnamed in the definition; mounted by name`);
  }
  if (hc.Binds.length === 0) delete hc.Binds;
  if (hc.Mounts.length === 0) delete hc.Mounts;
  hc.NetworkMode = renameMode(hc.NetworkMode, ctx, 'network');
  hc.PidMode = renameMode(hc.PidMode, ctx);
  hc.IpcMode = renameMode(hc.IpcMode, ctx);
  if (hc.VolumesFrom) hc.VolumesFrom = hc.VolumesFrom.map((v) => renameRef(v, ctx));
  if (hc.Links) hc.Links = hc.Links.map((l) => renameLink(l, rename.container));
  // The daemon fills these with its default lists; only an explicit empty list (systempaths=unconfined,
  // listed as a privilege) is the user's. Any spelling: the engine reads field names in any case.
  for (const key of Object.keys(hc)) {
    const v = hc[key];
    if (/^(maskedpaths|readonlypaths)$/i.test(key) && !(Array.isArray(v) && v.length === 0)) delete hc[key];
  }
  if (hc.ContainerIDFile === '') delete hc.ContainerIDFile;
  return hc;
}

function endpoints(
  inspect: ContainerInspect,
  ctx: SpecContext,
  notes: string[],
): { primary?: EndpointSpec; connect: EndpointSpec[] } {
  const mode = inspect.HostConfig.NetworkMode ?? 'default';
  const connect: EndpointSpec[] = [];
  let primary: EndpointSpec | undefined;
  const shortId = inspect.Id.slice(0, 12);
  for (const [name, ep] of Object.entries(inspect.NetworkSettings?.Networks ?? {})) {
    if (BUILTIN_NETWORKS.has(name) || sharesNamespace(mode)) continue;
    const config: EndpointSettings = {};
    const aliases = (ep.Aliases ?? []).filter((a) => a !== shortId && a !== inspect.Id);
    if (aliases.length > 0) config.Aliases = aliases;
    if (ep.DriverOpts && Object.keys(ep.DriverOpts).length > 0) config.DriverOpts = ep.DriverOpts;
    if (ep.Links && ep.Links.length > 0) config.Links = ep.Links.map((l) => renameLink(l, ctx.rename.container));
    const ipam = ep.IPAMConfig;
    if (ipam && (ipam.IPv4Address || ipam.IPv6Address || (ipam.LinkLocalIPs?.length ?? 0) > 0)) {
      const why = ctx.dropStaticIp.get(name);
      if (why === undefined) config.IPAMConfig = ipam;
      else
        notes.push(
          `static address ${[ipam.IPv4Address, ipam.IPv6Address].filter(Boolean).join(', ')} on network ${name} dropped: ${why}`,
        );
    }
    const spec = { network: ctx.rename.network(name), config };
    if (name === mode && !primary) primary = spec;
    else connect.push(spec);
  }
  return { primary, connect };
}

const sharesNamespace = (mode: string | undefined): boolean =>
  !!mode && (mode === 'host' || mode.startsWith('container:'));
const same = (a: unknown, b: unknown): boolean => isDeepStrictEqual(a ?? null, b ?? null);

/** Entries of `list` the image does not already provide (exact KEY=VALUE). */
export function listDiff(
  list: readonly string[] | null | undefined,
  base: readonly string[] | null | undefined,
): string[] {
  const inBase = new Set(base ?? []);
  return (list ?? []).filter((e) => !inBase.has(e));
}

/** Keys of `map` whose value differs from the image's; undefined when none. */
export function mapDiff<V>(
  map: Record<string, V> | null | undefined,
  base: Record<string, V> | null | undefined,
): Record<string, V> | undefined {
  const out: Record<string, V> = {};
  for (const [k, v] of Object.entries(map ?? {})) if (!base || !(k in base) || !same(base[k], v)) out[k] = v;
  return Object.keys(out).length > 0 ? out : undefined;
}

/** "vol:/data:ro" -> "newvol:/data:ro"; host paths (starting with /) stay. */
export function renameBind(bind: string, renameVolume: (n: string) => string): string {
  const i = bind.indexOf(':');
  if (i <= 0) return bind;
  const source = bind.slice(0, i);
  return source.startsWith('/') ? bind : renameVolume(source) + bind.slice(i);
}

const bindTarget = (bind: string): string => bind.split(':')[1] ?? bind;

/** container:<id or name> modes follow the referenced container's rename. */
function renameMode(mode: string | undefined, ctx: SpecContext, kind?: 'network'): string | undefined {
  if (!mode) return mode;
  if (mode.startsWith('container:')) return `container:${renameRef(mode.slice('container:'.length), ctx)}`;
  if (kind === 'network' && !BUILTIN_NETWORKS.has(mode)) return ctx.rename.network(mode);
  return mode;
}

/** A container reference (name or id, optionally with :ro/:rw) after renames. */
function renameRef(ref: string, ctx: SpecContext): string {
  const [who, ...rest] = ref.split(':');
  const name = ctx.idToName.get(who!) ?? who!;
  return [ctx.rename.container(name), ...rest].join(':');
}

/** "/db:/web/database" (inspect form) -> "newdb:database" (create form). */
function renameLink(link: string, renameContainer: (n: string) => string): string {
  const [target, alias] = link.split(':');
  const name = (target ?? '').replace(/^\//, '');
  const aliasName = (alias ?? name).split('/').pop() ?? name;
  return `${renameContainer(name)}:${aliasName}`;
}
