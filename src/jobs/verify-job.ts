// `verify` as a step of the job runner (job.ts): each backup re-read and checked against its
// manifest (src/store/verify.ts), one item per backup, as a reader so rotation keeps it meanwhile.
// Every backup is checked whatever the ones before found; the outcome says how many did not match.
import { basename } from 'node:path';
import { BbackupError, describeError, toErrorInfo } from '../errors.js';
import type { Emit } from '../events.js';
import { withBackupReader } from '../store/readers.js';
import { verifyBackup, type VerifyReport } from '../store/verify.js';
import { startJob } from './job.js';
import type { JobError, JobHandle } from './types.js';

export type VerifyEntry = VerifyReport | { dir: string; error: string };

export interface VerifyValue {
  reports: VerifyEntry[];
  /** backups that did not check out (problems, or could not be read) */
  bad: number;
}

export interface VerifyJobOptions {
  emit?: Emit;
  signal?: AbortSignal;
  /** each backup's report as soon as it is checked */
  onReport?: (r: VerifyEntry) => void;
}

/** Verify backup folders of `store` (the local store root). */
export function startVerify(store: string, dirs: readonly string[], o: VerifyJobOptions = {}): JobHandle<VerifyValue> {
  const title = dirs.length === 1 ? `verify ${basename(dirs[0]!)}` : `verify ${dirs.length} backups`;
  return startJob<VerifyValue>(
    {
      kind: 'verify',
      title,
      pausable: false,
      run: async ({ jobId, emit, signal, start }) => {
        start(title, dirs.length);
        const reports: VerifyEntry[] = [];
        const errors: JobError[] = [];
        let files = 0;
        for (const dir of dirs) {
          const item = `backup ${basename(dir)}`;
          emit({ type: 'item.start', jobId, item, kind: 'file' });
          let entry: VerifyEntry;
          try {
            const r = await withBackupReader(
              store,
              dir,
              'verify',
              () =>
                verifyBackup(dir, {
                  signal,
                  progress: (bytes, total) => emit({ type: 'item.progress', jobId, item, bytes, total }),
                }),
              signal,
            );
            entry = r;
            files += r.files;
            if (r.problems.length === 0)
              emit({ type: 'item.done', jobId, item, bytes: r.bytes, detail: `${r.files} files match the manifest` });
            else {
              const first = r.problems
                .slice(0, 3)
                .map((p) => `${p.path} ${p.problem}`)
                .join('; ');
              const error = toErrorInfo(new BbackupError('INTEGRITY', `${r.problems.length} problem(s): ${first}`));
              errors.push({ item, ...error });
              emit({ type: 'item.failed', jobId, item, error });
            }
          } catch (err) {
            if (signal.aborted) throw err;
            entry = { dir, error: describeError(err) };
            errors.push({ item, ...toErrorInfo(err) });
            emit({ type: 'item.failed', jobId, item, error: toErrorInfo(err) });
          }
          reports.push(entry);
          o.onReport?.(entry);
        }
        const bad = errors.length;
        const summary =
          bad === 0
            ? dirs.length === 1
              ? `${files} files match the manifest`
              : `${dirs.length} backups match their manifests`
            : dirs.length === 1
              ? errors[0]!.message
              : `${bad} of ${dirs.length} backups do not match their manifests`;
        return {
          outcome: bad === 0 ? 'ok' : bad === dirs.length ? 'failed' : 'partial',
          value: { reports, bad },
          errors,
          summary,
        };
      },
    },
    { emit: o.emit, signal: o.signal },
  );
}
