// `--rename old:new` parsing and lookup. A plain `old:new` applies to every kind of object named
// `old` in the backup (a container and its volume often share a name); `volume:old:new` (or
// container:, network:) limits it to one kind. Docker names never contain ':', so this is unambiguous.
import { BbackupError } from '../errors.js';
import type { Manifest } from '../store/manifest.js';
import type { Renames, RestoreKind } from './types.js';

const KINDS: readonly RestoreKind[] = ['container', 'volume', 'network'];
// Docker's own rule for container and volume names; networks accept more, but this is a safe subset.
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export const emptyRenames = (): Renames => ({ container: {}, volume: {}, network: {} });

export function parseRenames(specs: readonly string[]): Renames {
  const renames = emptyRenames();
  for (const spec of specs) {
    const parts = spec.split(':');
    let kinds: readonly RestoreKind[] = KINDS;
    if (parts.length === 3 && (KINDS as readonly string[]).includes(parts[0]!)) kinds = [parts.shift() as RestoreKind];
    if (parts.length !== 2 || !parts[0] || !parts[1]) {
      throw new BbackupError(
        'USAGE',
        `--rename ${spec}: expected OLD:NEW or KIND:OLD:NEW (KIND = container, volume or network)`,
      );
    }
    const [from, to] = parts as [string, string];
    if (!NAME_RE.test(to))
      throw new BbackupError(
        'USAGE',
        `--rename ${spec}: "${to}" is not a valid Docker name (letters, digits, _ . - ; first a letter or digit)`,
      );
    for (const kind of kinds) {
      const earlier = renames[kind][from];
      if (earlier !== undefined && earlier !== to)
        throw new BbackupError('USAGE', `--rename: ${kind} ${from} is renamed twice (${earlier} and ${to})`);
      renames[kind][from] = to;
    }
  }
  return renames;
}

export const renamed = (renames: Renames, kind: RestoreKind, name: string): string => renames[kind][name] ?? name;

/**
 * Renames that name nothing in the backup are a typo: refuse them rather than restore under the
 * old name. Returns the renames narrowed to kinds that hold the name (for plain OLD:NEW).
 */
export function checkRenames(renames: Renames, manifest: Manifest): Renames {
  const held = (kind: RestoreKind, name: string) => manifest.items.some((i) => i.kind === kind && i.name === name);
  const out = emptyRenames();
  const froms = new Set(KINDS.flatMap((k) => Object.keys(renames[k])));
  for (const from of froms) {
    let used = false;
    for (const kind of KINDS) {
      const to = renames[kind][from];
      if (to !== undefined && held(kind, from)) {
        out[kind][from] = to;
        used = true;
      }
    }
    if (!used)
      throw new BbackupError(
        'USAGE',
        `--rename ${from}: the backup holds no container, volume or network named ${from}`,
      );
  }
  for (const kind of KINDS) {
    const targets = new Map<string, string>();
    for (const item of manifest.items) {
      if (item.kind !== kind) continue;
      const to = renamed(out, kind, item.name);
      const clash = targets.get(to);
      if (clash !== undefined)
        throw new BbackupError('USAGE', `--rename: ${kind}s ${clash} and ${item.name} would both be restored as ${to}`);
      targets.set(to, item.name);
    }
  }
  return out;
}

/** A rename applied to the names inside a container definition (volume names, networks, container links). */
export const renameLookup = (renames: Renames) => ({
  container: (n: string) => renamed(renames, 'container', n),
  volume: (n: string) => renamed(renames, 'volume', n),
  network: (n: string) => renamed(renames, 'network', n),
});
export type RenameLookup = ReturnType<typeof renameLookup>;
