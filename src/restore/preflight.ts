// Before anything on the engine is touched: every file the plan restores is checked against the
// manifest (unless --no-verify), and every volume archive is scanned entry by entry (always: that
// is a safety check, not an integrity one). Any finding refuses the whole restore.
// One exception, for speed (one read of each byte): when a restore only creates (nothing is
// replaced with --force), a tree volume restored on this machine is checked by bbcopy while it
// copies it (checkedOnCopy); here only its index file is checked. A mismatch found then undoes
// everything the restore created (src/restore/restore-job.ts): the outcome is the same refusal,
// with nothing changed. A restore that replaces anything checks every tree first, here, because
// what it removes cannot be put back.
import { BbackupError, describeError } from '../errors.js';
import { rel } from '../store/layout.js';
import { lstat } from 'node:fs/promises';
import { checkImageArchive } from './image.js';
import type { FileEntry, ImageItem, VolumeItem } from '../store/manifest.js';
import { checkArchive, compressionOf } from './archive-check.js';
import { sourcePath } from './volume.js';
import { checkFile, checkTree } from './verify.js';
import type { PlanItem, RestorePlan, VolumeMode } from './types.js';

/** sha256 of each archive as the preflight read it (by path in the backup), per plan: the extraction's read must match. */
const firstReads = new WeakMap<RestorePlan, Map<string, string>>();
export const checkedSha256 = (plan: RestorePlan, path: string): string | undefined => firstReads.get(plan)?.get(path);

export interface PreflightOptions {
  verify: boolean;
  signal: AbortSignal;
  onBytes: (n: number) => void;
  /** tree volumes whose content the copy checks (see checkedOnCopy); default none */
  onCopy?: (item: PlanItem) => boolean;
}

/** Where volumes are restored: decides which trees bbcopy can check while it copies. */
export interface CopyPlace {
  verify: boolean;
  localEngine: boolean;
  volumeMode: VolumeMode;
}

/** A tree volume created afresh on this machine (host or worker mode: bbcopy), by a restore that replaces nothing, is checked as it is copied. */
export function checkedOnCopy(plan: RestorePlan, item: PlanItem, p: CopyPlace): boolean {
  if (!p.verify || !p.localEngine || p.volumeMode === 'stream' || item.kind !== 'volume' || item.action !== 'create')
    return false;
  return volumeItem(plan, item.source).format === 'tree' && plan.items.every((i) => i.action !== 'replace');
}

/** Bytes the preflight reads, for progress. */
export function preflightBytes(
  plan: RestorePlan,
  verify: boolean,
  onCopy: (item: PlanItem) => boolean = () => false,
): number {
  let total = 0;
  if (verify) for (const img of plan.images) total += img.bytes;
  for (const item of plan.items) {
    if (item.dump && verify) total += file(dumpFiles(plan, item.source), item.dump.file)?.size ?? 0;
    if (item.kind !== 'volume' || item.action === 'reuse' || item.dumpFills) continue;
    const v = volumeItem(plan, item.source);
    if (v.format === 'archive') total += archiveEntry(v)?.size ?? 0;
    else if (verify && !onCopy(item)) total += v.bytes;
  }
  return total;
}

