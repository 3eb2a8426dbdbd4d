// The dashboard: containers, volumes and networks to pick from, the jobs with their gauges, the
// transfer-rate chart, the overall gauge and the error pane.
import blessed from 'blessed';
import type { NetworkInfo, VolumeInfo } from '../../src/docker/inventory.js';
import {
  containerPaneRow,
  detailLines,
  groupContainers,
  networkRow,
  volumeRow,
  type ContainerPaneRow,
} from '../presenters/inventory.js';
import { jobLines, overallLine } from '../presenters/jobs.js';
import { noticeLine } from '../presenters/chrome.js';
import type { Notice, TuiState } from '../state/types.js';
import type { Theme } from '../theme.js';
import { Pane, place, type Rect } from '../widgets/pane.js';
import { RateChart } from '../widgets/rate-chart.js';
import type { View } from './view.js';

export interface JobLine {
  key: string;
  text: string;
}

export class DashboardView implements View {
  readonly id = 'dashboard' as const;
  readonly root: blessed.Widgets.BoxElement;
  readonly containers: Pane<ContainerPaneRow>;
  readonly volumes: Pane<VolumeInfo>;
  readonly networks: Pane<NetworkInfo>;
  readonly jobs: Pane<JobLine>;
  readonly errors: Pane<Notice>;
  readonly panes;
  focus = 0;
  private readonly chart: RateChart;
  private readonly overall: blessed.Widgets.BoxElement;
  private selection: TuiState['selection'] = { containers: new Set(), volumes: new Set(), networks: new Set() };
  private freshness: TuiState['freshness'];
  private drills: TuiState['drills'] = new Map();

  constructor(
    screen: blessed.Widgets.Screen,
    private readonly theme: Theme,
  ) {
    this.root = blessed.box({ parent: screen, top: 1, left: 0, width: '100%', height: '100%-2' });
    const t = theme;
    this.containers = new Pane(
      this.root,
      {
        title: 'Containers',
        cursor: true,
        key: (r) => (r.kind === 'project' ? `project ${r.project}` : r.container.name),
        search: (r) =>
          r.kind === 'project'
            ? [r.project, ...r.members.map((c) => c.name)]
            : [r.container.name, r.container.image, r.container.state, r.project ?? ''],
        render: (r, w) =>
          containerPaneRow(
            r,
            this.selection.containers,
            w,
            t,
            (n) => this.drills.get(n),
            (n) => this.freshness?.[n],
          ),
        empty: 'no containers',
      },
      t,
    );
    this.volumes = new Pane(
      this.root,
      {
        title: 'Volumes',
        cursor: true,
        key: (v) => v.name,
        search: (v) => [v.name, ...v.usedBy],
        render: (v, w) => volumeRow(v, this.selection.volumes.has(v.name), w, t),
        empty: 'no volumes',
      },
      t,
    );
    this.networks = new Pane(
      this.root,
      {
        title: 'Networks',
        cursor: true,
        key: (n) => n.name,
        search: (n) => [n.name, n.driver],
        render: (n, w) => networkRow(n, this.selection.networks.has(n.name), w, t),
        empty: 'no networks',
      },
      t,
    );
    this.jobs = new Pane(
      this.root,
      {
        title: 'Jobs',
        cursor: false,
        key: (l) => l.key,
        search: (l) => [l.text],
        render: (l) => l.text,
        empty: 'no jobs yet: select with Space, then B',
      },
      t,
    );
    this.errors = new Pane(
      this.root,
      {
        title: 'Errors',
        cursor: false,
        follow: true,
        key: (n) => `${n.time}${n.msg}`,
        search: (n) => [n.msg],
        render: (n, w) => noticeLine(n, w, t),
        empty: 'no errors',
      },
      t,
    );
    this.panes = [this.containers, this.volumes, this.networks, this.jobs, this.errors];
    this.panes.forEach((p, i) => (p.index = i));
    this.chart = new RateChart(this.root, theme);
    this.overall = blessed.box({ parent: this.root, height: 1, tags: true });
  }

  layout(area: Rect): void {
    const { width: W, height: H } = area;
    const errH = Math.max(4, Math.floor(H * 0.18));
    const body = H - errH - 1;
    const leftW = Math.max(28, Math.floor(W * 0.4));
    const cH = Math.max(3, Math.ceil(body * 0.4));
    const vH = Math.max(3, Math.ceil(body * 0.35));
    place(this.containers.box, { top: 0, left: 0, width: leftW, height: cH });
    place(this.volumes.box, { top: cH, left: 0, width: leftW, height: vH });
    place(this.networks.box, { top: cH + vH, left: 0, width: leftW, height: Math.max(3, body - cH - vH) });
    const jH = Math.max(4, Math.ceil(body * 0.55));
    place(this.jobs.box, { top: 0, left: leftW, width: W - leftW, height: jH });
    this.chart.layout({ top: jH, left: leftW, width: W - leftW, height: Math.max(4, body - jH) });
    place(this.overall, { top: body, left: 0, width: W, height: 1 });
    place(this.errors.box, { top: body + 1, left: 0, width: W, height: errH });
  }

  sync(s: TuiState, now: number): void {
    this.selection = s.selection;
    this.freshness = s.freshness;
    this.drills = s.drills;
    this.containers.setRows(groupContainers(s.inventory.containers, s.collapsedProjects));
    this.volumes.setRows(s.inventory.volumes);
    this.networks.setRows(s.inventory.networks);
    const width = Math.max(20, Number(this.jobs.box.width) - 2);
    const lines: JobLine[] = [];
    const hints = new Map(
      s.inventory.volumes.filter((v) => v.size !== undefined).map((v) => [`volume ${v.name}`, v.size!]),
    );
    for (const job of [...s.jobs].reverse())
      jobLines(job, width, this.theme, hints).forEach((text, i) => lines.push({ key: `${job.id}:${i}`, text }));
    this.jobs.setRows(lines);
    this.errors.setRows(s.notices);
    this.chart.sync(s.rates);
    this.overall.setContent(overallLine(s.jobs, Number(this.overall.width), now, this.theme, hints));
    for (const p of this.panes) p.draw();
  }

  /** Enter: the details of the row under the cursor (what `onDetails` shows in a modal). */
  open(): void {
    if (this.focus === 0) {
      const row = this.containers.current();
      if (row?.kind === 'project') this.onFold?.(row.project);
      else if (row)
        this.onDetails?.(row.container.name, detailLines(row.container, this.drills.get(row.container.name)));
      return;
    }
    const row = [this.volumes, this.networks][this.focus - 1]?.current();
    if (row) this.onDetails?.(row.name, detailLines(row));
  }

  /** Enter on a Compose project's header: fold or unfold it */
  onFold?: (project: string) => void;

  onDetails?: (title: string, lines: string[]) => void;

  back(): boolean {
    const p = this.panes[this.focus];
    if (p?.filter) {
      p.setFilter('');
      return true;
    }
    return false;
  }
}
