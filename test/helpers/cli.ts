// Run the real bbackup command line in a child process (from source through tsx, so no build is
// needed), and capture what a user would see.
import { execa, type Options } from 'execa';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = `${root}src/cli/bin.ts`;
// tsx by absolute URL: `--import tsx` would be resolved from the child's cwd, which tests may set
// to a temp dir without node_modules.
const tsx = import.meta.resolve('tsx');

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export async function runCli(
  args: string[],
  opts: { env?: Record<string, string | undefined>; cwd?: string; input?: string; cancelSignal?: AbortSignal } = {},
): Promise<CliResult> {
  const options: Options = {
    cwd: opts.cwd ?? root,
    env: { NO_COLOR: '1', ...opts.env },
    reject: false,
    input: opts.input,
    stdin: opts.input === undefined ? 'ignore' : undefined,
    cancelSignal: opts.cancelSignal,
  };
  const r = await execa(process.execPath, ['--import', tsx, bin, ...args], options);
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** The argv prefix to spawn bbackup yourself (e.g. in a pty, or to send it signals). */
export const cliCommand = (): { file: string; args: string[]; cwd: string } => ({
  file: process.execPath,
  args: ['--import', tsx, bin],
  cwd: root,
});
