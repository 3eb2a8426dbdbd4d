// The rules that keep an archive inside its target folder. Checked for every entry before anything
// is extracted; one bad entry refuses the whole volume, so nothing of a hostile archive lands.
//
// A symlink itself may point anywhere: inside a volume it is data the container resolves in its own
// filesystem (`current -> /srv/releases/3` is common). What must never happen is a later entry
// being written *through* a symlink, or a hard link reaching a file outside the archive: those are
// the tricks that write outside the target.

export interface EntryProblem {
  entry: string;
  reason: string;
}

export interface EntryState {
  /** normalised paths of symlinks seen so far */
  symlinks: Set<string>;
  /** normalised path -> type of every entry seen so far */
  nodes: Map<string, string>;
}

interface Entry {
  path: string;
  type: string;
  linkpath: string;
}

const KNOWN = new Set(['0', '\0', '1', '2', '5', '6', '7', 'S', 'D']);

/** "./a//b/" -> "a/b"; "" is the archive root. Returns undefined for absolute paths or `..`. */
export function normalise(path: string): { path: string } | { problem: string } {
  if (path.startsWith('/')) return { problem: 'absolute path' };
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) return { problem: 'path contains a ".." component' };
  return { path: parts.join('/') };
}

/** The symlink among the entry's parent folders, if any. */
function symlinkAncestor(path: string, symlinks: ReadonlySet<string>): string | undefined {
  const parts = path.split('/');
  for (let i = 1; i < parts.length; i++) {
    const prefix = parts.slice(0, i).join('/');
    if (symlinks.has(prefix)) return prefix;
  }
  return undefined;
}

export function checkEntry(entry: Entry, state: EntryState): EntryProblem | undefined {
  const shown = entry.path;
  const fail = (reason: string): EntryProblem => ({ entry: shown, reason });
  const n = normalise(entry.path);
  if ('problem' in n) return fail(n.problem);
  const path = n.path;
  if (entry.type === '3' || entry.type === '4') return fail(`${entry.type === '3' ? 'character' : 'block'} device node (never restored into a volume)`);
  if (!KNOWN.has(entry.type)) return fail(`unsupported tar entry type "${entry.type}"`);
  if (path === '' && entry.type !== '5') return fail('the archive root is not a directory');
  const via = symlinkAncestor(path, state.symlinks);
  if (via !== undefined) return fail(`goes through the symlink ${via} (would write outside the target)`);
  if (state.symlinks.has(path) && entry.type !== '2') return fail(`replaces the symlink ${path} with a ${describe(entry.type)} (a later entry could follow it)`);
  if (entry.type === '1') {
    const t = normalise(entry.linkpath);
    if ('problem' in t) return fail(`hard link to ${entry.linkpath}: ${t.problem}`);
    const through = symlinkAncestor(t.path, state.symlinks);
    if (through !== undefined) return fail(`hard link to ${entry.linkpath} goes through the symlink ${through}`);
    const kind = state.nodes.get(t.path);
    if (kind === undefined || kind === '5') return fail(`hard link to ${entry.linkpath}, which is not an earlier file of this archive`);
  }
  state.nodes.set(path, entry.type);
  if (entry.type === '2') state.symlinks.add(path);
  else state.symlinks.delete(path);
  return undefined;
}

function describe(type: string): string {
  return type === '5' ? 'directory' : type === '1' ? 'hard link' : 'file';
}
