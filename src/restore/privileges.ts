// What a restore would grant on this host beyond an ordinary container, volume or network: read
// from the saved definitions, which may have been edited by whoever could write the backup folder.
// Pure: every rule is a table test (test/unit/restore-privileges.test.ts).
//
// The engine decodes JSON field names case-insensitively (Go's encoding/json), and accepts a plain
// string where a list is expected (CapAdd, SecurityOpt): so every field is looked up under every
// spelling, every value in either form, and anything not understood counts as a privilege.
import { redactParams } from '../log/redact.js';
import type { ContainerInspect, NetworkInspect } from './inspect-types.js';

export interface PrivilegeContext {
  /** backup names of the containers this restore creates: sharing their namespaces is no privilege */
  restored: ReadonlySet<string>;
  /** container id -> backup name, for `container:<id>` references */
  idToName: ReadonlyMap<string, string>;
}

/** Docker's default capability set: adding one of these grants nothing. */
const DEFAULT_CAPS = new Set([
  'CHOWN',
  'DAC_OVERRIDE',
  'FSETID',
  'FOWNER',
  'MKNOD',
  'NET_RAW',
  'SETGID',
  'SETUID',
  'SETFCAP',
  'SETPCAP',
  'NET_BIND_SERVICE',
  'SYS_CHROOT',
  'KILL',
  'AUDIT_WRITE',
]);

/** Network driver options that change nothing outside the network itself. */
const HARMLESS_NETWORK_OPTIONS = new Set([
  'com.docker.network.driver.mtu',
  'com.docker.network.bridge.enable_icc',
  'com.docker.network.bridge.enable_ip_masquerade',
  'com.docker.network.bridge.host_binding_ipv4',
  'com.docker.network.container_iface_prefix',
]);

/** Every value stored under `name` in any letter case. */
export function fieldValues(obj: unknown, name: string): unknown[] {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return [];
  const lower = name.toLowerCase();
  return Object.entries(obj)
    .filter(([k]) => k.toLowerCase() === lower)
    .map(([, v]) => v);
}

/** A list field's entries: a string counts as a list of one (the engine accepts that too). */
const entries = (obj: unknown, name: string): unknown[] =>
  fieldValues(obj, name).flatMap((v) => (Array.isArray(v) ? v : v === null || v === undefined ? [] : [v]));
const str = (obj: unknown, name: string): string[] =>
  fieldValues(obj, name)
    .filter((v) => v !== null && v !== undefined)
    .map((v) => (typeof v === 'string' ? v : JSON.stringify(v)));

/** Text from the backup made safe to print: no control characters (terminal escapes), bounded. */
export function shown(v: unknown): string {
  const s = typeof v === 'string' ? v : (JSON.stringify(v) ?? String(v));
  const clean = s.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
  return clean.length > 160 ? `${clean.slice(0, 160)}…` : clean;
}

