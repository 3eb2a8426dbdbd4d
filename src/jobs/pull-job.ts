// `pull` as a step of the job runner (job.ts): a remote backup downloaded into the local store,
// checked and decrypted (src/remote/pull.ts does the work; its downloads report their bytes).
import type { Config } from '../config/schema.js';
import { BbackupError } from '../errors.js';
import type { Emit } from '../events.js';
import { pullBackup, type PullOptions } from '../remote/pull.js';
import { startJob } from './job.js';
import type { JobHandle, JobResult } from './types.js';

export interface PullValue {
  /** the backup's folder in the local store */
  dir: string;
}

/** A failure rejects `done` with the error that names the remote and the file; cancel resolves 'cancelled'. */
export function startPull(
  config: Config,
  remote: string,
  id: string,
  o: Pick<PullOptions, 'store' | 'host' | 'ifExists'> & { emit?: Emit },
  jo: { signal?: AbortSignal } = {},
): JobHandle<PullValue> {
  const title = `pull ${id} from ${remote}`;
  return startJob<PullValue>(
    {
      kind: 'pull',
      title,
      pausable: false,
      rejects: true,
      run: async (ctx) => {
        ctx.start(title, 0);
        const dir = await pullBackup(config, remote, id, {
          ...o,
          emit: ctx.emit,
          signal: ctx.signal,
          jobId: ctx.jobId,
        });
        return { outcome: 'ok', value: { dir }, errors: [], summary: `into ${dir}` };
      },
    },
    { emit: o.emit, signal: jo.signal },
  );
}

/** The pulled backup of a finished pull job; a cancelled one is an error for callers that need the backup. */
export function pulled(r: JobResult<PullValue>): PullValue {
  if (r.outcome !== 'ok' || !r.value) throw new BbackupError('CANCELLED', 'pull cancelled');
  return r.value;
}
