// Presenters are pure: state in, text out. Both themes (unicode+colour, ASCII without colour).
import { describe, expect, it } from 'vitest';
import type { ContainerInfo, VolumeInfo } from '../../src/docker/inventory.js';
import type { Manifest } from '../../src/store/manifest.js';
import { restoreConfirmLines, itemRowText } from '../../screens/presenters/backups.js';
import {
  barChart,
  headerLine,
  helpLines,
  noticeLine,
  rateSeries,
  rateTitle,
  scheduleLines,
  statusLine,
} from '../../screens/presenters/chrome.js';
import { clip, fit, gaugeBar, idTime, percent } from '../../screens/presenters/format.js';
import { formLines, formValues, type FormRow } from '../../screens/presenters/form.js';
import { containerRow, detailLines, matchesFilter, volumeRow } from '../../screens/presenters/inventory.js';
import { jobLines, jobTotals, overallLine } from '../../screens/presenters/jobs.js';
import { remoteStatsText } from '../../screens/presenters/remotes.js';
import { initialState, type JobView } from '../../screens/state/types.js';
import { parseConfigObject } from '../../src/config/load.js';
import { makeTheme } from '../../screens/theme.js';
import { BINDINGS } from '../../screens/keys.js';
import { TOUR, TOUR_TITLE, tourRows } from '../../screens/tour.js';
import { restoreRequest, restoreRows } from '../../screens/flows/restore-form.js';

const uni = makeTheme({ color: true, unicode: true });
const ascii = makeTheme({ color: false, unicode: false });
const strip = (s: string) => s.replace(/\{[^{}]*\}/g, '');

const job = (over: Partial<JobView> = {}): JobView => ({
  id: 'j1',
  kind: 'backup',
  title: 'backup vm',
  itemCount: 2,
  items: [
    { name: 'volume a', kind: 'volume', state: 'running', bytes: 50, total: 100, rate: 10, eta: 5 },
    { name: 'volume b', kind: 'volume', state: 'queued', bytes: 0, total: 100 },
  ],
  paused: false,
  started: 0,
  ...over,
});

describe('format', () => {
  it.each([
    { f: 0, w: 4, out: '░░░░' },
    { f: 0.5, w: 4, out: '██░░' },
    { f: 1.7, w: 4, out: '████' },
    { f: undefined, w: 3, out: '░░░' },
  ])('gaugeBar($f, $w)', ({ f, w, out }) => expect(gaugeBar(f, w, uni)).toBe(out));
  it('ASCII gauge', () => expect(gaugeBar(0.5, 4, ascii)).toBe('##--'));
  it('fit pads and clips', () => {
    expect(fit('ab', 4)).toBe('ab  ');
    expect(fit('abcdef', 4)).toBe('abc~');
    expect(clip('abcdef', 10)).toBe('abcdef');
  });
  it('percent and idTime', () => {
    expect(percent(0.505)).toBe(' 50%');
    expect(percent(undefined)).toBe('  -%');
    expect(idTime('20261124T230501Z-2')).toBe('2026-11-24 23:05:01Z');
  });
});

