// Entry of the TUI, loaded lazily by the bin entry (src/cli/bin.ts) for `bbackup` and `bbackup tui`:
// connect, build the app, guard the terminal against signals and crashes, and say how it ended.
// It knows the CLI only through TuiLaunch, which the CLI's launch object matches (checked in bin.ts).
import type { Writable } from 'node:stream';
import type { LoadedConfig } from '../src/config/load.js';
import { expandHome } from '../src/config/locate.js';
import type { DockerConnection } from '../src/docker/client.js';
import { BbackupError, failedWith, type Ending } from '../src/errors.js';
import { createLogger } from '../src/log/logger.js';
import { redactorFor } from '../src/log/redact.js';
import { hostInfo } from './engine/host-info.js';
import { deferredEngine } from './engine/deferred.js';
import { createEngine, enabledRemotes } from './engine/real.js';
import { initialState } from './state/types.js';
import { themeFromEnv } from './theme.js';
import { Tui } from './tui.js';

export interface TuiLaunch {
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable;
  env: NodeJS.ProcessEnv;
  loaded: LoadedConfig;
  docker(): Promise<DockerConnection>;
  /** aborted on SIGINT, SIGTERM or SIGHUP; its reason says which */
  stop: AbortSignal;
}

export async function runTui(launch: TuiLaunch): Promise<Ending> {
  const out = launch.stdout;
  if (!out.isTTY || !process.stdin.isTTY) {
    throw new BbackupError('USAGE', 'the TUI needs a terminal; without one use a command (bbackup --help lists them)');
  }
  const { loaded } = launch;
  const config = loaded.config;
  const store = expandHome(config.backup.store);
  const state = initialState(config, { name: '…', docker: 'connecting…', store }, loaded.source.path);
  // The first frame does not wait for the Docker handshake (issue 12: paint at once; over ssh the
  // handshake takes seconds): the header says "connecting" and every engine call waits for it.
  const ready = launch.docker().then((connection) => createEngine({ config: () => state.config, connection }));
  const engine = deferredEngine(ready, {
    storeRoot: () => expandHome(state.config.backup.store),
    remoteNames: () => enabledRemotes(state.config),
  });
  // The TUI owns the terminal: log lines go to the file and the error pane, never to stderr.
  const logger = createLogger(config.logging, { consoleLevel: 'error', redact: redactorFor(config) });
  const app = new Tui({
    engine,
    state,
    theme: themeFromEnv(launch.env),
    logEmit: logger.emit,
    configPath: loaded.source.path,
    env: launch.env,
    logFile: config.logging.file ? expandHome(config.logging.file) : undefined,
  });
  const onStop = () => void app.shutdown(stopReason(launch.stop.reason));
  let crashed = false;
  const onCrash = (err: unknown) => {
    // Once only: a dead terminal (EIO after SIGHUP) must not loop through this handler.
    if (crashed) return;
    crashed = true;
    app.destroyScreen();
    launch.stderr.write(`bbackup: internal error in the TUI: ${(err as Error)?.stack ?? String(err)}\n`);
    app.end(failedWith('INTERNAL'));
  };
  launch.stop.addEventListener('abort', onStop, { once: true });
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);
  // Once connected, the header names the host; an engine that cannot be reached ends the TUI with
  // the same error (and exit code) as when it failed before the first frame.
  let over = false;
  const unreachable = ready.then(async (real) => {
    const host = await hostInfo(real, store);
    if (!over) {
      state.host = host;
      app.request();
    }
    return new Promise<never>(() => undefined); // only a failure ends the race from here
  });
  try {
    return await Promise.race([app.run(), unreachable]);
  } finally {
    over = true;
    launch.stop.removeEventListener('abort', onStop);
    process.off('uncaughtException', onCrash);
    process.off('unhandledRejection', onCrash);
    app.destroyScreen();
    await logger.close();
  }
}

/** The signal's name from the stop signal's reason (src/cli/signals.ts puts it in the context). */
function stopReason(reason: unknown): string {
  const sig = (reason as { context?: { signal?: unknown } } | undefined)?.context?.signal;
  return typeof sig === 'string' ? sig : 'stopped';
}
