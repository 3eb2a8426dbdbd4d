// Scale (issue 12): a volume of 1,000,000 small files (BENCH_SCALE_FILES) — a full tree backup
// against `rsync -aHAXS`, an incremental with nothing changed against `rsync --link-dest`, and
// bbackup's peak RSS (<= 200 MB) — then a 20 GiB sparse+dense mix (BENCH_SCALE_SPARSE_GIB), whose
// peak RSS must stay flat against a 1 GiB dense volume's. Each timed case runs
// BENCH_SCALE_REPEATS times (default 3; the median is reported): a million-file run takes minutes.
// bbackup runs from dist/ in its own process (bench/backup-child.mjs) so its own RSS is measured.
// Docker objects: bbt-sc-bench-*, removed after.
import { randomBytes } from 'node:crypto';
import { closeSync, ftruncateSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { benchDocker, median, report, round, say, timed } from './lib.js';

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
const files = Number(process.env.BENCH_SCALE_FILES ?? 1_000_000);
const sparseGib = Number(process.env.BENCH_SCALE_SPARSE_GIB ?? 20);
const repeats = Math.max(1, Number(process.env.BENCH_SCALE_REPEATS ?? 3));
const docker = benchDocker();
const root = process.cwd();

interface Run {
  seconds: number;
  maxRssMb: number;
  phases: Record<string, number | undefined>;
}

function backup(store: string, volume: string, full: boolean): Run {
  execFileSync('sync');
  const out = execFileSync(
    process.execPath,
    [join(root, 'bench/backup-child.mjs'), store, volume, 'tree', full ? 'full' : 'incremental'],
    { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 << 20 },
  );
  return JSON.parse(out.trim().split('\n').pop()!) as Run;
}

/** `rm -rf`: fs.rm of a million files takes minutes and gigabytes of memory in Node. */
const rmTree = (path: string): void => void execFileSync('rm', ['-rf', path]);

const mid = (runs: Run[]): Run => [...runs].sort((a, b) => a.seconds - b.seconds)[Math.floor(runs.length / 2)]!;
const note = (r: Run): string =>
  `RSS ${round(r.maxRssMb, 0)} MB; ms: ` +
  ['startMs', 'volumeMs', 'afterMs', 'walkMs', 'readMs', 'hashMs', 'writeMs', 'metadataMs', 'indexMs']
    .filter((k) => r.phases[k] !== undefined)
    .map((k) => `${k.replace(/Ms$/, '')} ${Math.round(r.phases[k]!)}`)
    .join(' ');

async function withVolume<T>(tag: string, fn: (src: string, name: string, work: string) => Promise<T>): Promise<T> {
  const name = `bbt-sc-bench-${tag}-${process.pid}`;
  await docker.createVolume({ Name: name, Labels: { 'bbackup.bench': '1' } });
  const work = await mkdtemp(join('/var/tmp', 'bbt-sc-bench-'));
  try {
    const src = ((await docker.getVolume(name).inspect()) as { Mountpoint: string }).Mountpoint;
    return await fn(src, name, work);
  } finally {
    rmTree(work);
    await docker
      .getVolume(name)
      .remove({ force: true })
      .catch(() => undefined);
  }
}

/** `files` small text files, 1,000 per folder, 40-240 bytes each, every one distinct. */
function generateSmall(dir: string): void {
  const pool = randomBytes(1 << 16).toString('base64');
  for (let i = 0; i < files; i++) {
    if (i % 1000 === 0) mkdirSync(join(dir, `d${i / 1000}`));
    const n = 40 + ((i * 7919) % 200);
    const at = (i * 131) % (pool.length - n);
    writeFileSync(join(dir, `d${Math.floor(i / 1000)}`, `f${i}.txt`), `${i} ${pool.slice(at, at + n)}\n`);
  }
}

/** A dense file of `bytes` random data. */
function dense(path: string, bytes: number): void {
  const block = randomBytes(MiB);
  const fd = openSync(path, 'w');
  for (let o = 0; o < bytes; o += MiB) {
    block.writeDoubleBE(o, 0); // every MiB distinct
    writeSync(fd, block);
  }
  closeSync(fd);
}

/** `gib` GiB of files: 1 GiB dense, the rest sparse (each 1 GiB file holds 1 MiB of data every 256 MiB). */
function generateSparseMix(dir: string, gib: number): void {
  dense(join(dir, 'dense.bin'), GiB);
  const block = randomBytes(MiB);
  for (let f = 0; f < gib - 1; f++) {
    const fd = openSync(join(dir, `sparse${f}.img`), 'w');
    for (let o = 0; o < GiB; o += 256 * MiB) {
      block.writeDoubleBE(f * GiB + o, 0);
      writeSync(fd, block, 0, MiB, o);
    }
    ftruncateSync(fd, GiB);
    closeSync(fd);
  }
}

async function millionFiles(): Promise<void> {
  await withVolume('files', async (src, name, work) => {
    say(`generating ${files} small files in ${name}…`);
    const t0 = Date.now();
    generateSmall(src);
    say(`generated in ${round((Date.now() - t0) / 1000, 1)} s; warming the page cache`);
    timed('rsync', ['-aHAXS', '--numeric-ids', `${src}/`, join(work, 'bare/')]);
    const tag = `${files.toLocaleString('en')} files`;

    const bareFull: number[] = [];
    const ours: Run[] = [];
    for (let r = 0; r < repeats; r++) {
      if (r > 0) bareFull.push(timed('rsync', ['-aHAXS', '--numeric-ids', `${src}/`, join(work, `bare${r}/`)]));
      ours.push(backup(join(work, 'store'), name, true));
      if (r > 0) rmTree(join(work, `bare${r}`));
    }
    // the first rsync warmed the cache and is the link-dest parent; with one repeat it is the timing too
    if (bareFull.length === 0)
      bareFull.push(timed('rsync', ['-aHAXS', '--numeric-ids', `${src}/`, join(work, 'bare-full/')]));
    const full = mid(ours);
    report({
      bench: 'scale',
      case: `full tree, ${tag} vs rsync -aHAXS`,
      value: round(full.seconds),
      unit: 's',
      baseline: round(median(bareFull)),
      ratio: round(full.seconds / median(bareFull)),
      target: '<= 1.15x',
      pass: full.seconds <= 1.15 * median(bareFull),
      note: note(full),
    });

    const bareInc: number[] = [];
    const inc: Run[] = [];
    for (let r = 0; r < repeats; r++) {
      bareInc.push(
        timed('rsync', [
          '-aHAXS',
          '--numeric-ids',
          `--link-dest=${join(work, 'bare')}`,
          `${src}/`,
          join(work, `inc${r}/`),
        ]),
      );
      rmTree(join(work, `inc${r}`));
      inc.push(backup(join(work, 'store'), name, false));
    }
    const i = mid(inc);
    const b = median(bareInc);
    report({
      bench: 'scale',
      case: `incremental, nothing changed, ${tag} vs rsync --link-dest`,
      value: round(i.seconds),
      unit: 's',
      baseline: round(b),
      ratio: round(i.seconds / b),
      target: '<= 1.3x',
      pass: i.seconds <= 1.3 * b,
      note: note(i),
    });
    const peak = Math.max(...ours.map((o) => o.maxRssMb), ...inc.map((o) => o.maxRssMb));
    report({
      bench: 'scale',
      case: `peak RSS of bbackup, ${tag}`,
      value: round(peak, 0),
      unit: 'MB',
      target: '<= 200 MB',
      pass: peak <= 200,
    });
  });
}

async function sparseMix(): Promise<void> {
  const denseRss = await withVolume('dense', async (src, name, work) => {
    dense(join(src, 'dense.bin'), GiB);
    return backup(join(work, 'store'), name, true).maxRssMb;
  });
  await withVolume('sparse', async (src, name, work) => {
    say(`generating a ${sparseGib} GiB sparse+dense mix…`);
    generateSparseMix(src, sparseGib);
    const bare = timed('rsync', ['-aHAXS', '--numeric-ids', `${src}/`, join(work, 'bare/')]);
    rmTree(join(work, 'bare'));
    const run = backup(join(work, 'store'), name, true);
    report({
      bench: 'scale',
      case: `full tree, ${sparseGib} GiB sparse+dense mix vs rsync -aHAXS`,
      value: round(run.seconds),
      unit: 's',
      baseline: round(bare),
      ratio: round(run.seconds / bare),
      target: '<= 1.15x',
      pass: run.seconds <= 1.15 * bare,
      note: note(run),
    });
    const growth = run.maxRssMb - denseRss;
    report({
      bench: 'scale',
      case: `peak RSS, ${sparseGib} GiB sparse+dense mix vs 1 GiB dense (${round(denseRss, 0)} MB)`,
      value: round(run.maxRssMb, 0),
      unit: 'MB',
      target: 'flat (< 20 MB more)',
      pass: growth < 20,
    });
  });
}

// BENCH_SCALE_FILES=0 runs the sparse mix alone
if (files > 0) await millionFiles();
await sparseMix();
process.exit(0); // dockerode's keep-alive agent
