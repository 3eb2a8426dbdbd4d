// The form dialog; its keys are the 'form' scope of the key table (screens/keys.ts): Enter
// confirms (the focused button, else the default one), Space toggles, Tab and the arrows move,
// Esc cancels. The default button has the cursor when the dialog opens, so Enter right away does
// what the dialog is for. A focused text field takes typed letters (Space and j/k too) directly.
import type blessed from 'blessed';
import { dialogHints, type DialogTarget } from '../keys.js';
import { formLines, formValues, isInteractive, type FormRow, type FormValues } from '../presenters/form.js';
import type { Theme } from '../theme.js';
import { modalBox, printable, sizeBox, type Modal } from './modal.js';

export class FormModal implements Modal {
  readonly target: DialogTarget = { scope: 'form', dialog: this };
  private readonly box: blessed.Widgets.BoxElement;
  private cursor: number;
  private top = 0;
  /**
   * defaultButton: the id of the button Enter presses when the cursor is not on a button (default:
   * the first button); it has the cursor when the dialog opens.
   */
  constructor(
    readonly name: string,
    private readonly screen: blessed.Widgets.Screen,
    title: string,
    readonly rows: FormRow[],
    private readonly onButton: (id: string, values: FormValues) => void,
    private readonly onCancel: () => void,
    private readonly theme: Theme,
    private readonly defaultButton?: string,
  ) {
    this.box = modalBox(screen, title, theme);
    const first = rows.findIndex((r) => r.type === 'button' && (defaultButton === undefined || r.id === defaultButton));
    this.cursor = first >= 0 ? first : Math.max(0, rows.findIndex(isInteractive));
  }

  private row(): FormRow | undefined {
    return this.rows[this.cursor];
  }

  typed(_full: string, ch: string | undefined): boolean {
    const row = this.row();
    const c = printable(ch);
    if (row?.type !== 'text' || c === undefined) return false;
    row.value += c;
    return true;
  }

  /** Enter: the focused button, else the default one (with every field as it stands, text included). */
  confirm(): void {
    const row = this.row();
    if (row?.type === 'button') return this.press(row.id);
    const dflt = this.rows.find((r) => r.type === 'button' && (this.defaultButton ?? r.id) === r.id);
    if (dflt?.type === 'button') this.press(dflt.id);
  }

  /** Space: tick or untick a box, cycle a choice, press a button. */
  toggle(): void {
    const row = this.row();
    if (row?.type === 'toggle') row.value = !row.value;
    else if (row?.type === 'choice') this.cycle(1);
    else if (row?.type === 'button') this.press(row.id);
  }

  cycle(by: 1 | -1): void {
    const row = this.row();
    if (row?.type === 'choice') row.index = (row.index + row.options.length + by) % row.options.length;
  }

  /** Moves the cursor `by` interactive rows (clamped at the ends). */
  step(by: number): void {
    const d = Math.sign(by);
    let left = Math.abs(by);
    for (let i = this.cursor + d; i >= 0 && i < this.rows.length && left > 0; i += d) {
      if (isInteractive(this.rows[i]!)) {
        this.cursor = i;
        left--;
      }
    }
  }

  erase(): void {
    const row = this.row();
    if (row?.type === 'text') row.value = row.value.slice(0, -1);
  }

  clearText(): void {
    const row = this.row();
    if (row?.type === 'text') row.value = '';
  }

  cancel(): void {
    this.onCancel();
  }

  private press(id: string): void {
    this.onButton(id, formValues(this.rows));
  }

  draw(): void {
    const lines = formLines(this.rows, this.cursor, this.row()?.type === 'text', this.theme);
    const all = [...lines, '', this.theme.paint('gray', dialogHints('form', undefined, '  '))];
    sizeBox(this.box, this.screen, all, 50);
    const h = Number(this.box.height) - 2;
    if (this.cursor < this.top) this.top = this.cursor;
    if (this.cursor >= this.top + h - 2) this.top = this.cursor - h + 3;
    this.top = Math.max(0, Math.min(this.top, all.length - h));
    this.box.setContent(all.slice(this.top, this.top + h).join('\n'));
    this.box.setFront();
  }

  destroy(): void {
    this.box.destroy();
  }
}
