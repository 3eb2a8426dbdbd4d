// Runs the real bbackup command line (from source, through tsx) against the demo engine, echoing
// each command the way a user would type it.
import { execa } from 'execa';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const tsx = import.meta.resolve('tsx');

export interface DemoCli {
  /** run with the terminal attached; returns the exit code (non-zero is shown, not fatal) */
  run(args: string[], opts?: { interactive?: boolean }): Promise<number>;
  /** the commands `bbackup --help` lists */
  commands(): Promise<Set<string>>;
}

export function demoCli(configPath: string, stopped: () => boolean): DemoCli {
  // DOCKER_HOST would win over the config's docker.socket: the demo must only ever reach its own engine.
  const env = { ...process.env, BBACKUP_CONFIG: configPath, DOCKER_HOST: undefined };
  const argv = (args: string[]) => ['--import', tsx, `${root}src/cli/bin.ts`, ...args];
  return {
    async run(args, opts = {}) {
      if (stopped()) return 130;
      const bold = process.stdout.isTTY && !process.env.NO_COLOR;
      process.stdout.write(bold ? `\n\x1b[1m$ bbackup ${args.join(' ')}\x1b[0m\n` : `\n$ bbackup ${args.join(' ')}\n`);
      const r = await execa(process.execPath, argv(args), { env, extendEnv: false, stdio: 'inherit', reject: false, cwd: root });
      if (r.exitCode !== 0 && !opts.interactive) process.stdout.write(`(exit code ${r.exitCode})\n`);
      return r.exitCode ?? 1;
    },
    async commands() {
      const r = await execa(process.execPath, argv(['--help']), { env, extendEnv: false, reject: false, cwd: root });
      return new Set([...r.stdout.matchAll(/^ {2}([a-z][a-z-]*)\b/gm)].map((m) => m[1]!));
    },
  };
}
