// Rows of the containers, volumes and networks panes: (record, selected) -> one line.
import type { ContainerInfo, NetworkInfo, VolumeInfo } from '../../src/docker/inventory.js';
import { detectDump } from '../../src/dump/detect.js';
import { describeError } from '../../src/errors.js';
import { formatAge } from '../../src/format/units.js';
import type { Freshness, FreshnessRow } from '../../src/schedule/freshness.js';
import { esc, type Theme } from '../theme.js';
import type { LastDrill } from '../../src/drill/record.js';
import { DRILL_W, drillDetail, drillMark } from './drill.js';
import { clip, fit, formatBytes } from './format.js';

const mark = (selected: boolean, t: Theme) => (selected ? t.paint('green', t.glyphs.on) : t.glyphs.off);

const stateColor = (state: string) =>
  state === 'running'
    ? 'green'
    : state === 'paused' || state === 'restarting'
      ? 'yellow'
      : state === 'exited' || state === 'dead'
        ? 'red'
        : 'gray';

/** drill: the container's last restore drill (undefined: never drilled); fresh: its backup age against its schedules. */
export function containerRow(
  c: ContainerInfo,
  selected: boolean,
  width: number,
  t: Theme,
  drill?: LastDrill,
  fresh?: FreshnessRow,
): string {
  const nameW = Math.max(8, Math.floor((width - 4) * 0.45));
  const stateW = 9;
  const ageW = fresh ? 6 : 0;
  // the off-site copy's age ("off 5m"), only where remotes are configured
  const offW = fresh?.offsite !== undefined ? 8 : 0;
  const rest = Math.max(0, width - 4 - nameW - stateW - DRILL_W - ageW - offW - 3);
  const age = fresh ? `${t.paint(FRESH_COLOR[fresh.state], fit(freshText(fresh), ageW - 1))} ` : '';
  const off =
    fresh?.offsite !== undefined ? `${offsiteCell(fresh.offsite, offW - 1, t, fresh.state !== 'unscheduled')} ` : '';
  return `${mark(selected, t)} ${esc(fit(c.name, nameW))} ${t.paint(stateColor(c.state), fit(c.state, stateW))} ${age}${off}${drillMark(drill, t)} ${esc(clip(c.image, rest))}`;
}

/** Freshness colours (README "Status and freshness"): the same states as `bbackup status`. */
export const FRESH_COLOR: Record<Freshness, 'green' | 'yellow' | 'red' | 'gray'> = {
  ok: 'green',
  late: 'yellow',
  missed: 'red',
  never: 'red',
  unscheduled: 'gray',
};

/** "off 5m" coloured like the local age; "off none" (red when scheduled) when no upload holding it is known. */
function offsiteCell(o: NonNullable<FreshnessRow['offsite']>, w: number, t: Theme, scheduled: boolean): string {
  if (o === 'none') return t.paint(scheduled ? 'red' : 'gray', fit('off none', w));
  return t.paint(FRESH_COLOR[o.state], fit(`off ${formatAge(o.ageSeconds)}`, w));
}

/** The age of the newest backup ("5m", "2d"), "never", or "-" (never backed up, no schedule). */
export const freshText = (f: FreshnessRow): string =>
  f.ageSeconds !== undefined ? formatAge(f.ageSeconds) : f.state === 'never' ? 'never' : '-';

/**
 * A line of the containers pane: a container, or the header of a Compose project whose containers
 * follow it, indented (unless the project is folded). Containers outside projects come first.
 */
export type ContainerPaneRow =
  | { kind: 'container'; container: ContainerInfo; project?: string }
  | { kind: 'project'; project: string; members: ContainerInfo[]; collapsed: boolean };

export const projectLabel = 'com.docker.compose.project';

export function groupContainers(containers: ContainerInfo[], collapsed: ReadonlySet<string>): ContainerPaneRow[] {
  const rows: ContainerPaneRow[] = [];
  const projects = new Map<string, ContainerInfo[]>();
  for (const c of containers) {
    const p = c.labels[projectLabel];
    if (p) projects.set(p, [...(projects.get(p) ?? []), c]);
    else rows.push({ kind: 'container', container: c });
  }
  for (const [project, members] of [...projects].sort(([a], [b]) => a.localeCompare(b))) {
    rows.push({ kind: 'project', project, members, collapsed: collapsed.has(project) });
    if (!collapsed.has(project)) for (const c of members) rows.push({ kind: 'container', container: c, project });
  }
  return rows;
}

/** The container names a row stands for: its own, or every member of a project. */
export const rowContainers = (row: ContainerPaneRow): string[] =>
  row.kind === 'container' ? [row.container.name] : row.members.map((c) => c.name);

