// `rotate` as a step of the job runner (job.ts): the retention policy applied to every host folder
// of the local store (each under its lock) and to the remotes. A remote that fails is reported
// and the others still rotate; the job then ends partial.
import type { Config } from '../config/schema.js';
import { describeError, toErrorInfo } from '../errors.js';
import type { Emit } from '../events.js';
import { listRemoteBackups } from '../remote/list.js';
import { openRemote, selectRemotes } from '../remote/open.js';
import { listHostFolders } from '../store/catalog.js';
import { fromSafeSegment, hostDir } from '../store/layout.js';
import { removeLeftovers } from '../store/leftovers.js';
import { acquireLock } from '../store/lock.js';
import { startJob } from './job.js';
import { canDecryptWith, logsOnly, policyFrom, rotateLocal, rotateRemote, type RotationReport } from './rotate.js';
import type { JobError, JobHandle } from './types.js';

export interface RotateRequest {
  config: Config;
  /** the local store root */
  store: string;
  dryRun: boolean;
  /** only these remotes and not the local store; undefined: the local store and every enabled remote */
  remotes?: string[];
  /** only these hosts; undefined: every host found */
  hosts?: string[];
}

export interface RotateValue {
  reports: RotationReport[];
  /** remotes that could not be rotated, with why */
  failures: { target: string; error: string }[];
}

export function startRotate(req: RotateRequest, o: { emit?: Emit; signal?: AbortSignal } = {}): JobHandle<RotateValue> {
  const title = `rotate${req.dryRun ? ' (dry run)' : ''}`;
  return startJob<RotateValue>(
    {
      kind: 'rotate',
      title,
      pausable: false,
      // a store that cannot be read or locked is the caller's error to report; a failing remote is not (partial)
      rejects: true,
      run: async ({ emit, signal, jobId, start }) => {
        start(title, 0);
        const { config, store, dryRun } = req;
        const policy = policyFrom(config.retention);
        const reports: RotationReport[] = [];
        const failures: RotateValue['failures'] = [];
        const errors: JobError[] = [];
        if (!req.remotes?.length) {
          for (const seg of await listHostFolders(store)) {
            const host = fromSafeSegment(seg);
            if (req.hosts && !req.hosts.includes(host)) continue;
            const folder = hostDir(store, host);
            // A dry run changes nothing, so it need not wait for a running backup.
            const lock = dryRun ? undefined : await acquireLock(folder, { signal });
            try {
              if (lock)
                for (const n of await removeLeftovers(folder))
                  emit({
                    type: 'log',
                    jobId,
                    level: 'info',
                    source: 'retention',
                    msg: `removed ${n} (left by a killed run)`,
                  });
              reports.push(await rotateLocal(folder, host, policy, { dryRun, signal, emit, jobId }));
            } finally {
              await lock?.release();
            }
          }
        }
        const canDecrypt = canDecryptWith(config.encryption);
        for (const name of selectRemotes(config, req.remotes?.length ? req.remotes : undefined)) {
          const remote = openRemote(config, name, { emit: logsOnly(emit), jobId });
          try {
            const hosts = req.hosts ?? [
              ...new Set((await listRemoteBackups(remote, signal)).backups.map((b) => b.host)),
            ];
            for (const host of hosts)
              reports.push(
                await rotateRemote(remote, host, policy, {
                  dryRun,
                  signal,
                  emit,
                  jobId,
                  localHostDir: hostDir(store, host),
                  canDecrypt,
                }),
              );
          } catch (err) {
            if (signal.aborted) throw err;
            failures.push({ target: name, error: describeError(err) });
            errors.push({ item: `remote ${name}`, ...toErrorInfo(err) });
          } finally {
            await remote.close();
          }
        }
        const removed = reports.reduce((n, r) => n + r.removed.length, 0);
        const summary = `${dryRun ? 'would remove' : 'removed'} ${dryRun ? reports.reduce((n, r) => n + r.plan.remove.length, 0) : removed} backup(s)${failures.length ? `; ${failures.length} remote(s) failed` : ''}`;
        return { outcome: failures.length > 0 ? 'partial' : 'ok', value: { reports, failures }, errors, summary };
      },
    },
    { emit: o.emit, signal: o.signal },
  );
}
