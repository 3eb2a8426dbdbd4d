// The rules that keep an archive inside its target folder. Checked for every entry before it is
// extracted; one bad entry refuses the whole volume (or pulled backup).
//
// A symlink itself may point anywhere: inside a volume it is data the container resolves in its own
// filesystem (`current -> /srv/releases/3` is common). What must never happen is a later entry
// being written *through* a symlink, or a hard link reaching a file outside the archive: those are
// the tricks that write outside the target.
//
// State, and why it is enough (memory must stay flat on archives with millions of entries):
// - the symlinks made so far (exact, as hashes): needed to refuse an entry below one, a symlink
//   replaced by something tar would follow, and a hard link through one. A hard link to a symlink
//   is a symlink too (link(2) does not follow it), so it joins the set.
// - the non-directory entries seen so far, in a fixed-size Bloom filter: a hard link must name one.
//   This rule is a diagnosis, not the safety net: every archive is extracted into a folder that
//   starts empty (a new volume, a new pull folder), so a link to anything the archive did not
//   make before it finds nothing and tar fails the whole restore. A rare false "seen" is harmless.

import { PathSet, SeenPaths, prefixHashes } from './path-set.js';
import { shown } from './tar-header.js';

export interface EntryProblem {
  entry: string;
  reason: string;
}

export interface EntryState {
  symlinks: PathSet;
  seen: SeenPaths;
}

export const newEntryState = (): EntryState => ({ symlinks: new PathSet(), seen: new SeenPaths() });

/** More symlinks than this and the archive is refused rather than tracked (16 bytes each). */
export const MAX_SYMLINKS = 8_000_000;

export interface Entry {
  /** latin1, as stored */
  path: string;
  /** tar typeflag; regular files are "0" */
  type: string;
  linkpath: string;
}

/** Types extracted as what they are; 3 and 4 (devices) get their own message, others are refused. */
const KNOWN = new Set(['0', '1', '2', '5', '6']);

/** "./a//b/" -> "a/b"; "" is the archive root. */
export function normalise(path: string): { path: string } | { problem: string } {
  if (path.startsWith('/')) return { problem: 'absolute path' };
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) return { problem: 'path contains a ".." component' };
  return { path: parts.join('/') };
}

export function checkEntry(entry: Entry, state: EntryState): EntryProblem | undefined {
  const fail = (reason: string): EntryProblem => ({ entry: shown(entry.path), reason });
  const n = normalise(entry.path);
  if ('problem' in n) return fail(n.problem);
  const path = n.path;
  if (entry.type === '3' || entry.type === '4')
    return fail(`${entry.type === '3' ? 'character' : 'block'} device node (never restored into a volume)`);
  if (!KNOWN.has(entry.type)) return fail(`unsupported tar entry type "${shown(entry.type)}"`);
  if (path === '' && entry.type !== '5') return fail('the archive root is not a directory');
  const hashes = prefixHashes(path);
  const self = hashes.at(-1)!;
  const via = hashes.slice(0, -1).findIndex((h) => state.symlinks.has(h));
  if (via >= 0)
    return fail(
      `goes through the symlink ${shown(
        path
          .split('/')
          .slice(0, via + 1)
          .join('/'),
      )} (would write outside the target)`,
    );
  if (path !== '' && state.symlinks.has(self) && entry.type !== '2')
    return fail(`replaces the symlink ${shown(path)} with a ${describe(entry.type)} (a later entry could follow it)`);
  let becomesSymlink = entry.type === '2';
  if (entry.type === '1') {
    const t = normalise(entry.linkpath);
    if ('problem' in t) return fail(`hard link to ${shown(entry.linkpath)}: ${t.problem}`);
    const target = prefixHashes(t.path);
    const through = target.slice(0, -1).findIndex((h) => state.symlinks.has(h));
    if (through >= 0)
      return fail(
        `hard link to ${shown(entry.linkpath)} goes through the symlink ${shown(
          t.path
            .split('/')
            .slice(0, through + 1)
            .join('/'),
        )}`,
      );
    becomesSymlink = state.symlinks.has(target.at(-1)!);
    if (!becomesSymlink && (t.path === '' || !state.seen.has(target.at(-1)!)))
      return fail(`hard link to ${shown(entry.linkpath)}, which is not an earlier file of this archive`);
  }
  if (becomesSymlink) {
    if (state.symlinks.size >= MAX_SYMLINKS) return fail(`more than ${MAX_SYMLINKS} symlinks: too many to check`);
    state.symlinks.add(self);
  }
  if (entry.type !== '5') state.seen.add(self);
  return undefined;
}

function describe(type: string): string {
  return type === '5' ? 'directory' : type === '1' ? 'hard link' : 'file';
}
