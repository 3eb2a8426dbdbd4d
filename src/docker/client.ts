// Connecting to a Docker engine: through a `hosts` entry (--host), DOCKER_HOST, or docker.socket,
// in that order. A failure says where we tried and how the target was chosen.
import { readFileSync } from 'node:fs';
import type { Agent } from 'node:http';
import type Docker from 'dockerode';
import { expandHome } from '../config/locate.js';
import type { Config, HostConfig } from '../config/schema.js';
import { BbackupError } from '../errors.js';
import { verifyHostKey, type HostKeyPolicy } from '../remote/host-key.js';
import { sshDialAgent } from './ssh-dial.js';

export interface DockerTarget {
  /** URL-ish address shown to users: unix:///var/run/docker.sock, tcp://h:2376, ssh://u@h */
  address: string;
  /** why this address: "--host prod", "DOCKER_HOST", "docker.socket" */
  via: string;
  /** the hosts entry name when one was used; the store folder is named after it */
  hostName?: string;
  tls?: HostConfig['tls'];
  volumeMode?: HostConfig['volume_mode'];
  /** ssh:// host key checking (from the hosts entry; DOCKER_HOST uses ~/.ssh/known_hosts) */
  hostKey?: { knownHosts?: string; pinned?: string; acceptAny: boolean };
  timeoutMs: number;
}

export interface DockerConnection {
  docker: Docker;
  target: DockerTarget;
  /** the engine's name (`docker info` Name) unless a hosts entry names it */
  hostName: string;
  serverVersion: string;
  apiVersion: string;
  /** the daemon's data root: volumes' Mountpoints live below it */
  dockerRootDir: string;
}

export function resolveDockerTarget(
  config: Config,
  hostFlag?: string,
  env: NodeJS.ProcessEnv = process.env,
): DockerTarget {
  const timeoutMs = Math.round(config.docker.timeout * 1000);
  const hostName = hostFlag ?? config.default_host;
  if (hostName !== undefined) {
    const entry = config.hosts[hostName];
    if (!entry) {
      const known = Object.keys(config.hosts);
      throw new BbackupError(
        'USAGE',
        `unknown host "${hostName}"; ${known.length ? `configured hosts: ${known.join(', ')}` : 'no hosts are configured (hosts: section)'}`,
      );
    }
    const hostKey = {
      knownHosts: entry.known_hosts,
      pinned: entry.host_key,
      acceptAny: entry.insecure_accept_any_host_key,
    };
    return {
      address: entry.docker_host,
      via: hostFlag ? `--host ${hostName}` : `default_host ${hostName}`,
      hostName,
      tls: entry.tls,
      volumeMode: entry.volume_mode,
      hostKey,
      timeoutMs,
    };
  }
  if (env.DOCKER_HOST) return { address: env.DOCKER_HOST, via: 'DOCKER_HOST', timeoutMs };
  return { address: `unix://${config.docker.socket}`, via: 'docker.socket', timeoutMs };
}

/**
 * dockerode options for an address; exported for tests of the parsing.
 * No dockerode `timeout` here on purpose: docker-modem applies it as a socket idle timeout to
 * every request, so a `container.wait()` or a quiet stream longer than the timeout is destroyed
 * and its promise never settles. docker.timeout is applied per call with `withDockerTimeout`.
 * ssh://: requests run over `docker system dial-stdio` channels on shared ssh connections
 * (ssh-dial.ts); the host key is checked on every connection, and `onHostKey` hears the verdict so
 * a refusal can be explained.
 */
export function dockerOptions(
  target: DockerTarget,
  onHostKey: (problem: string | undefined) => void = () => undefined,
): Docker.DockerOptions {
  const { address } = target;
  if (address.startsWith('/')) return { socketPath: address };
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    throw new BbackupError(
      'USAGE',
      `cannot understand Docker address "${address}" (${target.via}); use unix:///path, tcp://host:port or ssh://user@host`,
    );
  }
  switch (url.protocol) {
    case 'unix:':
      return { socketPath: decodeURIComponent(url.pathname) };
    case 'tcp:':
    case 'http:':
    case 'https:': {
      const tls = target.tls;
      const secure = url.protocol === 'https:' || (tls !== undefined && (tls.ca || tls.cert));
      const read = (p?: string) => (p ? readFileSync(expandHome(p)) : undefined);
      return {
        host: url.hostname,
        port: url.port || (secure ? 2376 : 2375),
        protocol: secure ? 'https' : 'http',
        ca: read(tls?.ca),
        cert: read(tls?.cert),
        key: read(tls?.key),
      };
    }
    case 'ssh:': {
      const port = Number(url.port || 22);
      const policy: HostKeyPolicy = {
        host: url.hostname,
        port,
        pinned: target.hostKey?.pinned,
        knownHostsFile: expandHome(target.hostKey?.knownHosts ?? '~/.ssh/known_hosts'),
        acceptAny: target.hostKey?.acceptAny ?? false,
      };
      const hostVerifier = (key: Buffer): boolean => {
        const v = verifyHostKey(policy, key);
        onHostKey(v.ok ? undefined : v.reason);
        return v.ok;
      };
      const agent = sshDialAgent(
        {
          host: url.hostname,
          port,
          username: url.username || undefined,
          agent: process.env.SSH_AUTH_SOCK,
          hostVerifier,
        },
        async () => (await import('ssh2')).default,
      );
      // plain http over the agent's dial-stdio channels (see ssh-dial.ts); the host is only the Host header
      const options: Docker.DockerOptions & { agent: Agent } = { protocol: 'http', host: 'docker', agent };
      return options;
    }
    default:
      throw new BbackupError(
        'USAGE',
        `unsupported Docker address scheme "${url.protocol}" in "${address}" (${target.via})`,
      );
  }
}

