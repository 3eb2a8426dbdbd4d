// Rows of the containers, volumes and networks panes: (record, selected) -> one line.
import type { ContainerInfo, NetworkInfo, VolumeInfo } from '../../src/docker/inventory.js';
import { esc, type Theme } from '../theme.js';
import { clip, fit, formatBytes } from './format.js';

const mark = (selected: boolean, t: Theme) => (selected ? t.paint('green', t.glyphs.on) : t.glyphs.off);

const stateColor = (state: string) => (state === 'running' ? 'green' : state === 'paused' || state === 'restarting' ? 'yellow' : state === 'exited' || state === 'dead' ? 'red' : 'gray');

export function containerRow(c: ContainerInfo, selected: boolean, width: number, t: Theme): string {
  const nameW = Math.max(8, Math.floor((width - 4) * 0.55));
  const stateW = 9;
  const rest = Math.max(0, width - 4 - nameW - stateW - 2);
  return `${mark(selected, t)} ${esc(fit(c.name, nameW))} ${t.paint(stateColor(c.state), fit(c.state, stateW))} ${esc(clip(c.image, rest))}`;
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
