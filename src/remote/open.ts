// The ONLY place remote decorators are composed (STYLE §3). Retry is outermost, so every attempt
// re-runs open(), encryption and byte counting from offset 0.
import type { Config, RemoteConfig } from '../config/schema.js';
import { expandHome } from '../config/locate.js';
import { ageSpecFrom, decryptSpecFrom } from '../crypto/age.js';
import { withEncryption } from '../crypto/with-encryption.js';
import { BbackupError } from '../errors.js';
import { noEmit, type Emit } from '../events.js';
import { LocalRemote } from './local.js';
import { RcloneRemote } from './rclone.js';
import { SftpRemote } from './sftp.js';
import type { Remote } from './types.js';
import { withProgress } from './with-progress.js';
import { withRetry } from './with-retry.js';

export interface OpenRemoteOptions {
  emit?: Emit;
  /** job the progress events belong to */
  jobId?: string;
  /** first retry pause (tests make it short) */
  retryDelayMs?: number;
}

/** The bare implementation for one remote section. */
export function createRemote(name: string, cfg: RemoteConfig, emit: Emit = noEmit): Remote {
  switch (cfg.type) {
    case 'local':
      return new LocalRemote(name, expandHome(cfg.path));
    case 'rclone':
      return new RcloneRemote(name, { remote: cfg.remote, configFile: cfg.config_file, flags: cfg.flags }, emit);
    case 'sftp':
      return new SftpRemote(name, {
        host: cfg.host,
        port: cfg.port,
        user: cfg.user,
        path: cfg.path,
        keyFile: cfg.key_file ? expandHome(cfg.key_file) : undefined,
        keyPassphrase: cfg.key_passphrase,
        password: cfg.password,
        knownHosts: expandHome(cfg.known_hosts ?? '~/.ssh/known_hosts'),
        hostKey: cfg.host_key,
        insecureAcceptAnyHostKey: cfg.insecure_accept_any_host_key,
      });
  }
}

export function remoteConfig(config: Config, name: string): RemoteConfig {
  const cfg = config.remotes[name];
  if (!cfg) {
    const known = Object.keys(config.remotes);
    throw new BbackupError(
      'USAGE',
      `no remote named ${name} in the config${known.length ? ` (remotes: ${known.join(', ')})` : ' (it has no remotes: section)'}`,
    );
  }
  return cfg;
}

/** A remote ready for transfers: encryption (when on), progress events and retries. */
export function openRemote(config: Config, name: string, o: OpenRemoteOptions = {}): Remote {
  const cfg = remoteConfig(config, name);
  const emit = o.emit ?? noEmit;
  const base = createRemote(name, cfg, emit);
  const encrypted = withEncryption(base, {
    encrypt: ageSpecFrom(config.encryption),
    decrypt: decryptSpecFrom(config.encryption),
  });
  return withRetry(
    withProgress(encrypted, { emit, jobId: o.jobId ?? `remote-${name}` }),
    { retries: cfg.retry, delayMs: o.retryDelayMs ?? 1000 },
    emit,
  );
}

/** Remote names a run uses: those given with -r (each must exist; [] = none), else every enabled one. */
export function selectRemotes(config: Config, names?: string[]): string[] {
  if (names !== undefined) {
    for (const n of names) remoteConfig(config, n);
    return [...new Set(names)];
  }
  return Object.entries(config.remotes)
    .filter(([, r]) => r.enabled)
    .map(([n]) => n);
}
