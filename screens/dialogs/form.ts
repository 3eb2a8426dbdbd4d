// The form dialog: Up/Down (j/k, Tab) move, Space toggles or cycles, Enter edits a text field or
// presses a button, Esc leaves a field being edited or closes the dialog.
import type blessed from 'blessed';
import { formLines, formValues, isInteractive, type FormRow, type FormValues } from '../presenters/form.js';
import type { Theme } from '../theme.js';
import { modalBox, sizeBox, type Modal } from './modal.js';

export class FormModal implements Modal {
  private readonly box: blessed.Widgets.BoxElement;
  private cursor: number;
  private editing = false;
  private top = 0;
  constructor(
    readonly name: string,
    private readonly screen: blessed.Widgets.Screen,
    title: string,
    readonly rows: FormRow[],
    private readonly onButton: (id: string, values: FormValues) => void,
    private readonly onCancel: () => void,
    private readonly theme: Theme,
    private readonly footer = 'Space toggle  Enter edit/press  Esc cancel',
  ) {
    this.box = modalBox(screen, title, theme);
    this.cursor = Math.max(0, rows.findIndex(isInteractive));
  }

  handleKey(full: string, ch: string | undefined): boolean {
    const row = this.rows[this.cursor];
    if (this.editing && row?.type === 'text') {
      if (full === 'enter' || full === 'escape' || full === 'tab') this.editing = false;
      else if (full === 'backspace') row.value = row.value.slice(0, -1);
      else if (ch && ch.length === 1 && ch > ' ' && ch !== '\x7f') row.value += ch;
      return true;
    }
    if (full === 'escape') this.onCancel();
    else if (full === 'down' || full === 'j' || full === 'tab') this.step(1);
    else if (full === 'up' || full === 'k' || full === 'S-tab') this.step(-1);
    else if (full === 'home') this.cursor = Math.max(0, this.rows.findIndex(isInteractive));
    else if (full === 'end') this.cursor = this.rows.length - 1 - [...this.rows].reverse().findIndex(isInteractive);
    else if (full === 'space' || full === 'enter' || full === 'left' || full === 'right') this.activate(full);
    return true;
  }

  private step(d: number): void {
    for (let i = this.cursor + d; i >= 0 && i < this.rows.length; i += d) {
      if (isInteractive(this.rows[i]!)) {
        this.cursor = i;
        return;
      }
    }
  }

  private activate(full: string): void {
    const row = this.rows[this.cursor];
    if (!row) return;
    if (row.type === 'toggle' && (full === 'space' || full === 'enter')) row.value = !row.value;
    else if (row.type === 'choice')
      row.index = (row.index + (full === 'left' ? row.options.length - 1 : 1)) % row.options.length;
    else if (row.type === 'text' && full === 'enter') this.editing = true;
    else if (row.type === 'button' && (full === 'enter' || full === 'space'))
      this.onButton(row.id, formValues(this.rows));
  }

  draw(): void {
    const lines = formLines(this.rows, this.cursor, this.editing, this.theme);
    const all = [...lines, '', this.theme.paint('gray', this.footer)];
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
