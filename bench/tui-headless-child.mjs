// The headless side of bench/tui.ts: one backup through the engine's job API with no front end,
// timed from its job.start event to its job.end event (as the TUI's log lines time the UI run).
// Both sides run the BUILT engine (dist/), as the installed CLI does.
import { loadConfig } from '../dist/src/config/load.js';
import { connectDocker, resolveDockerTarget } from '../dist/src/docker/client.js';
import { startBackup } from '../dist/src/jobs/backup-job.js';

const [configPath, container] = process.argv.slice(2);
const { config } = loadConfig(configPath);
const docker = await connectDocker(resolveDockerTarget(config, undefined, process.env));
let started = 0;
let ended = 0;
const emit = (e) => {
  if (e.type === 'job.start') started = performance.now();
  if (e.type === 'job.end') ended = performance.now();
};
// Keep the event loop alive as any front end does (a volume-only run once exited mid-job, rc 0).
const keepAlive = setInterval(() => undefined, 1 << 30);
const job = startBackup(
  { containers: [container], scope: { containers: true, volumes: true, networks: false }, full: true, remotes: [] },
  { config, docker, emit },
);
const r = await job.done;
clearInterval(keepAlive);
if (r.outcome !== 'ok') {
  process.stderr.write(`backup ${r.outcome}: ${JSON.stringify(r.errors)}\n`);
  process.exit(3);
}
process.stdout.write(`${JSON.stringify({ seconds: (ended - started) / 1000 })}\n`);
process.exit(0);