export function containerPrivileges(inspect: ContainerInspect, ctx: PrivilegeContext): string[] {
  const hc: unknown = inspect.HostConfig;
  const out: string[] = [];
  const add = (p: string) => void (out.includes(p) ? undefined : out.push(p));

  for (const v of fieldValues(hc, 'Privileged'))
    if (v !== false && v !== null && v !== undefined) add('privileged mode (every capability and every host device)');
  for (const c of entries(hc, 'CapAdd')) {
    const cap = String(c).toUpperCase().replace(/^CAP_/, '');
    if (!DEFAULT_CAPS.has(cap)) add(cap === 'ALL' ? 'capability ALL (every capability)' : `capability ${shown(cap)}`);
  }
  for (const d of entries(hc, 'Devices')) {
    const host = str(d, 'PathOnHost')[0] ?? shown(d);
    const inside = str(d, 'PathInContainer')[0];
    add(`host device ${shown(host)}${inside && inside !== host ? ` as ${shown(inside)}` : ''}`);
  }
  for (const r of entries(hc, 'DeviceRequests')) add(`device request ${shown(r)}`);
  for (const r of entries(hc, 'DeviceCgroupRules')) add(`device cgroup rule ${shown(r)}`);

  for (const b of entries(hc, 'Binds')) {
    const bind = String(b);
    const [src, dst, mode] = bind.split(':');
    if (src?.startsWith('/')) add(hostPath(src, dst ?? '?', /(^|,)ro(,|$)/.test(mode ?? '')));
  }
  for (const m of entries(hc, 'Mounts')) {
    const type = (str(m, 'Type')[0] ?? '').toLowerCase();
    const src = str(m, 'Source')[0] ?? '';
    const dst = str(m, 'Target')[0] ?? '?';
    const ro = fieldValues(m, 'ReadOnly').includes(true);
    if (type === 'bind' || type === 'npipe') add(hostPath(src, dst, ro));
    else if (type === 'volume') {
      for (const vo of fieldValues(m, 'VolumeOptions')) {
        for (const dc of fieldValues(vo, 'DriverConfig')) {
          const driver = str(dc, 'Name')[0] ?? 'local';
          const options = fieldValues(dc, 'Options')[0];
          for (const p of volumePrivileges(driver, options))
            add(`mount of volume ${shown(src)} at ${shown(dst)}: ${p}`);
        }
      }
    } else if (type !== 'tmpfs' && type !== '') add(`mount of type ${shown(type)} at ${shown(dst)}`);
  }

  // CgroupnsMode "host" is not listed: it is the daemon's default on cgroup v1 hosts (every saved
  // container has it), and unprivileged containers see the cgroup tree read-only anyway.
  const namespaces: [string, string][] = [
    ['NetworkMode', 'network'],
    ['PidMode', 'PID'],
    ['IpcMode', 'IPC'],
    ['UTSMode', 'UTS'],
    ['UsernsMode', 'user'],
    ['CgroupnsMode', 'cgroup'],
    ['Cgroup', 'cgroup'],
  ];
  for (const [field, ns] of namespaces) {
    for (const mode of str(hc, field)) {
      if (mode === 'host' && ns !== 'cgroup')
        add(
          `host ${ns} namespace${ns === 'PID' ? ' (sees and signals every host process)' : ns === 'user' ? ' (no user-namespace remapping)' : ''}`,
        );
      else if (mode.startsWith('container:')) {
        const other = external(mode.slice('container:'.length), ctx);
        if (other) add(`${ns} namespace of container ${shown(other)}, which this restore does not create`);
      }
    }
  }
  for (const v of entries(hc, 'VolumesFrom')) {
    const other = external(String(v).split(':')[0]!, ctx);
    if (other) add(`volumes of container ${shown(other)}, which this restore does not create`);
  }

  for (const opt of entries(hc, 'SecurityOpt')) {
    const p = securityOption(String(opt));
    if (p) add(p);
  }
  // An explicit empty list is `--security-opt systempaths=unconfined`; the daemon's defaults are non-empty.
  for (const field of ['MaskedPaths', 'ReadonlyPaths']) {
    for (const v of fieldValues(hc, field))
      if (Array.isArray(v) && v.length === 0) add('systempaths=unconfined (/proc and /sys not masked)');
  }
  // Sysctls are not listed: the engine accepts only namespaced ones, and refuses net.* with the
  // host network and IPC ones with the host IPC namespace, so they cannot reach the host.
  return out;
}

function hostPath(src: string, dst: string, ro: boolean): string {
  const why = /(^|\/)(docker|containerd|podman)\.sock$/.test(src)
    ? ' — the Docker socket: full control of the engine and the host'
    : src.replace(/\/+$/, '') === ''
      ? " — the host's whole filesystem"
      : '';
  return `host path ${shown(src)} mounted at ${shown(dst)}${ro ? ' (read-only)' : ''}${why}`;
}

/** The backup name or reference of a container outside this restore; undefined when it is restored too. */
function external(ref: string, ctx: PrivilegeContext): string | undefined {
  const name = ctx.idToName.get(ref) ?? ref;
  return ctx.restored.has(name) ? undefined : name;
}

