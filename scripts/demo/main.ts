// `npm run demo` (started by scripts/demo.sh as root): a private dockerd with its own socket and
// data root, offline images, demo objects, a throwaway sshd and age identity for the remotes, a demo
// config, a seed backup on both remotes, then bbackup: on a terminal the TUI (with `bbackup daemon`
// in the background), otherwise a scripted tour of commands. Cleans up on every exit path: normal
// end, error, Ctrl-C, SIGTERM, SIGHUP.
import { mkdtemp, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import Docker from 'dockerode';
import { busyboxImageSpec, ensureImage } from '../../src/docker/images.js';
import { startPrivateEngine, type TestEngine } from '../../test/helpers/engine.js';
import { TOUR_TITLE, tourRows } from '../../screens/tour.js';
import { demoCli, type DemoCli } from './bbackup.js';
import { makeAgeIdentity, writeDemoConfig } from './config.js';
import { restoreDocker0, snapshotDocker0 } from './docker0.js';
import { createDemoObjects, DEMO_IMAGE, removeDemoObjects } from './objects.js';
import { recordDir, recordPid, stopPid } from './pids.js';
import { scriptedTour, seed } from './scripted.js';
import { startSshd, type DemoSshd } from './sshd.js';

const started = Date.now() - process.uptime() * 1000; // from this process's start, module loading included
const seconds = () => ((Date.now() - started) / 1000).toFixed(1);
// BBDEMO_TIMING=1 stamps each line with the seconds since start (to see where start-up time goes)
const say = (s: string): void =>
  void process.stderr.write(`demo: ${process.env.BBDEMO_TIMING ? `[${seconds()} s] ` : ''}${s}\n`);
// Promises, not values: a signal during start-up still finds (and stops) what is half started.
let engine: Promise<TestEngine> | undefined;
let sshd: Promise<DemoSshd> | undefined;
let cli: DemoCli | undefined;
let workDir: string | undefined;
let cleaning: Promise<void> | undefined;
let mainDone: Promise<number> | undefined;
let signalled = false;
let tourPrompt: Interface | undefined;

/** Between steps: once cleaning has begun, start nothing new. */
function checkpoint(): void {
  if (cleaning) throw new Error('stopped');
}

function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    say('cleaning up');
    tourPrompt?.close();
    await cli?.stopChildren().catch((err) => say(`stopping bbackup: ${(err as Error).message}`));
    // main() stops at its next step; let it, so nothing is created on the engine while it is emptied
    await Promise.race([mainDone, new Promise((r) => setTimeout(r, 60_000).unref())]);
    const ssh = await sshd?.catch(() => undefined);
    if (ssh) {
      await stopPid(ssh.pid).catch((err) => say(`stopping sshd: ${(err as Error).message}`));
      say(`sshd stopped (pid ${ssh.pid})`);
    }
    const e = await engine?.catch(() => undefined);
    if (e) {
      const left = await removeDemoObjects(new Docker({ socketPath: e.socketPath })).catch((err) =>
        say(`emptying the demo engine: ${(err as Error).message}`),
      );
      if (left)
        say(
          `demo engine emptied: ${left.containers} containers, ${left.volumes} volumes, ${left.networks} networks left`,
        );
      await e.stop?.();
      say('private dockerd stopped');
    }
    if (workDir) await rm(workDir, { recursive: true, force: true });
  })();
  return cleaning;
}

// When the terminal goes away (SIGHUP, a closed pty) writes fail with EIO/EPIPE: cleaning up matters more.
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);

for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
  ['SIGHUP', 129],
] as const) {
  process.on(signal, () => {
    signalled = true;
    say(`${signal}: stopping`);
    void cleanup().finally(() => process.exit(code));
  });
}