export function containerPaneRow(
  row: ContainerPaneRow,
  selected: ReadonlySet<string>,
  width: number,
  t: Theme,
  drillOf: (name: string) => LastDrill | undefined = () => undefined,
  freshOf: (name: string) => FreshnessRow | undefined = () => undefined,
): string {
  if (row.kind === 'container') {
    const c = row.container;
    return row.project
      ? `  ${containerRow(c, selected.has(c.name), width - 2, t, drillOf(c.name), freshOf(c.name))}`
      : containerRow(c, selected.has(c.name), width, t, drillOf(c.name), freshOf(c.name));
  }
  const chosen = row.members.filter((c) => selected.has(c.name)).length;
  const running = row.members.filter((c) => c.state === 'running').length;
  const fold = row.collapsed ? '+' : '-';
  const info = `${row.members.length} containers, ${running} running${chosen ? `, ${chosen} selected` : ''}`;
  const name = clip(`project ${row.project}`, Math.max(8, width - 6));
  const room = width - 6 - name.length - 2;
  const tail = room >= 6 ? `  ${t.paint('gray', esc(clip(info, room)))}` : '';
  return `${mark(chosen > 0 && chosen === row.members.length, t)} ${fold} ${t.paint('cyan', esc(name))}${tail}`;
}

export function volumeRow(v: VolumeInfo, selected: boolean, width: number, t: Theme): string {
  const nameW = Math.max(8, Math.floor((width - 4) * 0.55));
  const sizeW = 9;
  const rest = Math.max(0, width - 4 - nameW - sizeW - 2);
  return `${mark(selected, t)} ${esc(fit(v.name, nameW))} ${formatBytes(v.size).padStart(sizeW - 1)}  ${esc(clip(v.usedBy.join(','), rest))}`;
}

export function networkRow(n: NetworkInfo, selected: boolean, width: number, t: Theme): string {
  const nameW = Math.max(8, Math.floor((width - 4) * 0.55));
  const driverW = 8;
  const rest = Math.max(0, width - 4 - nameW - driverW - 2);
  const flags = clip(n.builtin ? 'builtin' : n.containers.join(','), rest);
  return `${mark(selected, t)} ${esc(fit(n.name, nameW))} ${fit(n.driver, driverW)} ${n.builtin ? t.paint('gray', flags) : esc(flags)}`;
}

/** Case-insensitive substring filter over a row's searchable text. */
export function matchesFilter(filter: string, ...fields: string[]): boolean {
  if (!filter) return true;
  const f = filter.toLowerCase();
  return fields.some((x) => x.toLowerCase().includes(f));
}

/** The Enter-details of a dashboard row: every field an operator checks before a backup. */
export function detailLines(row: ContainerInfo | VolumeInfo | NetworkInfo, drill?: LastDrill): string[] {
  const kv = (k: string, v: string) => `${k.padEnd(11)} ${esc(v)}`;
  const labels = (l: Record<string, string>) => Object.entries(l).map(([k, v]) => `  ${esc(k)}=${esc(v)}`);
  if ('image' in row) {
    return [
      kv('container', row.name),
      kv('id', row.id.slice(0, 12)),
      kv('image', row.image),
      kv('state', `${row.state} (${row.status})`),
      kv('created', row.created),
      kv('networks', row.networks.join(', ') || '-'),
      kv('dump', dumpText(row) ?? '-'),
      kv('last drill', drillDetail(drill, row.name)),
      'mounts',
      ...(row.mounts.length
        ? row.mounts.map((m) => `  ${esc(`${m.type} ${m.source} -> ${m.destination}${m.readOnly ? ' (ro)' : ''}`)}`)
        : ['  -']),
      'labels',
      ...(Object.keys(row.labels).length ? labels(row.labels) : ['  -']),
    ];
  }
  if ('mountpoint' in row) {
    return [
      kv('volume', row.name),
      kv('driver', row.driver),
      kv('size', formatBytes(row.size)),
      kv('mountpoint', row.mountpoint),
      kv('used by', row.usedBy.join(', ') || '-'),
      'labels',
      ...(Object.keys(row.labels).length ? labels(row.labels) : ['  -']),
    ];
  }
  return [
    kv('network', row.name),
    kv('id', row.id.slice(0, 12)),
    kv('driver', row.driver),
    kv('scope', row.scope),
    kv('internal', row.internal ? 'yes' : 'no'),
    kv('subnets', row.subnets.join(', ') || '-'),
    kv('containers', row.containers.join(', ') || '-'),
    kv('builtin', row.builtin ? 'yes (never backed up)' : 'no'),
  ];
}

/**
 * The dump a container gets, from its labels and image (the lists carry no environment: a server
 * recognised only by its environment shows here as "-" and still gets its dump in the backup).
 */
export function dumpText(c: Pick<ContainerInfo, 'name' | 'image' | 'labels' | 'state'>): string | undefined {
  try {
    const d = detectDump({ name: c.name, image: c.image, labels: c.labels });
    if (!d) return undefined;
    return `${d.engine}${d.path ? ` ${d.path}` : ''} (${d.detectedBy}${d.only ? ', dump only' : ''})${c.state === 'running' ? '' : ', not running: skipped'}`;
  } catch (err) {
    return `refused: ${describeError(err)}`;
  }
}
