// The archive scanner's memory on archives of millions of entries (issue 10, item 13): each run
// scans a generated tar stream (empty files in nested folders, plus a symlink and a hard link every
// 1000 entries) in a child process and reports its peak RSS. Flat means the 3M-entry run stays
// within a few MB of the 300k-entry run.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { report, round, say } from './lib.js';

const child = fileURLToPath(new URL('./archive-scan-child.ts', import.meta.url));

function run(entries: number): { rssMB: number; seconds: number } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', child, String(entries)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`archive-scan child failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { rssMB: number; seconds: number };
}

const small = run(300_000);
say(`300k entries: peak RSS ${small.rssMB} MB, ${small.seconds} s`);
const big = run(3_000_000);
say(`3M entries: peak RSS ${big.rssMB} MB, ${big.seconds} s`);
report({
  bench: 'archive-scan',
  case: 'peak RSS, 3M entries',
  value: big.rssMB,
  unit: 'MB',
  baseline: small.rssMB,
  ratio: round(big.rssMB / small.rssMB, 2),
  target: 'within 20 MB of 300k entries',
  pass: big.rssMB - small.rssMB < 20,
  note: 'baseline: same scan of 300k entries',
});
report({
  bench: 'archive-scan',
  case: 'scan time, 3M entries',
  value: big.seconds,
  unit: 's',
  target: 'informational',
  pass: true,
});
