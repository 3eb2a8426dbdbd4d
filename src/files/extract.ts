// The selected paths of a saved volume, extracted into an empty private staging folder with GNU
// tar as root (owners by number, modes, ns times, xattrs, ACLs), then checked entry by entry
// against the saved listing (type, size, sha256, mode, owner, link target). Tree: the snapshot's
// entries are packed here and unpacked into staging. Archive: the stored archive is read through
// the restore gate (src/restore/archive-check.ts) and tar is given the member names, so only
// approved entries reach tar and none can land outside the staging folder.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { execa, type Result } from 'execa';
import { BbackupError, lastLines } from '../errors.js';
import type { VolumeItem } from '../store/manifest.js';
import { checkedTar, compressionOf } from '../restore/archive-check.js';
import { TAR_EXTRACT, tarCreateArgs } from '../restore/tar-args.js';
import { storedFile, treeFolder, type ListedEntry } from './listing.js';

const TAR_ENV = { LC_ALL: 'C' };

export interface StageOptions {
  backupDir: string;
  item: VolumeItem;
  staging: string;
  /** the selected entries (tops) and everything under them, from the listing */
  entries: ListedEntry[];
  /** the selected paths (tops) */
  tops: string[];
  signal?: AbortSignal;
}

export async function stageEntries(o: StageOptions): Promise<void> {
  if (o.item.format === 'tree') await stageFromTree(o);
  else await stageFromArchive(o);
  await checkStaged(o);
}

async function stageFromTree(o: StageOptions): Promise<void> {
  const pack = execa('tar', tarCreateArgs(treeFolder(o.backupDir, o.item), o.tops), {
    cancelSignal: o.signal,
    reject: false,
    stderr: 'pipe',
    buffer: { stdout: false },
    env: TAR_ENV,
  });
  const unpack = untar(o, pack.stdout, []);
  await settleAll([
    [unpack, 'tar -x'],
    [pack, 'tar -c'],
  ]);
}

async function stageFromArchive(o: StageOptions): Promise<void> {
  const file = storedFile(o.backupDir, o.item);
  const p = checkedTar(file, {
    method: o.item.compression ?? compressionOf(file),
    signal: o.signal,
    what: `the archive of volume ${o.item.name}`,
  });
  // a hard link needs its target extracted too (it may lie outside the selection; it is not placed)
  const members = new Set<string>();
  for (const e of o.entries) {
    if (o.tops.includes(e.p) && e.member) members.add(e.member);
    if (e.hardLinkTo !== undefined) {
      const target = o.entries.find((x) => x.p === e.hardLinkTo)?.member ?? `./${e.hardLinkTo}`;
      members.add(target);
    }
  }
  const run = untar(o, p.stream, [...members]).finally(p.consumerExited);
  const results = await Promise.allSettled([p.done, settleAll([[run, 'tar -x']])]);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

function untar(o: StageOptions, input: Readable, members: string[]) {
  return execa('tar', [...TAR_EXTRACT, '-C', o.staging, ...(members.length ? ['--', ...members] : [])], {
    input,
    env: TAR_ENV,
    cancelSignal: o.signal,
    forceKillAfterDelay: 3000,
    reject: false,
    stderr: 'pipe',
  });
}

async function settleAll(children: [PromiseLike<Result>, string][]): Promise<void> {
  for (const [child, tool] of children) {
    const r = await child;
    if (r.isCanceled) throw new BbackupError('CANCELLED', 'file restore cancelled');
    if (r.failed)
      throw new BbackupError(
        'TOOL_FAILED',
        `${tool} failed extracting the selected files: ${lastLines(String(r.stderr ?? ''), 10) || r.shortMessage}`,
        { command: r.command, exitCode: r.exitCode },
      );
  }
}

const MAX_SHOWN = 20;

/** Every staged entry under the selection equals its saved entry; nothing is missing. */
async function checkStaged(o: StageOptions): Promise<void> {
  const problems: string[] = [];
  for (const e of o.entries) {
    const why = await compareEntry(join(o.staging, e.p), e);
    if (why) problems.push(`${e.p}: ${why}`);
  }
  if (problems.length === 0) return;
  const shown = problems.slice(0, MAX_SHOWN);
  if (problems.length > shown.length) shown.push(`… and ${problems.length - shown.length} more`);
  throw new BbackupError(
    'INTEGRITY',
    `volume ${o.item.name}: the extracted files do not match the backup's index; nothing was written:\n  ${shown.join('\n  ')}`,
    { problems: problems.length },
  );
}

async function compareEntry(path: string, e: ListedEntry): Promise<string | undefined> {
  const st = await lstat(path, { bigint: true }).catch(() => undefined);
  if (!st) return 'missing after extraction';
  const t = st.isFile() ? 'f' : st.isDirectory() ? 'd' : st.isSymbolicLink() ? 'l' : 'o';
  if (t !== e.t) return `is of type ${t}, saved as ${e.t}`;
  if (t !== 'l' && Number(st.mode & 0o7777n) !== e.mode)
    return `mode ${Number(st.mode & 0o7777n).toString(8)}, saved ${e.mode.toString(8)}`;
  if (Number(st.uid) !== e.uid || Number(st.gid) !== e.gid) return `owner ${st.uid}:${st.gid}, saved ${e.uid}:${e.gid}`;
  if (t === 'l' && e.link !== undefined && (await readlink(path)) !== e.link) return 'link target differs';
  if (t === 'f') {
    if (e.size !== undefined && Number(st.size) !== e.size) return `size ${st.size}, saved ${e.size}`;
    if (e.sha256 && (await sha256File(path)) !== e.sha256) return 'content differs from the saved sha256';
  }
  return undefined;
}

export async function sha256File(path: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { signal }) as AsyncIterable<Buffer>) hash.update(chunk);
  return hash.digest('hex');
}
