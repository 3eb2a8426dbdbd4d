// `npm run demo` (started by scripts/demo.sh as root): a private dockerd with its own socket and
// data root, offline images, demo objects, a demo config, then bbackup against it. Cleans up on
// every exit path: normal end, error, Ctrl-C, SIGTERM.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Docker from 'dockerode';
import { busyboxImageSpec, ensureImage } from '../../src/docker/images.js';
import { startPrivateEngine, type TestEngine } from '../../test/helpers/engine.js';
import { demoCli } from './bbackup.js';
import { restoreDocker0, snapshotDocker0 } from './docker0.js';
import { changeDemoData, createDemoObjects, DEMO, DEMO_IMAGE, removeDemoObjects } from './objects.js';

const say = (s: string) => process.stderr.write(`demo: ${s}\n`);
let engine: TestEngine | undefined;
let workDir: string | undefined;
let cleaning: Promise<void> | undefined;

function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    say('cleaning up');
    if (engine) {
      await removeDemoObjects(new Docker({ socketPath: engine.socketPath })).catch((err) => say(`removing demo objects: ${(err as Error).message}`));
      await engine.stop?.();
      say('private dockerd stopped');
    }
    if (workDir) await rm(workDir, { recursive: true, force: true });
  })();
  return cleaning;
}

for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
  process.on(signal, () => {
    say(`${signal}: stopping`);
    void cleanup().finally(() => process.exit(code));
  });
}

function demoConfig(socketPath: string, dir: string): string {
  return `# bbackup demo config (written by scripts/demo/main.ts; removed on exit)
docker:
  socket: ${socketPath}
  timeout: 30
backup:
  store: ${join(dir, 'store')}
  backup_sets:
    shop:
      description: web front end and its database
      containers: [${DEMO.containers.web}, ${DEMO.containers.db}]
      volumes: [${DEMO.volumes.cache}]
    legacy:
      description: a set naming a container that is gone (flagged)
      containers: [bbdemo-old-api, ${DEMO.containers.job}]
retention:
  last: 10                 # both demo backups are made the same day; daily alone would keep one
logging:
  level: debug
  file: ${join(dir, 'log', 'bbackup.log')}
  max_size_mb: 1
  backup_count: 2
`;
}

async function main(): Promise<number> {
  const docker0 = await snapshotDocker0();
  say('starting a private dockerd (own socket and data root, no bridge, no iptables)');
  engine = await startPrivateEngine('bbdemo-engine-');
  const engineDir = dirname(engine.socketPath);
  if (process.env.BBDEMO_STATE) {
    // For scripts/demo.sh's safety net: the daemon's pid and directory.
    const pid = readFileSync(join(engineDir, 'd.pid'), 'utf8').trim();
    writeFileSync(process.env.BBDEMO_STATE, `${pid} ${engineDir}\n`);
  }
  await restoreDocker0(docker0, say);
  say(`engine up at unix://${engine.socketPath}`);
  const docker = new Docker({ socketPath: engine.socketPath });
  await ensureImage(docker, busyboxImageSpec(DEMO_IMAGE));
  say(`image ${DEMO_IMAGE} built offline from the host's busybox`);
  await createDemoObjects(docker, say);

  workDir = await mkdtemp(join(tmpdir(), 'bbdemo-work-'));
  const configPath = join(workDir, 'bbackup.yaml');
  await writeFile(configPath, demoConfig(engine.socketPath, workDir), { mode: 0o600 });
  say(`config ${configPath}`);

  const cli = demoCli(configPath, () => cleaning !== undefined);
  const commands = await cli.commands();
  const interactive = Boolean(process.stdout.isTTY && process.stdin.isTTY);
  if (interactive && commands.has('tui')) {
    // One backup first, so the backups screen has something to browse and restore.
    if (commands.has('backup')) await cli.run(['backup', '-s', 'shop']);
    say('opening the TUI (q quits; the demo cleans up afterwards)');
    await cli.run(['tui'], { interactive: true });
    return 0;
  }
  const failed: string[] = [];
  // The legacy set names a missing container on purpose: list-backup-sets flags it with exit 1.
  const step = async (args: string[], expected = 0) => {
    if ((await cli.run(args)) !== expected) failed.push(`bbackup ${args.join(' ')}`);
  };
  for (const c of ['list-containers', 'list-volumes', 'list-networks']) await step([c]);
  await step(['list-backup-sets'], 1);
  if (commands.has('backup')) {
    await step(['backup', '-s', 'shop']);
    say('changing two small files, then backing up again: unchanged files are hard links to the first backup');
    await changeDemoData(docker);
    await step(['backup', '-s', 'shop']);
    if (commands.has('list-backups')) await step(['list-backups']);
    if (commands.has('verify')) await step(['verify']);
  } else {
    say('the backup command is not there yet; showing the inventory only');
  }
  say(`log file lines written: ${readFileSync(join(workDir, 'log', 'bbackup.log'), 'utf8').trim().split('\n').length}`);
  if (failed.length > 0) say(`unexpected exit codes from: ${failed.join('; ')}`);
  return failed.length > 0 ? 1 : 0;
}

main()
  .catch((err: unknown) => {
    say(`failed: ${(err as Error)?.stack ?? String(err)}`);
    return 1;
  })
  .then(async (code) => {
    await cleanup();
    process.exit(code);
  });
