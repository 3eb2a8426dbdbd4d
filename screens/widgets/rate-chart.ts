// The transfer-rate chart: a blessed-contrib line over the last samples, its scale in the label.
// The canvas is sized when attached, so a new size means a new widget. Without colour (NO_COLOR;
// contrib always paints) or without unicode (braille dots), a text bar chart is drawn instead.
// blessed-contrib is loaded after the first paint (it is the TUI's heaviest import): until it is
// there, the text bar chart stands in.
import blessed from 'blessed';
import type contribNs from 'blessed-contrib';
import { barChart, rateSeries, rateTitle } from '../presenters/chrome.js';
import type { Theme } from '../theme.js';
import type { Rect } from './pane.js';

let contrib: typeof contribNs | undefined;
let loading: Promise<unknown> | undefined;

export class RateChart {
  private widget?: blessed.Widgets.BoxElement;
  private rect?: Rect;
  private drawn = '';
  private rates: number[] = [];
  /** the widget is a contrib canvas (else the text chart) */
  private isCanvas = false;
  private destroyed = false;

  constructor(
    private readonly parent: blessed.Widgets.Node,
    private readonly theme: Theme,
  ) {}

  layout(r: Rect): void {
    if (this.rect && JSON.stringify(this.rect) === JSON.stringify(r)) return;
    this.rect = r;
    this.widget?.destroy();
    this.drawn = '';
    const base = {
      top: r.top,
      left: r.left,
      width: Math.max(12, r.width),
      height: Math.max(4, r.height),
      border: { type: 'line' as const },
      label: ' Transfer rate ',
    };
    if (this.canvas() && !contrib) this.loadContrib();
    this.isCanvas = this.canvas() && contrib !== undefined;
    this.widget =
      this.isCanvas && contrib
        ? (contrib.line({
            ...base,
            showLegend: false,
            minY: 0,
            numYLabels: 3,
            xLabelPadding: 2,
            xPadding: 6,
            style: { line: 'cyan', text: 'white', baseline: 'white' },
          }) as blessed.Widgets.BoxElement)
        : blessed.box({ ...base, tags: false });
    // Appended after construction: the canvas is made on 'attach', which a `parent` option fires too early.
    this.parent.append(this.widget);
  }

  /** Redraws only when the samples changed. */
  sync(rates: number[]): void {
    this.rates = rates;
    const w = this.widget;
    if (!w || !this.rect) return;
    const points = Math.max(10, Math.min(120, (this.rect.width - 10) * 2));
    const series = rateSeries(rates, points);
    const key = `${rates.length}:${rates[rates.length - 1] ?? 0}:${points}`;
    if (key === this.drawn) return;
    this.drawn = key;
    w.setLabel(` ${rateTitle(series, points)} `);
    if (this.isCanvas) {
      (w as unknown as { setData(d: unknown[]): void }).setData([
        { title: 'rate', x: series.x, y: series.y, style: { line: 'cyan' } },
      ]);
    } else {
      w.setContent(
        barChart(
          series.y,
          Math.max(1, Number(w.width) - 2),
          Math.max(1, Number(w.height) - 2),
          this.theme.unicode,
        ).join('\n'),
      );
    }
  }

  /** Once blessed-contrib is loaded, the chart is made again as a canvas and drawn. */
  private loadContrib(): void {
    loading ??= import('blessed-contrib').then((m) => (contrib = m.default));
    loading.then(
      () => {
        const r = this.rect;
        if (!r || !this.widget || this.destroyed || this.isCanvas) return;
        this.rect = undefined;
        this.layout(r);
        this.sync(this.rates);
        this.widget?.screen.render();
      },
      () => undefined, // no canvas then: the text chart stays
    );
  }

  private canvas(): boolean {
    return this.theme.unicode && this.theme.color;
  }

  destroy(): void {
    this.destroyed = true;
    this.widget?.destroy();
  }
}
