// Runs the real bbackup against the demo engine, echoing each command the way a user would type it.
// Commands run in this process through the CLI's own main() (one module load instead of one per
// command: that keeps the demo's start-up short); the TUI and the daemon run as child processes, the
// TUI on this terminal, the daemon in the background with its output in a file.
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';
import { main } from '../../src/cli/main.js';
import { loadConfig } from '../../src/config/load.js';
import { readState, statePathFor } from '../../src/schedule/state.js';
import { isRunning, recordPid } from './pids.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = `${root}src/cli/bin.ts`;
const tsx = import.meta.resolve('tsx');

export interface DemoCli {
  /** run a command; prints its exit code when it is not `expected` and returns whether it was */
  run(args: string[], expected?: number): Promise<boolean>;
  /** the TUI on this terminal, until the user quits it */
  tui(): Promise<number>;
  /** `bbackup daemon` in the background; resolves with its pid once it has written its state file */
  startDaemon(logFile: string): Promise<number>;
  /** stop the TUI (if open) and the daemon, each by its pid */
  stopChildren(): Promise<void>;
}

export function demoCli(configPath: string, stopped: () => boolean): DemoCli {
  // DOCKER_HOST would win over the config's docker.socket: the demo must only ever reach its own engine.
  const env: NodeJS.ProcessEnv = { ...process.env, BBACKUP_CONFIG: configPath };
  delete env.DOCKER_HOST;
  const bold = process.stdout.isTTY && !process.env.NO_COLOR;
  let tuiChild: ResultPromise | undefined;
  let daemon: ResultPromise | undefined;
  let inFlight: Promise<number> | undefined;
  return {
    async run(args, expected = 0) {
      if (stopped()) return false;
      process.stdout.write(bold ? `\n\x1b[1m$ bbackup ${args.join(' ')}\x1b[0m\n` : `\n$ bbackup ${args.join(' ')}\n`);
      inFlight = main(args, { stdout: process.stdout, stderr: process.stderr, env }).catch((err: unknown) => {
        process.stderr.write(`bbackup: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
        return 3;
      });
      const code = await inFlight;
      inFlight = undefined;
      if (code !== 0 || code !== expected)
        process.stdout.write(`(exit code ${code}${code === expected ? ', as expected' : `, expected ${expected}`})\n`);
      return code === expected;
    },
    async tui() {
      if (stopped()) return 130;
      tuiChild = execa(process.execPath, ['--import', tsx, bin, 'tui'], {
        env,
        extendEnv: false,
        stdio: 'inherit',
        reject: false,
        cwd: root,
      });
      const r = await tuiChild;
      tuiChild = undefined;
      return r.exitCode ?? 1;
    },
    async startDaemon(logFile) {
      // Its own process group: a Ctrl-C on the terminal reaches the demo, which stops it in order.
      // Its output goes to a file in the demo's private (0700) folder, not over the TUI.
      const log = { file: logFile, append: true } as const;
      daemon = execa(process.execPath, ['--import', tsx, bin, '-c', configPath, 'daemon'], {
        env,
        extendEnv: false,
        detached: true,
        stdin: 'ignore',
        stdout: log,
        stderr: log,
        reject: false,
        cleanup: false,
        cwd: root,
      });
      const pid = daemon.pid!;
      recordPid(pid, configPath);
      // Up when its heartbeat names it: from then on the schedules overlay (C) shows it running.
      const statePath = statePathFor(loadConfig(configPath, env).config);
      const exited = daemon.then(() => true);
      for (;;) {
        if ((await readState(statePath)).daemon?.pid === pid) return pid;
        if (await Promise.race([exited, sleep(200).then(() => false)]))
          throw new Error(
            `bbackup daemon exited at start; its output: ${await readFile(logFile, 'utf8').catch(() => '')}`,
          );
      }
    },
    async stopChildren() {
      // a command running in this process got the same signal and is cancelling: let it finish
      await inFlight;
      for (const child of [tuiChild, daemon]) {
        if (!child?.pid || !isRunning(child.pid)) continue;
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
        await child;
        clearTimeout(timer);
      }
    },
  };
}
