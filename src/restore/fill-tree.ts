// A tree snapshot back into a fresh volume with bbcopy restore (README "The copy engine"): the
// same metadata rsync -aHAXS kept (owners, modes, ns times, xattrs, ACLs, hard links, holes;
// never device nodes), in one read of the snapshot. With `expect` (the snapshot's index), every
// entry is checked against the index as it is copied: its type, size, link target and the sha256
// of the bytes copied. Host mode runs bbcopy here; worker mode in a helper from the worker image.
import type Docker from 'dockerode';
import { BBCOPY_IN_IMAGE, bbcopyOutput, phasesOf, restoreArgs, runBbcopy, type TreeSummary } from '../backup/bbcopy.js';
import { BbackupError, lastLines } from '../errors.js';
import { runHelper, type HelperMount } from './helper.js';

export interface TreeFill {
  /** the snapshot folder */
  source: string;
  /** its index, when the copy checks it (the preflight did not) */
  expect?: string;
  /** the volume's name on the engine, and in the backup (for messages) */
  volume: string;
  sourceName: string;
  signal: AbortSignal;
  onBytes: (n: number) => void;
  /** a debug line: where bbcopy's time went (the bench's phase breakdown) */
  debug?: (msg: string) => void;
}

const MAX_SHOWN = 20;

/**
 * What the copy found, as the preflight words it ("volume <name in the backup>: <path>: <problem>").
 * The caller removes the volume; the restore job undoes the rest (src/restore/restore-job.ts).
 */
export class CopyMismatch extends BbackupError {
  constructor(
    volume: string,
    readonly problems: string[],
  ) {
    super('INTEGRITY', `volume ${volume} does not match its index:\n  ${problems.join('\n  ')}`, { problems });
  }
}

function mismatch(o: TreeFill, count: number, found: { p: string; problem: string }[]): CopyMismatch {
  const shown = found.slice(0, MAX_SHOWN).map((x) => `volume ${o.sourceName}: ${x.p || '(volume root)'}: ${x.problem}`);
  if (count > shown.length) shown.push(`volume ${o.sourceName}: … and ${count - shown.length} more`);
  return new CopyMismatch(o.sourceName, shown);
}

const logPhases = (o: TreeFill, s: TreeSummary) =>
  o.debug?.(`volume ${o.volume}: ${s.files} files, ${s.bytes} bytes; bbcopy ms ${JSON.stringify(phasesOf(s))}`);

export async function fillTreeHost(o: TreeFill, mountpoint: string): Promise<void> {
  let last = 0;
  const problems: { p: string; problem: string }[] = [];
  const { summary } = await runBbcopy<TreeSummary>(
    restoreArgs({ source: o.source, target: mountpoint, expect: o.expect }),
    { signal: o.signal, what: `volume ${o.volume} (restore)` },
    {
      progress: (bytes) => {
        if (bytes > last) o.onBytes(bytes - last);
        last = Math.max(last, bytes);
      },
      problem: (p) => problems.push(p),
    },
  );
  logPhases(o, summary);
  if (summary.problems > 0) throw mismatch(o, summary.problems, problems);
  if (summary.bytes > last) o.onBytes(summary.bytes - last);
}

export async function fillTreeWorker(
  o: TreeFill,
  docker: Docker,
  helper: { image: string; labels?: Record<string, string> },
): Promise<void> {
  const mounts: HelperMount[] = [
    { type: 'bind', source: o.source, target: '/backup', readOnly: true },
    { type: 'volume', source: o.volume, target: '/target' },
    ...(o.expect ? [{ type: 'bind' as const, source: o.expect, target: '/index.jsonl', readOnly: true }] : []),
  ];
  const cmd = [
    BBCOPY_IN_IMAGE,
    ...restoreArgs({ source: '/backup', target: '/target', expect: o.expect ? '/index.jsonl' : undefined }),
  ];
  // exit 3: it copied everything and found entries that differ from the index (X lines)
  const out = await runHelper(
    docker,
    { image: helper.image, labels: helper.labels, mounts, cmd, okExit: [0, 3] },
    o.signal,
  );
  const problems: { p: string; problem: string }[] = [];
  const parse = bbcopyOutput<TreeSummary>({ problem: (p) => problems.push(p) });
  parse.write(out);
  parse.end();
  const summary = parse.summary;
  if (!summary)
    throw new BbackupError('TOOL_FAILED', `bbcopy gave no summary restoring volume ${o.volume}: ${lastLines(out, 5)}`);
  logPhases(o, summary);
  if (summary.problems > 0) throw mismatch(o, summary.problems, problems);
  o.onBytes(summary.bytes);
}