function securityOption(opt: string): string | undefined {
  const m = /^([^=:]+)[=:]?(.*)$/s.exec(opt.trim());
  const key = (m?.[1] ?? '').toLowerCase();
  const value = m?.[2] ?? '';
  switch (key) {
    case 'no-new-privileges':
      return undefined; // takes privileges away
    case 'seccomp':
      if (value === 'unconfined') return 'seccomp=unconfined (no system call filter)';
      return value === 'builtin' || value === '' ? undefined : "seccomp=<custom profile> (not Docker's default filter)";
    case 'apparmor':
      if (value === 'docker-default') return undefined;
      return value === 'unconfined' ? 'apparmor=unconfined' : `apparmor=${shown(value)} (not Docker's default profile)`;
    case 'label':
      return value === 'disable' ? 'label=disable (SELinux separation off)' : `label=${shown(value)}`;
    case 'systempaths':
      return value === 'unconfined'
        ? 'systempaths=unconfined (/proc and /sys not masked)'
        : `systempaths=${shown(value)}`;
    default:
      return `security option ${shown(opt)}`;
  }
}

/**
 * A volume's driver and options. The local driver with `device` mounts something of the host's
 * (a bind of a host path, a block device, an NFS/CIFS share) — and the restore then writes the
 * backup's files into it. tmpfs is harmless. Options of other drivers are listed as they are.
 */
export function volumePrivileges(driver: unknown, options: unknown): string[] {
  const name = typeof driver === 'string' && driver !== '' ? driver : 'local';
  if (options === null || options === undefined) return [];
  if (typeof options !== 'object' || Array.isArray(options))
    return [`driver ${shown(name)} with options ${shown(options)}`];
  const opts = Object.entries(options as Record<string, unknown>).map(
    ([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)] as const,
  );
  if (opts.length === 0) return [];
  const text = redactParams(opts.map(([k, v]) => `${k}=${v}`).join(', '));
  if (name !== 'local') return [`driver ${shown(name)} with options ${shown(text)}`];
  const get = (k: string) => opts.find(([key]) => key.toLowerCase() === k)?.[1];
  const type = get('type') ?? '';
  const o = get('o') ?? '';
  const device = get('device');
  if (type === 'tmpfs' && !/(^|,)bind(,|$)/.test(o)) return [];
  if (device === undefined && !o)
    return opts.some(([k]) => !['type', 'o', 'device'].includes(k.toLowerCase()))
      ? [`local driver options ${shown(text)}`]
      : [];
  if (/(^|,)r?bind(,|$)/.test(o)) return [`local driver binds host path ${shown(device ?? '?')} (${shown(text)})`];
  return [`local driver mounts ${shown(device ?? '?')}${type ? ` (type ${shown(type)})` : ''} (${shown(text)})`];
}

/** A network's driver options (parent interface, host bridge name, ...) and IPAM options. */
export function networkPrivileges(saved: NetworkInspect): string[] {
  const out: string[] = [];
  const options = saved.Options;
  if (options && typeof options === 'object' && !Array.isArray(options)) {
    for (const [k, v] of Object.entries(options)) {
      if (HARMLESS_NETWORK_OPTIONS.has(k)) continue;
      const value = shown(redactParams(`${k}=${v}`).slice(k.length + 1));
      if (k === 'parent') out.push(`attached to host interface ${value} (parent=${value})`);
      else if (k === 'com.docker.network.bridge.name') out.push(`uses host bridge interface ${value} (${k})`);
      else out.push(`driver option ${shown(k)}=${value}`);
    }
  } else if (options !== null && options !== undefined) out.push(`driver options ${shown(options)}`);
  const ipamOptions = saved.IPAM?.Options;
  if (ipamOptions && typeof ipamOptions === 'object')
    for (const [k, v] of Object.entries(ipamOptions))
      out.push(`IPAM option ${shown(k)}=${shown(redactParams(`${k}=${v}`).slice(k.length + 1))}`);
  return out;
}
