// The dump items of a backup run: one task per planned dump, queued with the container
// definitions (before the volumes, while the servers run as usual). A stopped container ends
// as a skip (NotRunning) unless its data volume was left out for the dump: then it fails.
import { isLocalEngine } from '../docker/client.js';
import { BbackupError } from '../errors.js';
import type { BackupPlan } from '../backup/types.js';
import type { Planned, RunEnv } from './backup-run.js';
import type { ManifestItem } from '../store/manifest.js';
import { NotRunning, runDump } from '../dump/run-dump.js';

export function dumpTasks(
  env: RunEnv,
  plan: BackupPlan,
  partial: string,
  items: ManifestItem[],
  bytes: Map<string, number>,
): Planned[] {
  const { deps } = env;
  const { jobId, emit } = env.ctx;
  const level = plan.compression.method === 'zstd' ? plan.compression.level : 3;
  return plan.dumps.map((d): Planned => {
    const item = `dump ${d.container}`;
    return {
      item,
      kind: 'dump',
      name: d.container,
      task: {
        item,
        run: async (t) => {
          if (d.error) throw new BbackupError('USAGE', d.error);
          if (d.skip) throw new NotRunning(d.container, d.state);
          try {
            const dump = await runDump(
              { container: d.container, engine: d.engine, path: d.path, dataDir: d.dataDir, only: d.only },
              partial,
              level,
              {
                docker: deps.docker.docker,
                signal: t.signal,
                localEngine: isLocalEngine(deps.docker.target),
                progress: (n) => emit({ type: 'item.progress', jobId, item, bytes: n }),
                log: (lvl, msg) => emit({ type: 'log', jobId, level: lvl, source: 'dump', msg }),
              },
            );
            items.push(dump);
            bytes.set(item, dump.bytes);
          } catch (err) {
            // Its data volume was left out for this dump: nothing else holds the data.
            if (err instanceof NotRunning && d.skipsVolumes.length > 0)
              throw new BbackupError(
                'DUMP_FAILED',
                `${err.message}, and its volume ${d.skipsVolumes.join(', ')} was left out for the dump (bbackup.dump.only): back it up again`,
              );
            throw err;
          }
        },
      },
    };
  });
}