describe('inventory rows', () => {
  const c: ContainerInfo = {
    name: 'web',
    id: 'x',
    image: 'nginx:1',
    state: 'running',
    status: 'Up',
    created: '',
    mounts: [],
    networks: [],
    labels: {},
  };
  const v: VolumeInfo = { name: 'data', driver: 'local', mountpoint: '/m', size: 1536, labels: {}, usedBy: ['web'] };
  it('marks the selection and colours the state', () => {
    expect(strip(containerRow(c, true, 60, uni))).toMatch(/^\[x\] web +running +never +nginx:1/);
    expect(containerRow(c, false, 40, ascii)).toMatch(/^\[ \] web/);
    expect(containerRow(c, false, 40, uni)).toContain('{green-fg}');
    expect(containerRow(c, false, 40, ascii)).not.toContain('{green-fg}');
  });
  const at = (iso: string) => {
    const d = new Date(iso);
    return `${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
  };
  it.each([
    { name: 'never drilled', drill: undefined, text: 'never', color: 'gray' },
    { name: 'passed', drill: 'passed', text: `passed ${at('2026-11-30T12:00:00Z')}`, color: 'green' },
    { name: 'failed', drill: 'failed', text: `failed ${at('2026-11-30T12:00:00Z')}`, color: 'red' },
    { name: 'cancelled', drill: 'cancelled', text: `cancel ${at('2026-11-30T12:00:00Z')}`, color: 'yellow' },
  ] as const)('marks the last drill: $name', ({ drill, text, color }) => {
    const last = drill && { outcome: drill, finished: '2026-11-30T12:00:00Z', drill: 'd1', backup: 'b1' };
    const row = containerRow(c, false, 80, uni, last);
    expect(strip(row)).toMatch(new RegExp(`running +${text} +nginx:1`));
    expect(row).toContain(`{${color}-fg}${text}`);
    expect(detailLines(c, last).find((l) => l.startsWith('last drill'))).toMatch(
      drill
        ? new RegExp(`${drill} \\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2} \\(drill d1 of backup b1\\)`)
        : /never \(bbackup drill -C web\)/,
    );
  });
  it('shows a volume size and its users', () =>
    expect(strip(volumeRow(v, false, 50, uni))).toMatch(/data +1\.5 KB +web/));
  it('escapes tags in names', () =>
    expect(containerRow({ ...c, image: 'x{bold}' }, false, 60, ascii)).toContain('x{open}bold{close}'));
  it('details list mounts, networks and labels', () => {
    const lines = detailLines({
      ...c,
      mounts: [{ type: 'volume', source: 'data', destination: '/d', readOnly: true }],
      labels: { a: 'b' },
    });
    expect(lines).toContain('  volume data -> /d (ro)');
    expect(lines).toContain('  a=b');
    expect(detailLines(v)).toContain('used by     web');
  });
  it('filters case-insensitively on any field', () => {
    expect(matchesFilter('WEB', 'web', 'nginx')).toBe(true);
    expect(matchesFilter('pg', 'web', 'nginx')).toBe(false);
    expect(matchesFilter('', 'x')).toBe(true);
  });
});

const MB = 1024 ** 2;

describe('jobs', () => {
  it('totals by bytes when every size is known', () => {
    const t = jobTotals(job());
    expect(t).toMatchObject({ bytes: 50, total: 200, rate: 10, fraction: 0.25, finished: 0, count: 2 });
  });
  it('uses size hints (the inventory) when the job announced no totals', () => {
    const j = job({ items: [{ name: 'volume a', kind: 'volume', state: 'running', bytes: 25, rate: 5 }] });
    expect(jobTotals(j).total).toBeUndefined();
    expect(jobTotals(j, new Map([['volume a', 100]]))).toMatchObject({ total: 100, fraction: 0.25 });
    expect(strip(jobLines(j, 80, uni, new Map([['volume a', 100]]))[1]!)).toMatch(/volume a .*█.* 25%/);
  });
  it('a paused job has no rate and says PAUSED', () => {
    expect(jobTotals(job({ paused: true })).rate).toBe(0);
    expect(strip(jobLines(job({ paused: true }), 80, uni)[0]!)).toContain('PAUSED');
  });
  it('lists running items first with a gauge, then queued, then finished', () => {
    const lines = jobLines(
      job({
        items: [
          ...job().items,
          { name: 'volume c', kind: 'volume', state: 'skipped', bytes: 0, detail: 'skipped by user' },
        ],
      }),
      80,
      uni,
    ).map(strip);
    expect(lines[1]).toMatch(/volume a .*█.* 50%/);
    expect(lines[2]).toMatch(/volume b +queued/);
    expect(lines[3]).toMatch(/volume c +↷ skipped skipped by user/);
  });
  it('an upload row says what was sent and what the remote already had, as the pane width allows', () => {
    const running = job({
      items: [
        {
          name: 'upload nas',
          kind: 'upload',
          state: 'running',
          bytes: 5 * MB,
          total: 10 * MB,
          sent: MB,
          skipped: 4 * MB,
        },
      ],
    });
    const lines = jobLines(running, 70, uni).map(strip); // the jobs pane of a 120-column terminal
    expect(lines[1]).toMatch(/upload nas .* 50% /);
    expect(lines[2]).toBe('    sent 1.0 MB, 4.0 MB already there');
    expect(lines.every((l) => l.length <= 70)).toBe(true);
    const done = job({
      items: [
        {
          name: 'upload nas',
          kind: 'upload',
          state: 'done',
          bytes: 10 * MB,
          detail: 'sent 1.2 MB, 8.8 MB already there (1 pack)',
        },
      ],
    });
    // at the jobs pane width of a 120-column terminal nothing is cut
    expect(jobLines(done, 70, uni).map(strip).slice(1)).toEqual([
      expect.stringMatching(/^  upload nas +✓ done 10\.0 MB$/),
      '    sent 1.2 MB, 8.8 MB already there (1 pack)',
    ]);
  });
  it('an ended job shows its outcome and backup id', () => {
    const line = strip(jobLines(job({ ended: 10, outcome: 'partial', backupId: '20261124T230501Z' }), 100, uni)[0]!);
    expect(line).toMatch(/partial .* 20261124T230501Z/);
  });
  it('overall: bytes, total, elapsed and ETA over running jobs; idle hint without jobs', () => {
    const line = strip(overallLine([job({ started: 0 })], 100, 30_000, uni));
    expect(line).toMatch(/Overall .* 25%\s+50 B \/ 200 B\s+elapsed 0:30\s+ETA 0:15/);
    expect(strip(overallLine([], 100, 0, uni))).toContain('idle');
  });
});

describe('chrome', () => {
  const state = initialState(parseConfigObject({}), {
    name: 'prod-1',
    docker: '20.10',
    store: '/var/backups',
    freePercent: 62,
  });
  it('header names host, docker, store and free space', () => {
    expect(strip(headerLine(state, 'dashboard', Date.UTC(2026, 0, 1, 12, 0), 120, uni))).toMatch(
      /host prod-1 · docker 20\.10 · store \/var\/backups \(62% free\)/,
    );
  });
  it('status line keeps to the width and starts with the screen keys', () => {
    const s = strip(statusLine('dashboard', 60, uni));
    expect(s.length).toBeLessThanOrEqual(60);
    expect(s).toMatch(/^ Space select/);
    expect(strip(statusLine('backups', 200, uni))).toMatch(/R restore .*V verify/);
  });
  it('help lists every binding of the screen, the list keys and the global ones', () => {
    const text = helpLines('remotes', ascii).map(strip).join('\n');
    expect(text).toContain('pull (fetch)');
    expect(text).toContain('filter the focused list');
    expect(text).toContain('quit (asks first');
    expect(text).not.toContain('back up the selection');
  });
  it("help lists the dialogs' keys from the table (Enter confirms, Space toggles, Tab moves)", () => {
    const text = helpLines('dashboard', ascii).map(strip).join('\n');
    expect(text).toContain('In a form dialog');
    expect(text).toMatch(/Enter +confirm: press the focused button, else the default one/);
    expect(text).toMatch(/Space +tick \/ untick the focused box/);
    expect(text).toMatch(/Tab Down j +next field/);
    expect(text).toMatch(/A +allow the privileges listed and restore \(Enter does not\)/);
  });
  it('help starts with the first steps the demo prints, one list for both', () => {
    const help = helpLines('backups', ascii).map(strip);
    expect(help[0]).toBe(TOUR_TITLE);
    expect(help.slice(1, 1 + TOUR.length)).toEqual(tourRows());
    // fits the help box at 80 columns without wrapping
    for (const row of tourRows()) expect(row.length).toBeLessThanOrEqual(74);
    expect(TOUR.map((s) => s.key)).toEqual(expect.arrayContaining(['B', 'L', 'O', 'C', 'T', 'H']));
  });
  it.each(TOUR.map((s) => [s.key]))('tour key %s is a key of the table', (key) => {
    const bound = BINDINGS.filter((b) => b.label.split(' ').includes(key) && b.keys.includes(key.toLowerCase()));
    expect(bound.length, `no binding for ${key}`).toBeGreaterThan(0);
  });
  it('notice lines fold newlines and colour by level', () => {
    const line = noticeLine({ time: 0, level: 'error', msg: 'a\n  b' }, 80, uni);
    expect(strip(line)).toMatch(/ERROR a \| b$/);
    expect(line).toContain('{red-fg}');
  });
  it('rate series picks a unit from the peak and pads to the width', () => {
    const s = rateSeries([0, 2 * 1024 * 1024, 1024 * 1024], 5);
    expect(s.unit).toBe('MB/s');
    expect(s.y).toEqual([0, 0, 0, 2, 1]);
    expect(s.max).toBe('2.0 MB/s');
    expect(s.now).toBe('1.0 MB/s');
  });
  it.each([
    [[], 120, 'Transfer rate, last 120 s: idle'],
    [[0, 0, 0], 120, 'Transfer rate, last 120 s: idle'],
    [[0, 2 * 1024 * 1024, 1024 * 1024], 5, 'Transfer rate in MB/s, last 5 s: now 1.0 MB/s, peak 2.0 MB/s'],
    [[512 * 1024, 0], 60, 'Transfer rate in KB/s, last 60 s: now 0 B/s, peak 512 KB/s'],
  ])('rate chart title for %j over %i s', (rates, points, title) => {
    const text = rateTitle(rateSeries(rates, points), points);
    expect(text).toBe(title);
    // no unit without a number in front of it, no separator glyph a terminal may draw as ~
    expect(text.replace(/(\d+(\.\d+)? |in )[KMG]?B\/s/g, '')).not.toContain('B/s');
    expect(text).not.toMatch(/[·~]/);
  });
  it('schedules: next runs and the last result', () => {
    const lines = scheduleLines(
      {
        statePath: '/s',
        daemon: null,
        schedules: [
          {
            name: 'nightly',
            enabled: true,
            cron: '0 3 * * *',
            host: null,
            what: 'set db',
            next: ['2026-11-26T03:00:00.000Z'],
            last: { lastStatus: 'failed' as never, lastEnd: 'T', lastError: 'disk full' },
            inProgress: false,
          },
        ],
      },
      ascii,
    ).map(strip);
    expect(lines).toEqual([
      'no daemon has run (bbackup daemon, or the systemd timers)',
      '',
      'nightly  0 3 * * *  set db',
      '  next  2026-11-26T03:00:00.000Z',
      '  last  failed at T: disk full',
    ]);
  });
  it('bar chart draws columns scaled to the peak', () => {
    expect(barChart([1, 2], 3, 2, false)).toEqual(['  #', ' ##']);
    expect(barChart([], 2, 1, true)).toEqual(['  ']);
  });
});

describe('forms', () => {
  const rows: FormRow[] = [
    { type: 'heading', text: 'Scope' },
    { type: 'toggle', id: 'volumes', label: 'volumes', value: true },
    { type: 'choice', id: 'mode', label: 'Mode', options: ['incremental', 'full'], index: 1 },
    { type: 'text', id: 'as', label: 'restore as', value: '', placeholder: 'web' },
    { type: 'button', id: 'go', label: 'Start' },
  ];
  it('values of toggles, choices and texts', () =>
    expect(formValues(rows)).toEqual({ volumes: true, mode: 'full', as: '' }));
  it('draws the cursor row inverse and a field being edited with a caret', () => {
    const lines = formLines(rows, 3, true, ascii);
    expect(lines[3]).toBe('{inverse}  restore as: _{/inverse}');
    expect(lines[1]).toBe('  [x] volumes');
    expect(lines[2]).toBe('  Mode: ( ) incremental  (*) full');
    expect(formLines(rows, 1, false, ascii)[3]).toBe('  restore as: web');
  });
});

describe('restore dialog and confirmation', () => {
  const m: Manifest = {
    format: 1,
    id: '20261124T230501Z',
    host: 'vm',
    created: '',
    finished: '',
    tool: { name: 'bbackup', version: '0' },
    status: 'complete',
    scope: { containers: true, volumes: true, networks: true },
    compression: { method: 'zstd', level: 3 },
    encrypted: false,
    items: [
      { kind: 'container', name: 'web', id: 'c', image: 'nginx', state: 'running', files: [] },
      {
        kind: 'volume',
        name: 'data',
        driver: 'local',
        labels: {},
        options: {},
        usedBy: ['web'],
        format: 'tree',
        bytes: 10,
        fileCount: 1,
        files: [],
      },
      { kind: 'metadata', name: 'metadata', files: [] },
    ],
    errors: [],
  };
  it('one toggle and one name per item, force off, start on', () => {
    const rows = restoreRows(m);
    expect(rows.filter((r) => r.type === 'toggle').map((r) => (r as { id: string }).id)).toEqual([
      'container:web',
      'volume:data',
      'force',
      'start',
    ]);
  });
  it('builds the request with per-kind renames, leaving unticked items out', () => {
    const req = restoreRequest(m, {
      'container:web': true,
      'as:container:web': 'web2',
      'volume:data': false,
      'as:volume:data': 'x',
      force: false,
      start: true,
    });
    expect(req).toMatchObject({
      id: m.id,
      containers: ['web'],
      volumes: [],
      renames: { container: { web: 'web2' }, volume: {} },
      force: false,
      start: true,
    });
  });
  it('the confirmation lists exactly what is created and what replaced', () => {
    expect(
      restoreConfirmLines(
        { create: ['volume a'], replace: ['container b'], reuse: [], conflicts: [], problems: [], privileges: [] },
        true,
        ascii,
      ),
    ).toEqual(['Will be created:', '  volume a', 'Will be REPLACED (removed, then restored):', '  container b']);
    expect(
      restoreConfirmLines(
        { create: [], replace: [], reuse: [], conflicts: [], problems: [], privileges: [] },
        false,
        ascii,
      ),
    ).toEqual(['Nothing to restore.']);
  });
  it('privileges are listed last, highlighted, with text from the backup escaped', () => {
    const lines = restoreConfirmLines(
      {
        create: ['container c'],
        replace: [],
        reuse: [],
        conflicts: [],
        problems: [],
        privileges: ['container c: host path /{red-fg}x mounted at /x'],
      },
      false,
      uni,
    );
    expect(lines.slice(2)).toEqual([
      '{bold}{red-fg}PRIVILEGES on this host (1):{/red-fg}{/bold}',
      '{bold}{red-fg}  ! container c: host path /{open}red-fg{close}x mounted at /x{/red-fg}{/bold}',
    ]);
  });
  it('item rows say what each item is', () => {
    expect(itemRowText(m.items[1]!, 200)).toMatch(/^volume +data +10 B +1 files +tree +used by web/);
  });
});

describe('remote figures', () => {
  it.each([
    [undefined, ''],
    [{ loading: true as const }, 'counting...'],
    [{ error: 'no route' }, 'figures unavailable: no route'],
    [{ stats: { backups: 1, stored: 2048, logical: 2048, dedupRatio: 1 } }, '1 backup, 2.0 KB stored, dedup 1.00x'],
    [
      {
        stats: {
          backups: 2,
          stored: 3 * 1024 ** 2,
          logical: 6 * 1024 ** 2,
          dedupRatio: 2,
          wouldAdd: { bytes: 30 * 1024, of: 3 * 1024 ** 2, backup: 'x', sent: false },
        },
      },
      '2 backups, 3.0 MB stored, dedup 2.00x, new backup adds ~30.0 KB of 3.0 MB',
    ],
    [{ stats: { backups: 0, stored: 0, logical: 0 } }, '0 backups, 0 B stored, dedup -'],
  ])('%j', (entry, text) => {
    expect(remoteStatsText(entry)).toBe(text);
  });
});
