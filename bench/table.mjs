// The bench table in Markdown, from bench/results.json (what scripts/bench.sh writes): the same
// table `npm run bench` prints, for the README. Usage: node bench/table.mjs [bench/results.json]
import { readFileSync } from 'node:fs';

export function table(rows) {
  const cols = [
    ['bench', (r) => r.bench],
    ['case', (r) => r.case],
    ['bbackup', (r) => `${r.value} ${r.unit}`],
    ['bare tool', (r) => (r.baseline === undefined ? '' : `${r.baseline} ${r.unit}`)],
    ['ratio', (r) => (r.ratio === undefined ? '' : `${r.ratio}x`)],
    ['target', (r) => r.target],
    ['', (r) => (r.pass ? 'ok' : 'MISSED')],
    ['note', (r) => r.note ?? ''],
  ];
  // a "|" inside a cell (tar | zstd) would split the Markdown table
  const cells = rows.map((r) => cols.map(([, f]) => String(f(r)).replaceAll('|', '\\|')));
  const w = cols.map(([h], i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (v) => '| ' + v.map((x, i) => x.padEnd(w[i])).join(' | ') + ' |';
  return [line(cols.map(([h]) => h)), '|' + w.map((n) => '-'.repeat(n + 2)).join('|') + '|', ...cells.map(line)].join(
    '\n',
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const doc = JSON.parse(readFileSync(process.argv[2] ?? 'bench/results.json', 'utf8'));
  console.log(table(doc.rows));
  console.log(
    `\nRun ${doc.date.slice(0, 16).replace('T', ' ')} UTC on ${doc.cores} cores, load average ${doc.loadavg.before} before and ${doc.loadavg.after} after.`,
  );
}
