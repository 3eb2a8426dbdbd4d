// Retention groups: backups that hold the same things compete for the same keep slots; a backup of
// other things never does (a full run and a `-s databases` run both survive). The key is short,
// readable and shown to the user:
//   schedule:nightly        made by the scheduler (whatever the schedule selects)
//   set:databases           `-s databases`
//   containers:db,web       an explicit selection (-C, --volumes, --networks; names sorted)
//   all                     everything on the engine, whichever containers exist that day
// plus the scope when it is not "everything": all/config-only, set:db/volumes-only, ...
// Backups written before manifests recorded a group get one derived from what they hold.
import { createHash } from 'node:crypto';

export interface GroupScope {
  containers: boolean;
  volumes: boolean;
  networks: boolean;
}

/** How a backup was chosen (what BackupRequest asked for). */
export interface GroupSelection {
  schedule?: string;
  backupSet?: string;
  /** Compose projects (-P) */
  projects?: readonly string[];
  containers?: readonly string[];
  volumes?: readonly string[];
  networks?: readonly string[];
  /** the effective scope of the run */
  scope: GroupScope;
}

/** Longer keys keep a readable head and a hash of the whole, so distinct selections stay distinct. */
const MAX_KEY = 60;

const sorted = (xs: readonly string[] | undefined) => [...new Set(xs ?? [])].sort();
const shortHash = (s: string, n: number) => createHash('sha256').update(s).digest('hex').slice(0, n);

function scopeSuffix(s: GroupScope): string {
  if (s.containers && s.volumes && s.networks) return '';
  if (s.containers && s.volumes) return '/no-networks';
  if (s.containers && !s.volumes) return s.networks ? '/config-only' : '/config-only,no-networks';
  if (s.volumes && !s.networks) return '/volumes-only';
  const kinds = (['containers', 'volumes', 'networks'] as const).filter((k) => s[k]);
  return `/${kinds.join('+') || 'nothing'}`;
}

function bounded(key: string): string {
  return key.length <= MAX_KEY ? key : `${key.slice(0, MAX_KEY - 14)}…#${shortHash(key, 12)}`;
}

function listing(parts: [string, readonly string[] | undefined][]): string {
  return parts
    .map(([label, names]) => [label, sorted(names)] as const)
    .filter(([, names]) => names.length > 0)
    .map(([label, names]) => `${label}${names.join(',')}`)
    .join('+');
}

/** The group key of a backup made now. */
export function groupKey(sel: GroupSelection): string {
  const suffix = scopeSuffix(sel.scope);
  if (sel.schedule) return bounded(`schedule:${sel.schedule}${suffix}`);
  if (sel.backupSet) return bounded(`set:${sel.backupSet}${suffix}`);
  const explicit = listing([
    ['project:', sel.projects],
    ['containers:', sel.containers],
    ['volumes:', sel.volumes],
    ['networks:', sel.networks],
  ]);
  return bounded(`${explicit || 'all'}${suffix}`);
}

const isStr = (x: unknown): x is string => typeof x === 'string';
const obj = (x: unknown): Record<string, unknown> =>
  x !== null && typeof x === 'object' && !Array.isArray(x) ? (x as Record<string, unknown>) : {};
const arr = (x: unknown): unknown[] => (Array.isArray(x) ? x : []);

/** A group key read back from a manifest or a remote's retention.json: plain printable text only. */
export function isGroupKey(x: unknown): x is string {
  return isStr(x) && x.length > 0 && x.length <= 200 && !/[\u0000-\u001f\u007f]/.test(x);
}

/**
 * The group of a manifest: the one it records, else one derived from what it holds (the backup
 * set, else every item it stored or failed to store, by kind, plus the scope). Defensive: the
 * manifest may come from a remote and is not trusted to have any shape.
 */
export function manifestGroup(manifest: unknown): string {
  const m = obj(manifest);
  if (isGroupKey(m.group)) return m.group;
  const scopeRaw = obj(m.scope);
  const scope: GroupScope = {
    containers: scopeRaw.containers !== false,
    volumes: scopeRaw.volumes !== false,
    networks: scopeRaw.networks !== false,
  };
  if (isStr(scopeRaw.backupSet) && scopeRaw.backupSet) return groupKey({ backupSet: scopeRaw.backupSet, scope });
  const names: Record<string, string[]> = { container: [], volume: [], network: [] };
  for (const i of [...arr(m.items), ...arr(m.errors)].map(obj))
    if (isStr(i.kind) && isStr(i.name) && names[i.kind]) names[i.kind]!.push(i.name);
  const held = listing([
    ['containers=', names.container],
    ['volumes=', names.volume],
    ['networks=', names.network],
  ]);
  return bounded(`items:${held || 'none'}${scopeSuffix(scope)}`);
}

/**
 * What an encrypted remote's retention.json records instead of the key: the key's names (set,
 * schedule, containers) are not written there in the clear. Not a secret against guessing (the
 * names of volumes and containers are visible in the remote's file names anyway), but it does
 * not hand them out either. Deterministic, so every backup of a group maps to the same value.
 */
export function hashedGroup(key: string): string {
  return key.startsWith('h:') ? key : `h:${shortHash(`bbackup retention group\0${key}`, 16)}`;
}
