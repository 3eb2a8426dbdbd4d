// What every command gets: global options, the config (loaded once, on first use), a Docker
// connection (opened once), a logger and the output streams. Commands stay thin.
import type { Writable } from 'node:stream';
import type Docker from 'dockerode';
import {
  connectDocker,
  isConnectionError,
  openDocker,
  resolveDockerTarget,
  withDockerTimeout,
  type DockerClient,
  type DockerConnection,
} from '../docker/client.js';
import { loadConfig, type LoadedConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import type { Ending } from '../errors.js';
import type { LogLevel } from '../events.js';
import { createLogger, type Logger } from '../log/logger.js';
import { redactorFor } from '../log/redact.js';

export interface GlobalOptions {
  config?: string;
  host?: string;
  json: boolean;
  quiet: boolean;
  verbose: boolean;
  /** false with --no-color: the TUI draws without colour (as with NO_COLOR) */
  color: boolean;
}

export interface CliIO {
  stdout: Writable & { isTTY?: boolean; columns?: number };
  stderr: Writable & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  /** opens the TUI (screens/main.ts), given by the bin entry; absent: the `tui` command refuses */
  tui?: OpenTui;
}

/** What the TUI gets from the CLI: its output, the config, the engine, and a signal to stop on. */
export interface TuiLaunch {
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable;
  env: NodeJS.ProcessEnv;
  loaded: LoadedConfig;
  docker(): Promise<DockerConnection>;
  /** aborted by SIGINT, SIGTERM or SIGHUP: the TUI cancels its jobs and restores the terminal */
  stop: AbortSignal;
}

export type OpenTui = (launch: TuiLaunch) => Promise<Ending>;

const CONSOLE_PREFIX: Record<LogLevel, string> = { debug: '', info: '', warn: 'warning: ', error: 'error: ' };

export class CliContext {
  private loaded?: LoadedConfig;
  private connection?: Promise<DockerConnection>;
  private client?: Promise<DockerClient>;
  private logger_?: Logger;

  constructor(
    readonly opts: GlobalOptions,
    readonly io: CliIO,
  ) {}

  get loadedConfig(): LoadedConfig {
    this.loaded ??= loadConfig(this.opts.config, this.io.env);
    return this.loaded;
  }

  get config(): Config {
    return this.loadedConfig.config;
  }

  get logger(): Logger {
    this.logger_ ??= createLogger(this.config.logging, {
      redact: this.redact,
      consoleLevel: this.opts.verbose ? 'info' : this.opts.quiet ? 'error' : 'warn',
      console: (r) => this.io.stderr.write(`bbackup: ${CONSOLE_PREFIX[r.level]}${r.msg}\n`),
    });
    return this.logger_;
  }

  /** The logger if the config could be loaded; error reporting must work without one. */
  get loggerIfReady(): Logger | undefined {
    if (this.logger_) return this.logger_;
    try {
      return this.logger;
    } catch {
      return undefined;
    }
  }

  /** Masks the config's secrets (and every URL's path and query) in text shown or logged; works without a config. */
  get redact(): (text: string) => string {
    let config: Config | undefined;
    try {
      config = this.config;
    } catch {
      config = undefined;
    }
    return redactorFor(config);
  }

  docker(): Promise<DockerConnection> {
    this.connection ??= (async () => {
      const target = resolveDockerTarget(this.config, this.opts.host, this.io.env);
      this.logger.debug(`connecting to the Docker engine at ${target.address} (from ${target.via})`);
      const conn = await connectDocker(target);
      this.logger.info(
        `connected to Docker ${conn.serverVersion} "${conn.hostName}" at ${target.address} (from ${target.via})`,
      );
      return conn;
    })();
    return this.connection;
  }

  /**
   * docker.timeout for one short call of a command (inventory). Skips the handshake of docker()
   * (info, version): the call itself shows whether the engine is there (start-up, issue 12).
   */
  async timed<T>(what: string, call: (docker: Docker) => Promise<T>): Promise<T> {
    this.client ??= (async () => {
      const target = resolveDockerTarget(this.config, this.opts.host, this.io.env);
      this.logger.info(`asking the Docker engine at ${target.address} (from ${target.via})`);
      return openDocker(target);
    })();
    const client = await this.client;
    return withDockerTimeout(client.target, what, call(client.docker)).catch((err: unknown) => {
      throw isConnectionError(err) ? client.unreachable(err) : err;
    });
  }

  /** Human text on stdout, unless --json or --quiet (-q: only errors, on stderr). Secrets masked. */
  print(text: string): void {
    if (this.opts.json || this.opts.quiet) return;
    const shown = this.redact(text);
    this.io.stdout.write(shown.endsWith('\n') ? shown : `${shown}\n`);
  }

  /** The one JSON document of a --json run. Secrets masked (the mask keeps it valid JSON). */
  printJson(doc: unknown): void {
    this.io.stdout.write(`${this.redact(JSON.stringify(doc, null, 2))}\n`);
  }

  async close(): Promise<void> {
    await this.logger_?.close();
  }
}
