// Rows of the file browser (a saved volume's folders) and of a backup-vs-live diff, and the text
// of the file viewer: pure, so the unit tests read them without a terminal.
import type { DiffEntry } from '../../src/files/diff.js';
import type { ListedEntry } from '../../src/files/listing.js';
import { esc, type Theme } from '../theme.js';
import { clip, formatBytes } from './format.js';

/** Entries by parent folder ("" is the volume root), folders first, then by name. */
export function childrenByFolder(entries: readonly ListedEntry[]): Map<string, ListedEntry[]> {
  const out = new Map<string, ListedEntry[]>();
  for (const e of entries) {
    if (e.p === '') continue;
    const cut = e.p.lastIndexOf('/');
    const parent = cut < 0 ? '' : e.p.slice(0, cut);
    const list = out.get(parent) ?? [];
    list.push(e);
    out.set(parent, list);
  }
  for (const list of out.values())
    list.sort((a, b) => Number(b.t === 'd') - Number(a.t === 'd') || (a.p < b.p ? -1 : a.p > b.p ? 1 : 0));
  return out;
}

const baseName = (p: string) => p.slice(p.lastIndexOf('/') + 1);

/** "2026-12-02 09:19" from an mtime in ns. */
export const mtimeText = (ns: string): string =>
  new Date(Number(BigInt(ns) / 1_000_000n)).toISOString().slice(0, 16).replace('T', ' ');

export function fileRowText(e: ListedEntry, marked: boolean, width: number, t: Theme): string {
  const mark = marked ? t.paint('green', t.glyphs.on) : t.glyphs.off;
  const mode = e.mode.toString(8).padStart(4, '0');
  const owner = `${e.uid}:${e.gid}`.padEnd(11);
  const size = e.t === 'd' ? ''.padStart(9) : formatBytes(e.size ?? 0).padStart(9);
  const name = `${baseName(e.p)}${e.t === 'd' ? '/' : ''}${e.link !== undefined ? ` -> ${e.link}` : ''}`;
  return `${mark} ${e.t} ${mode} ${owner} ${size}  ${mtimeText(e.mtime)}  ${esc(clip(name, Math.max(8, width - 56)))}`;
}

export function diffRowText(d: DiffEntry, marked: boolean, width: number, t: Theme): string {
  const mark = marked ? t.paint('green', t.glyphs.on) : t.glyphs.off;
  const sign =
    d.change === 'added'
      ? t.paint('green', '+')
      : d.change === 'removed'
        ? t.paint('red', '-')
        : t.paint('yellow', '~');
  const what = d.change === 'changed' ? ` (${(d.fields ?? []).join(', ')})` : ` ${d.change}`;
  return `${mark} ${sign} ${esc(clip(`${d.path || '(volume root)'}${what}`, Math.max(8, width - 6)))}`;
}

/** The viewer's lines: text as it is, or (binary: a NUL or invalid UTF-8) a hex dump. */
export function viewerLines(bytes: Buffer, size: number): string[] {
  const more = size > bytes.length ? [`… ${formatBytes(size - bytes.length)} more not shown`] : [];
  const text = bytes.toString('utf8');
  const binary = bytes.includes(0) || Buffer.from(text, 'utf8').length !== bytes.length || text.includes('\uFFFD');
  if (!binary) return [...text.split('\n').map((l) => esc(l.replace(/\t/g, '    '))), ...more];
  const out: string[] = [];
  for (let off = 0; off < bytes.length; off += 16) {
    const row = bytes.subarray(off, off + 16);
    const hex = [...row].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    const ascii = [...row].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    out.push(esc(`${off.toString(16).padStart(8, '0')}  ${hex.padEnd(47)}  ${ascii}`));
  }
  return [...out, ...more];
}