/** True when volumes' files are visible on this machine (a local socket); false for tcp/ssh engines. */
export const isLocalEngine = (target: DockerTarget): boolean =>
  target.address.startsWith('unix://') || target.address.startsWith('/');

interface DockerInfo {
  Name: string;
  ServerVersion: string;
  DockerRootDir: string;
}

/** A Docker client before any call: its first request shows whether the engine is there. */
export interface DockerClient {
  docker: Docker;
  target: DockerTarget;
  /** the DOCKER_UNREACHABLE error for a failed call (with the ssh host key refusal when that was the cause) */
  unreachable(err: unknown): BbackupError;
}

/**
 * The client without the handshake (no `docker info`/`docker version`): for a command that needs
 * one call (list-containers), whose own request is the reachability check (start-up, issue 12).
 */
export async function openDocker(target: DockerTarget): Promise<DockerClient> {
  let hostKeyProblem: string | undefined;
  // loaded here, not at start-up: commands that never talk to Docker do not pay for it
  const { default: DockerClass } = await import('dockerode');
  const docker = new DockerClass(dockerOptions(target, (p) => (hostKeyProblem = p)));
  return {
    docker,
    target,
    unreachable: (err) =>
      hostKeyProblem
        ? new BbackupError(
            'DOCKER_UNREACHABLE',
            `refused to talk to the Docker engine at ${target.address} (from ${target.via}): ${hostKeyProblem}`,
            { address: target.address, via: target.via },
            { cause: err },
          )
        : unreachable(target, err),
  };
}

export async function connectDocker(target: DockerTarget): Promise<DockerConnection> {
  const client = await openDocker(target);
  const { docker } = client;
  try {
    // Both at once: one round trip of start-up instead of two (issue 12).
    const [info, version] = await Promise.all([
      withDockerTimeout(target, 'docker info', docker.info() as Promise<DockerInfo>),
      withDockerTimeout(target, 'docker version', docker.version()),
    ]);
    return {
      docker,
      target,
      hostName: target.hostName ?? info.Name,
      serverVersion: info.ServerVersion,
      apiVersion: version.ApiVersion,
      dockerRootDir: info.DockerRootDir,
    };
  } catch (err) {
    throw client.unreachable(err);
  }
}

// The system error codes of a connection that failed (socket missing or refused, reset, timed
// out, name or route unknown): any other code is not the engine's absence.
const CONNECTION_CODES = new Set([
  'ENOENT',
  'EACCES',
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EADDRNOTAVAIL',
  'ENOTCONN',
  'ERR_SOCKET_CLOSED',
]);

/**
 * True for a failure of the connection itself (no socket, refused, reset, timed out, ssh refused:
 * ssh2's errors carry a `level`), false for an HTTP answer of the engine (it has a statusCode) or
 * any other error (a bug of ours keeps its own message).
 */
export const isConnectionError = (err: unknown): boolean => {
  if (!(err instanceof Error) || (err as { statusCode?: unknown }).statusCode !== undefined) return false;
  const { code } = err as { code?: unknown };
  return (typeof code === 'string' && CONNECTION_CODES.has(code)) || 'level' in err;
};

/** Error thrown by withDockerTimeout; connectDocker turns it into DOCKER_UNREACHABLE. */
export class DockerTimeoutError extends Error {
  override name = 'DockerTimeoutError';
  readonly code = 'ETIMEDOUT';
}

/**
 * docker.timeout for one short API call (info, list, inspect): rejects when the engine has not
 * answered in time. Not for long calls (wait, archive streams, image import): those run as long as
 * the work takes.
 */
export function withDockerTimeout<T>(target: DockerTarget, what: string, call: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const seconds = target.timeoutMs / 1000;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new DockerTimeoutError(`${what}: no answer within ${seconds}s (docker.timeout)`)),
      target.timeoutMs,
    );
  });
  return Promise.race([call, timeout]).finally(() => clearTimeout(timer));
}

export function unreachable(target: DockerTarget, err: unknown): BbackupError {
  const e = err as NodeJS.ErrnoException & { statusCode?: number };
  const reason =
    err instanceof DockerTimeoutError
      ? err.message
      : e.code === 'ENOENT'
        ? 'no such socket'
        : e.code === 'EACCES'
          ? 'permission denied (run as root or join the docker group)'
          : e.code === 'ECONNREFUSED'
            ? 'connection refused'
            : (e.code ?? e.message);
  // The low-level message goes in the text (not only the cause) so that describeError does not
  // append it again after the advice.
  const detail = e.message && !reason.includes(e.message) ? ` (${e.message})` : '';
  return new BbackupError(
    'DOCKER_UNREACHABLE',
    `cannot reach the Docker engine at ${target.address} (from ${target.via}): ${reason}${detail}. Is dockerd running? Set docker.socket, DOCKER_HOST or --host to point elsewhere.`,
    { address: target.address, via: target.via },
    { cause: err },
  );
}