/** Print the first steps and wait for Enter: the TUI's screen would hide them at once. */
async function showTour(): Promise<void> {
  process.stdout.write(
    `\n${TOUR_TITLE} in the TUI (also on H):\n${tourRows().join('\n')}\n\nPress Enter to open the TUI (Q quits it; the demo then cleans up). `,
  );
  const rl = (tourPrompt = createInterface({ input: process.stdin }));
  await new Promise<void>((resolve) => rl.once('line', () => resolve()).once('close', resolve));
  rl.close();
  process.stdin.pause(); // the TUI reads this terminal now
}

async function main(): Promise<number> {
  const docker0 = await snapshotDocker0();
  workDir = await mkdtemp(join(tmpdir(), 'bbdemo-work-'));
  recordDir(workDir);
  say(`temp folder ${workDir} (store, remotes, keys, config, log; mode 0700)`);
  say(
    'starting a private dockerd (own socket and data root, no bridge, no iptables), an sshd on 127.0.0.1 and an age identity',
  );
  engine = startPrivateEngine('bbdemo-engine-').then((e) => {
    const dir = dirname(e.socketPath);
    recordDir(dir);
    recordPid(Number(readFileSync(join(dir, 'd.pid'), 'utf8').trim()), `--data-root ${dir}/root`);
    return e;
  });
  sshd = startSshd(join(workDir, 'sshd')).then((s) => {
    recordPid(s.pid, s.configFile);
    return s;
  });
  const identityFile = join(workDir, 'age-identity.txt');
  const [e, ssh, recipient] = await Promise.all([engine, sshd, makeAgeIdentity(identityFile)]);
  await restoreDocker0(docker0, say);
  checkpoint();
  const enginePid = readFileSync(join(dirname(e.socketPath), 'd.pid'), 'utf8').trim();
  say(`engine up at unix://${e.socketPath} (dockerd pid ${enginePid})`);
  say(`sshd on 127.0.0.1:${ssh.port} (pid ${ssh.pid}), host key pinned in the config`);
  const docker = new Docker({ socketPath: e.socketPath });
  await ensureImage(docker, busyboxImageSpec(DEMO_IMAGE));
  say(`image ${DEMO_IMAGE} built offline from the host's busybox`);
  checkpoint();
  await createDemoObjects(docker, say, checkpoint);
  checkpoint();

  const configPath = join(workDir, 'bbackup.yaml');
  const store = join(workDir, 'store');
  await writeDemoConfig(configPath, { dir: workDir, socketPath: e.socketPath, sshd: ssh, recipient, identityFile });
  say(`config ${configPath}`);
  cli = demoCli(configPath, () => cleaning !== undefined);

  if (process.stdout.isTTY && process.stdin.isTTY) {
    if (!(await seed(cli, store, say))) {
      say('the first backups did not work out (see above); not opening the TUI');
      return 1;
    }
    checkpoint();
    // The daemon comes up while the first steps are read; the TUI opens once it is running.
    const daemon = cli.startDaemon(join(workDir, 'daemon.log'));
    daemon.catch(() => undefined);
    say(`ready after ${seconds()} s`);
    await showTour();
    const daemonPid = await daemon;
    say(
      `bbackup daemon running the schedules in the background (pid ${daemonPid}; output in ${join(workDir, 'daemon.log')})`,
    );
    checkpoint();
    await cli.tui();
    return 0;
  }
  const failed = await scriptedTour(cli, docker, store, say);
  say(
    `log file lines written: ${
      readFileSync(join(workDir, 'log', 'bbackup.log'), 'utf8')
        .trim()
        .split('\n').length
    }`,
  );
  say(`tour done after ${seconds()} s`);
  if (failed.length > 0) say(`unexpected exit codes from: ${failed.join('; ')}`);
  return failed.length > 0 ? 1 : 0;
}

mainDone = main().catch((err: unknown) => {
  if (cleaning) return 1; // stopped on purpose: the signal handler exits with its own code
  say(`failed: ${(err as Error)?.stack ?? String(err)}`);
  return 1;
});
void mainDone.then(async (code) => {
  if (signalled) return; // the signal handler cleans up and exits with the signal's code
  await cleanup();
  process.exit(code);
});
