#!/usr/bin/env node
// The `bbackup` executable. Exits explicitly once stdout is drained: open sockets (Docker's
// keep-alive agent, a watcher) must not keep a finished command alive.
import { main } from './main.js';

main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env }).then(
  (code) => process.stdout.write('', () => process.exit(code)),
  (err: unknown) => {
    process.stderr.write(`bbackup: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
    process.stdout.write('', () => process.exit(3));
  },
);
