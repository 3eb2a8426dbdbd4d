// One bbackup backup in its own process from the BUILT engine (dist/, as the installed CLI runs),
// engine only, no printer, so the bench reads this process's own peak RSS (worker threads
// included; rsync/tar/zstd are separate processes). Prints {seconds, maxRssMb, outcome, id}.
import { parseConfigObject } from '../dist/src/config/load.js';
import { connectDocker, resolveDockerTarget } from '../dist/src/docker/client.js';
import { startBackup } from '../dist/src/jobs/backup-job.js';

const [store, volume, format, full] = process.argv.slice(2);
const config = parseConfigObject({
  backup: { store, volumes: { mode: 'host', format } },
  retention: { enabled: false },
});
const docker = await connectDocker(resolveDockerTarget(config, undefined, {}));
const t0 = process.hrtime.bigint();
const job = startBackup(
  {
    volumes: [volume],
    scope: { containers: false, volumes: true, networks: false },
    full: full === 'full',
    remotes: [],
  },
  { config, docker, emit: () => undefined },
);
const r = await job.done;
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
if (r.outcome !== 'ok') {
  process.stderr.write(`backup ${r.outcome}: ${JSON.stringify(r.errors)}\n`);
  process.exit(3);
}
process.stdout.write(
  `${JSON.stringify({ seconds, maxRssMb: process.resourceUsage().maxRSS / 1024, outcome: r.outcome, id: r.value.id })}\n`,
);
process.exit(0);
