// A dialog as data: rows of toggles, choices, text fields and buttons. The form dialog moves a
// cursor over the interactive rows; this presenter draws them (pure, unit-tested).
import { esc, type Theme } from '../theme.js';

export type FormRow =
  | { type: 'heading'; text: string }
  | { type: 'info'; text: string }
  | { type: 'toggle'; id: string; label: string; value: boolean }
  | { type: 'choice'; id: string; label: string; options: string[]; index: number }
  | { type: 'text'; id: string; label: string; value: string; placeholder?: string }
  | { type: 'button'; id: string; label: string };

export type FormValues = Record<string, boolean | string>;

export const isInteractive = (r: FormRow): boolean => r.type !== 'heading' && r.type !== 'info';

export function formValues(rows: FormRow[]): FormValues {
  const out: FormValues = {};
  for (const r of rows) {
    if (r.type === 'toggle') out[r.id] = r.value;
    else if (r.type === 'choice') out[r.id] = r.options[r.index] ?? '';
    else if (r.type === 'text') out[r.id] = r.value;
  }
  return out;
}

export function formLines(rows: FormRow[], cursor: number, editing: boolean, t: Theme): string[] {
  return rows.map((r, i) => {
    const here = i === cursor;
    const line = rowText(r, here && editing, t);
    return here ? `{inverse}${line}{/inverse}` : line;
  });
}

function rowText(r: FormRow, editing: boolean, t: Theme): string {
  switch (r.type) {
    case 'heading':
      return t.bold(esc(r.text));
    case 'info':
      return `  ${esc(r.text)}`;
    case 'toggle':
      return `  ${r.value ? t.glyphs.on : t.glyphs.off} ${esc(r.label)}`;
    case 'choice':
      return `  ${esc(r.label)}: ${r.options.map((o, i) => (i === r.index ? `(${t.glyphs.run === '>' ? '*' : '•'}) ${esc(o)}` : `( ) ${esc(o)}`)).join('  ')}`;
    case 'text': {
      const shown = r.value || (editing ? '' : (r.placeholder ?? ''));
      return `  ${esc(r.label)}: ${esc(shown)}${editing ? '_' : ''}`;
    }
    case 'button':
      return `  < ${esc(r.label)} >`;
  }
}
