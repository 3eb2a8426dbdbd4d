// The transfer-rate chart: a blessed-contrib line over the last samples, its scale in the label.
// The canvas is sized when attached, so a new size means a new widget. Without colour (NO_COLOR;
// contrib always paints) or without unicode (braille dots), a text bar chart is drawn instead.
import blessed from 'blessed';
import contrib from 'blessed-contrib';
import { barChart, rateSeries, rateTitle } from '../presenters/chrome.js';
import type { Theme } from '../theme.js';
import type { Rect } from './pane.js';

export class RateChart {
  private widget?: blessed.Widgets.BoxElement;
  private rect?: Rect;
  private drawn = '';

  constructor(
    private readonly parent: blessed.Widgets.Node,
    private readonly theme: Theme,
  ) {}

  layout(r: Rect): void {
    if (this.rect && JSON.stringify(this.rect) === JSON.stringify(r)) return;
    this.rect = r;
    this.widget?.destroy();
    this.drawn = '';
    const base = { top: r.top, left: r.left, width: Math.max(12, r.width), height: Math.max(4, r.height), border: { type: 'line' as const }, label: ' Transfer rate ' };
    this.widget = this.canvas()
      ? (contrib.line({ ...base, showLegend: false, minY: 0, numYLabels: 3, xLabelPadding: 2, xPadding: 6, style: { line: 'cyan', text: 'white', baseline: 'white' } }) as blessed.Widgets.BoxElement)
      : blessed.box({ ...base, tags: false });
    // Appended after construction: the canvas is made on 'attach', which a `parent` option fires too early.
    this.parent.append(this.widget);
  }

  /** Redraws only when the samples changed. */
  sync(rates: number[]): void {
    const w = this.widget;
    if (!w || !this.rect) return;
    const points = Math.max(10, Math.min(120, (this.rect.width - 10) * 2));
    const series = rateSeries(rates, points);
    const key = `${rates.length}:${rates[rates.length - 1] ?? 0}:${points}`;
    if (key === this.drawn) return;
    this.drawn = key;
    w.setLabel(` ${rateTitle(series, points)} `);
    if (this.canvas()) {
      (w as unknown as { setData(d: unknown[]): void }).setData([{ title: 'rate', x: series.x, y: series.y, style: { line: 'cyan' } }]);
    } else {
      w.setContent(barChart(series.y, Math.max(1, Number(w.width) - 2), Math.max(1, Number(w.height) - 2), this.theme.unicode).join('\n'));
    }
  }

  private canvas(): boolean {
    return this.theme.unicode && this.theme.color;
  }

  destroy(): void {
    this.widget?.destroy();
  }
}
