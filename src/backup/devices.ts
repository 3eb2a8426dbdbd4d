// Device nodes left out of a backup (README "Device nodes"): every reader and the tree index
// count them the same way, and the volume item records the count and the first few paths.
export interface SkippedDevices {
  count: number;
  /** the first LISTED_DEVICES, relative to the volume root */
  paths: string[];
}

export const LISTED_DEVICES = 10;

export const noSkippedDevices = (): SkippedDevices => ({ count: 0, paths: [] });

/** Count one device left out. */
export function noteDevice(s: SkippedDevices, path: string): void {
  s.count++;
  if (s.paths.length < LISTED_DEVICES) s.paths.push(path);
}

export function addSkipped(into: SkippedDevices, from: SkippedDevices | undefined): void {
  if (!from) return;
  into.count += from.count;
  for (const p of from.paths) if (into.paths.length < LISTED_DEVICES) into.paths.push(p);
}

/** "2 device nodes (dev/null0, sub/sda)" for log lines and item details. */
export function describeSkipped(s: SkippedDevices): string {
  const more = s.count > s.paths.length ? ', …' : '';
  return `${s.count} device node${s.count === 1 ? '' : 's'} (${s.paths.join(', ')}${more})`;
}
