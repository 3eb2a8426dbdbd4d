// One bbackup backup in its own process from the BUILT engine (dist/, as the installed CLI runs),
// engine only, no printer, so the bench reads this process's own peak RSS (worker threads
// included; rsync/tar/zstd are separate processes). Prints {seconds, maxRssMb, outcome, id, phases}:
// phases are where the copy engine spent its time (its debug log line), plus the job's start-up and the rest.
import { parseConfigObject } from '../dist/src/config/load.js';
import { connectDocker, resolveDockerTarget } from '../dist/src/docker/client.js';
import { startBackup } from '../dist/src/jobs/backup-job.js';

const [store, volume, format, full] = process.argv.slice(2);
const config = parseConfigObject({
  backup: { store, volumes: { mode: 'host', format } },
  retention: { enabled: false },
});
const docker = await connectDocker(resolveDockerTarget(config, undefined, process.env));
const t0 = process.hrtime.bigint();
let engine = {};
let volumeStart = 0;
let volumeEnd = 0;
const emit = (e) => {
  const m = e.type === 'log' ? /bbcopy (?:sink )?ms (\{.*\})/.exec(e.msg) : null;
  if (m) engine = JSON.parse(m[1]);
  if (e.type === 'item.start' && e.kind === 'volume') volumeStart = process.hrtime.bigint();
  if (e.type === 'item.done' || e.type === 'item.failed') volumeEnd = process.hrtime.bigint();
};
const job = startBackup(
  {
    volumes: [volume],
    scope: { containers: false, volumes: true, networks: false },
    full: full === 'full',
    remotes: [],
  },
  { config, docker, emit },
);
const r = await job.done;
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
if (r.outcome !== 'ok') {
  process.stderr.write(`backup ${r.outcome}: ${JSON.stringify(r.errors)}\n`);
  process.exit(3);
}
const ms = (a, b) => (a && b ? Number(b - a) / 1e6 : undefined);
const phases = {
  startMs: ms(t0, volumeStart),
  volumeMs: ms(volumeStart, volumeEnd),
  afterMs: ms(volumeEnd || undefined, process.hrtime.bigint()),
  ...engine,
};
process.stdout.write(
  `${JSON.stringify({ seconds, maxRssMb: process.resourceUsage().maxRSS / 1024, outcome: r.outcome, id: r.value.id, phases })}\n`,
);
process.exit(0);
