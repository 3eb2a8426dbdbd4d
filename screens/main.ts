// Entry of the TUI from the CLI (`bbackup`, `bbackup tui`): connect, build the app, guard the
// terminal against signals and crashes, and return the exit code.
import { statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { CliContext } from '../src/cli/context.js';
import { expandHome } from '../src/config/locate.js';
import { BbackupError } from '../src/errors.js';
import { createLogger } from '../src/log/logger.js';
import { redactorFor } from '../src/log/redact.js';
import { createEngine } from './engine/real.js';
import type { TuiEngine } from './engine/types.js';
import { initialState } from './state/types.js';
import { themeFromEnv } from './theme.js';
import { Tui } from './tui.js';

export async function runTui(ctx: CliContext, makeEngine?: (ctx: CliContext) => Promise<TuiEngine>): Promise<number> {
  const out = ctx.io.stdout;
  if (!out.isTTY || !process.stdin.isTTY) {
    throw new BbackupError('USAGE', 'the TUI needs a terminal; without one use a command (bbackup --help lists them)');
  }
  const loaded = ctx.loadedConfig;
  const config = loaded.config;
  const engine = makeEngine ? await makeEngine(ctx) : createEngine({ config: () => state.config, connection: await ctx.docker() });
  const store = expandHome(config.backup.store);
  const state = initialState(config, { name: engine.hostName, docker: engine.serverVersion, store, freePercent: await freePercent(store) }, loaded.source.path);
  // The TUI owns the terminal: log lines go to the file and the error pane, never to stderr.
  const logger = createLogger(config.logging, { consoleLevel: 'error', redact: redactorFor(config) });
  const app = new Tui({ engine, state, theme: themeFromEnv(ctx.io.env), logEmit: logger.emit, configPath: loaded.source.path, env: ctx.io.env, logFile: config.logging.file ? expandHome(config.logging.file) : undefined });
  const onSignal = (sig: NodeJS.Signals) => void app.shutdown(sig);
  let crashed = false;
  const onCrash = (err: unknown) => {
    // Once only: a dead terminal (EIO after SIGHUP) must not loop through this handler.
    if (crashed) return;
    crashed = true;
    app.destroyScreen();
    process.stderr.write(`bbackup: internal error in the TUI: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(3);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('SIGHUP', onSignal);
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);
  try {
    return await app.run();
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    process.off('SIGHUP', onSignal);
    process.off('uncaughtException', onCrash);
    process.off('unhandledRejection', onCrash);
    app.destroyScreen();
    await logger.close();
  }
}

/** Free space of the filesystem holding the store (or its nearest existing parent). */
async function freePercent(path: string): Promise<number | undefined> {
  for (let p = path; ; p = dirname(p)) {
    try {
      const s = await statfs(p);
      return s.blocks > 0 ? Math.round((s.bavail / s.blocks) * 100) : undefined;
    } catch {
      if (dirname(p) === p) return undefined;
    }
  }
}
