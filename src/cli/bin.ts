#!/usr/bin/env node
// The `bbackup` executable and the composition root: the one module that ends the process and the
// one that may load the TUI (lazily, so plain commands never load blessed). Exits explicitly once
// stdout is drained: open sockets (Docker's keep-alive agent, a watcher) must not keep a finished
// command alive.
import { exitCodeFor, failedWith } from '../errors.js';
import type { OpenTui } from './context.js';
import { main } from './main.js';

const tui: OpenTui = async (launch) => (await import('../../screens/main.js')).runTui(launch);

main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env, tui }).then(
  (code) => process.stdout.write('', () => process.exit(code)),
  (err: unknown) => {
    process.stderr.write(`bbackup: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
    process.stdout.write('', () => process.exit(exitCodeFor(failedWith('INTERNAL'))));
  },
);
