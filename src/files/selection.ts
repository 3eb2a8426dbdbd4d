// Paths an operator names inside a volume (restore --path, the TUI's marks): relative, POSIX,
// no "..", no empty or "." parts. Checked here, before anything is read or written, so a bad
// path is a usage error that names it.
import { BbackupError } from '../errors.js';

/** "sub/dir/" -> "sub/dir"; refuses absolute paths, "..", "." and empty parts (exit 1). */
export function normalizeVolumePath(raw: string): string {
  const p = raw.replace(/\/+$/, '');
  const why = raw.startsWith('/')
    ? 'is absolute; give it relative to the volume root (e.g. etc/app.conf)'
    : p === '' || p === '.'
      ? 'names the whole volume; restore the volume itself instead (bbackup restore ID -V NAME)'
      : p.split('/').some((part) => part === '..')
        ? 'contains ".."; only paths inside the volume can be restored'
        : p.split('/').some((part) => part === '' || part === '.')
          ? 'has an empty or "." part; write it plainly (a/b, not a//b or a/./b)'
          : p.includes('\0')
            ? 'contains a NUL byte'
            : undefined;
  if (why) throw new BbackupError('USAGE', `path "${raw}" ${why}`, { path: raw });
  return p;
}

/** Whether `p` is `top` or lies under it. */
export const isUnder = (p: string, top: string): boolean => p === top || p.startsWith(`${top}/`);

/**
 * Normalised, without duplicates, and without paths inside another selected folder (restoring
 * "a" already brings back "a/b"); sorted, so parents come before children.
 */
export function normalizeSelection(raw: readonly string[]): string[] {
  if (raw.length === 0) throw new BbackupError('USAGE', 'no --path given: name at least one file or folder');
  const all = [...new Set(raw.map(normalizeVolumePath))].sort();
  return all.filter((p) => !all.some((q) => q !== p && isUnder(p, q)));
}

/** The parent folders of p, outermost first ("a/b/c" -> ["a", "a/b"]). */
export function parentsOf(p: string): string[] {
  const parts = p.split('/');
  return parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join('/'));
}
