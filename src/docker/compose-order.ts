// Start order of a Compose project's containers, from the labels Compose writes on each one:
//   com.docker.compose.service     the service the container runs
//   com.docker.compose.depends_on  "db:service_healthy:false,cache:service_started:true"
//                                  (service:condition:restart; older Compose writes service:condition)
// A service starts after the services it depends on; stopping goes the other way. Pure.
// A cycle (Compose itself refuses one, so the labels were edited) is a BbackupError naming it;
// callers then fall back to name order and say so (composeOrderOrFallback).
import { BbackupError } from '../errors.js';

export const PROJECT_LABEL = 'com.docker.compose.project';
export const SERVICE_LABEL = 'com.docker.compose.service';
export const DEPENDS_ON_LABEL = 'com.docker.compose.depends_on';

export interface OrderedContainer {
  name: string;
  labels?: Record<string, string> | null;
}

/** The services a depends_on label names, in label order, without duplicates. */
export function parseDependsOn(value: string | undefined): string[] {
  const out: string[] = [];
  for (const part of (value ?? '').split(',')) {
    const service = part.split(':')[0]!.trim();
    if (service && !out.includes(service)) out.push(service);
  }
  return out;
}

/**
 * Containers in start order: each after the containers of the services it depends on; otherwise
 * by name. Dependencies on services none of the given containers run are ignored (not ours to start).
 */
export function composeStartOrder<T extends OrderedContainer>(containers: readonly T[]): T[] {
  const sorted = [...containers].sort((a, b) => a.name.localeCompare(b.name));
  const byService = new Map<string, T[]>();
  for (const c of sorted) {
    const s = c.labels?.[SERVICE_LABEL];
    if (s) byService.set(s, [...(byService.get(s) ?? []), c]);
  }
  const deps = (c: T): T[] =>
    parseDependsOn(c.labels?.[DEPENDS_ON_LABEL])
      .flatMap((s) => byService.get(s) ?? [])
      .filter((d) => d !== c);
  const out: T[] = [];
  const state = new Map<T, 'visiting' | 'done'>();
  const visit = (c: T, path: T[]) => {
    const s = state.get(c);
    if (s === 'done') return;
    if (s === 'visiting') {
      const cycle = [...path.slice(path.indexOf(c)), c].map((x) => x.labels?.[SERVICE_LABEL] ?? x.name);
      throw new BbackupError(
        'USAGE',
        `the Compose depends_on labels form a cycle: ${cycle.join(' -> ')}; Compose never writes one, so check the labels (${DEPENDS_ON_LABEL})`,
        { cycle },
      );
    }
    state.set(c, 'visiting');
    for (const d of deps(c)) visit(d, [...path, c]);
    state.set(c, 'done');
    out.push(c);
  };
  for (const c of sorted) visit(c, []);
  return out;
}

/** composeStartOrder, or name order with a warning when the labels form a cycle. */
export function composeOrderOrFallback<T extends OrderedContainer>(
  containers: readonly T[],
  warn: (msg: string) => void,
): T[] {
  try {
    return composeStartOrder(containers);
  } catch (err) {
    if (!(err instanceof BbackupError)) throw err;
    warn(`${err.message}: using name order instead`);
    return [...containers].sort((a, b) => a.name.localeCompare(b.name));
  }
}
