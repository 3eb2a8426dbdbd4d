#!/usr/bin/env node
// The `bbackup` executable and the composition root: the one module that ends the process and the
// one that may load the TUI (lazily, so plain commands never load blessed). Exits explicitly once
// stdout is drained: open sockets (Docker's keep-alive agent, a watcher) must not keep a finished
// command alive. `bbackup --version` is answered before anything else is loaded (start-up target:
// README "Speed").
import { version } from '../version.js';
import type { OpenTui } from './context.js';

const argv = process.argv.slice(2);
if (argv.length === 1 && argv[0] === '--version') {
  process.stdout.write(`${version}\n`);
} else {
  const [{ main }, { exitCodeFor, failedWith }] = await Promise.all([import('./main.js'), import('../errors.js')]);
  const tui: OpenTui = async (launch) => (await import('../../screens/main.js')).runTui(launch);
  main(argv, { stdout: process.stdout, stderr: process.stderr, env: process.env, tui }).then(
    (code) => process.stdout.write('', () => process.exit(code)),
    (err: unknown) => {
      process.stderr.write(`bbackup: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
      process.stdout.write('', () => process.exit(exitCodeFor(failedWith('INTERNAL'))));
    },
  );
}
