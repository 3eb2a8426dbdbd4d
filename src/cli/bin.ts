#!/usr/bin/env node
// The `bbackup` executable. Exits explicitly once stdout is drained: open sockets (Docker's
// keep-alive agent, a watcher) must not keep a finished command alive. `bbackup --version` is
// answered before anything else is loaded (start-up target: README "Speed").
import { version } from '../version.js';

const argv = process.argv.slice(2);
if (argv.length === 1 && argv[0] === '--version') {
  process.stdout.write(`${version}\n`);
} else {
  const { main } = await import('./main.js');
  main(argv, { stdout: process.stdout, stderr: process.stderr, env: process.env }).then(
    (code) => process.stdout.write('', () => process.exit(code)),
    (err: unknown) => {
      process.stderr.write(`bbackup: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
      process.stdout.write('', () => process.exit(3));
    },
  );
}