export async function preflight(plan: RestorePlan, o: PreflightOptions): Promise<void> {
  const integrity: string[] = [];
  const unsafe: string[] = [];
  const badImages: string[] = [];
  const damaged: string[] = [];
  for (const p of plan.projectFiles) {
    const m = plan.manifest.items.find((i) => i.kind === 'project' && i.name === p.project)!;
    for (const f of p.files)
      push(
        integrity,
        await checkFile(plan.backupDir, file(m.files, f.from), f.from, o.verify ? o : { signal: o.signal }),
      );
  }
  for (const img of plan.images) {
    const m = plan.manifest.items.find((i): i is ImageItem => i.kind === 'image' && i.name === img.id)!;
    const entry = m.files[0];
    const problem = !entry
      ? `image ${img.id}: the manifest lists no file`
      : o.verify
        ? await checkFile(plan.backupDir, entry, entry.path, o)
        : (await lstat(sourcePath(plan.backupDir, entry.path)).then(
              (s) => s.isFile(),
              () => false,
            ))
          ? undefined
          : `${entry.path}: missing`;
    push(integrity, problem);
    // `docker load` would apply tags written inside the archive: always checked, like volume archives
    if (!problem)
      await checkImageArchive(plan.backupDir, m, o.signal).catch((err: unknown) => {
        if (o.signal.aborted) throw err;
        badImages.push(describeError(err));
      });
  }
  for (const item of plan.items) {
    if (item.action === 'reuse' || item.action === 'conflict') continue;
    o.signal.throwIfAborted();
    const m = plan.manifest.items.find((i) => i.kind === item.kind && i.name === item.source)!;
    if (item.kind === 'container' && o.verify)
      push(
        integrity,
        await checkFile(
          plan.backupDir,
          file(m.files, rel.containerInspect(item.source)),
          rel.containerInspect(item.source),
          o,
        ),
      );
    if (item.kind === 'container' && item.dump && o.verify)
      push(
        integrity,
        await checkFile(plan.backupDir, file(dumpFiles(plan, item.source), item.dump.file), item.dump.file, o),
      );
    if (item.kind === 'network' && o.verify)
      push(
        integrity,
        await checkFile(plan.backupDir, file(m.files, rel.network(item.source)), rel.network(item.source), o),
      );
    if (item.kind !== 'volume' || item.dumpFills) continue; // made empty: the dump fills it
    const v = m as VolumeItem;
    if (v.format === 'archive') {
      const entry = archiveEntry(v);
      if (!entry) {
        integrity.push(`volume ${v.name}: the manifest lists no archive file`);
        continue;
      }
      const path = sourcePath(plan.backupDir, entry.path);
      const r = await checkArchive(path, v.compression ?? compressionOf(path), o).catch(
        (err: NodeJS.ErrnoException) => {
          if (err.code === 'ENOENT') return undefined;
          throw err;
        },
      );
      if (!r) {
        integrity.push(`${entry.path}: missing`);
        continue;
      }
      if (!firstReads.has(plan)) firstReads.set(plan, new Map());
      firstReads.get(plan)!.set(entry.path, r.sha256);
      if (o.verify && (r.size !== entry.size || r.sha256 !== entry.sha256))
        integrity.push(
          `${entry.path}: ${r.size} bytes sha256 ${r.sha256.slice(0, 12)}…, the manifest says ${entry.size} bytes sha256 ${entry.sha256.slice(0, 12)}…`,
        );
      // A damaged archive cannot be checked to its end, and tar might skip ahead to unchecked entries: always refused.
      if (r.damaged) damaged.push(`${entry.path}: ${r.damaged}`);
      for (const p of r.problems) unsafe.push(`volume ${v.name}: entry ${JSON.stringify(p.entry)}: ${p.reason}`);
      if (r.moreProblems > 0) unsafe.push(`volume ${v.name}: … and ${r.moreProblems} more unsafe entries`);
    } else if (o.verify) {
      const indexPath = rel.volumeIndex(v.name);
      const index = file(v.files, indexPath);
      const bad = await checkFile(plan.backupDir, index, indexPath);
      if (bad) {
        integrity.push(bad);
        continue;
      }
      if (o.onCopy?.(item)) continue;
      for (const p of await checkTree(
        sourcePath(plan.backupDir, rel.volumeTree(v.name)),
        sourcePath(plan.backupDir, indexPath),
        o,
      ))
        integrity.push(`volume ${v.name}: ${p}`);
    }
  }
  if (badImages.length > 0)
    throw refusal(
      `an image archive in backup ${plan.backupId} could change other images on this engine when loaded`,
      badImages,
    );
  if (unsafe.length > 0)
    throw refusal(`an archive in backup ${plan.backupId} has entries that could write outside their volume`, unsafe);
  if (damaged.length > 0)
    throw refusal(`an archive in backup ${plan.backupId} is damaged and cannot be checked`, [...damaged, ...integrity]);
  if (integrity.length > 0) throw mismatchRefusal(plan, integrity, o.verify);
}

const refusal = (what: string, list: string[], hint = '') =>
  new BbackupError('INTEGRITY', `refused: ${what}; nothing was restored${hint}:\n  ${list.join('\n  ')}`, {
    problems: list,
  });

/** The backup differs from its manifest (found here, or by bbcopy while it copied): nothing is restored. */
export const mismatchRefusal = (plan: RestorePlan, problems: string[], verify = true): BbackupError =>
  refusal(
    `backup ${plan.backupId} does not match its manifest`,
    problems,
    verify ? ' (--no-verify restores anyway)' : '',
  );
const file = (entries: FileEntry[], path: string) => entries.find((f) => f.path === path);
const dumpFiles = (plan: RestorePlan, container: string): FileEntry[] =>
  plan.manifest.items.find((i) => i.kind === 'dump' && i.name === container)?.files ?? [];

const push = (list: string[], problem: string | undefined) => void (problem ? list.push(problem) : undefined);

export function volumeItem(plan: RestorePlan, name: string): VolumeItem {
  return plan.manifest.items.find((i) => i.kind === 'volume' && i.name === name) as VolumeItem;
}

/** The archive file of an archive-format volume. */
export const archiveEntry = (v: VolumeItem): FileEntry | undefined =>
  v.files.find((f) => /\.tar(\.[a-z0-9]+)?$/.test(f.path)) ?? v.files[0];
