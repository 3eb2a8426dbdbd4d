// Run the real bbackup command line in a child process, and capture what a user would see.
// `npm test` builds first and sets BBACKUP_TEST_CLI=dist: the suite then runs the built
// dist/src/cli/bbackup.cjs (package.json "bin"), as a user does (and a third of a second faster per call than compiling the
// sources on the fly). Run on its own (`npx vitest run FILE`), a test runs the sources through tsx,
// so no build is needed while editing.
import { execa, type Options } from 'execa';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const fromDist = process.env.BBACKUP_TEST_CLI === 'dist';
// tsx by absolute URL: `--import tsx` would be resolved from the child's cwd, which tests may set
// to a temp dir without node_modules.
const prefix = fromDist
  ? [`${root}dist/src/cli/bbackup.cjs`]
  : ['--import', import.meta.resolve('tsx'), `${root}src/cli/bin.ts`];

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
  const r = await execa(process.execPath, [...prefix, ...args], options);
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** The argv prefix to spawn bbackup yourself (e.g. in a pty, or to send it signals). */
export const cliCommand = (): { file: string; args: string[]; cwd: string } => ({
  file: process.execPath,
  args: [...prefix],
  cwd: root,
});
