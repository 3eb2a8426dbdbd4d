// Waiting for a restored database server to accept connections before its dump is loaded.
import type Docker from 'dockerode';
import { demuxLogs } from '../docker/logs.js';
import { BbackupError, describeError } from '../errors.js';
import { capture, type EngineCtx, type Probe } from './engine.js';
import { probeMongo } from './mongodb.js';
import { probeMysql } from './mysql.js';
import { probePostgres } from './postgres.js';
import { probeRedis } from './redis.js';
import type { DumpEngine } from './types.js';

const SERVERS = new Set(['postgres', 'mysqld', 'mariadbd', 'mongod', 'redis-server', 'valkey-server']);
// Short first polls: a restored server is often ready within a second; a slow one is polled at
// most every MAX_POLL_MS (each poll is an inspect and two execs in its container).
const FIRST_POLL_MS = 50;
const MAX_POLL_MS = 500;
/** Probes in a row that must pass when an init process runs the server. */
const STABLE_PROBES = 3;
/** How long the probe must pass without a break when process 1 is neither the server nor an init. */
const STABLE_MS = 30_000;
const INITS = new Set([
  'tini',
  'docker-init',
  'dumb-init',
  'catatonit',
  's6-svscan',
  'runsvdir',
  'supervisord',
  'systemd',
  'init',
]);

function probe(ctx: EngineCtx, engine: DumpEngine): Promise<Probe> {
  switch (engine) {
    case 'postgres':
      return probePostgres(ctx);
    case 'mysql':
    case 'mariadb':
      return probeMysql(ctx, engine);
    case 'mongodb':
      return probeMongo(ctx);
    case 'redis':
      return probeRedis(ctx);
    case 'sqlite':
      return Promise.resolve({ ready: true, said: '' });
  }
}

/**
 * Until the server accepts connections, within env.waitSeconds. The official images initialise
 * an empty data dir through a temporary server that the entrypoint script later stops, then
 * exec the real one: a probe alone could catch the temporary one (and be refused while the
 * root password is not set yet). So a probe counts once the server is the container's main
 * process, or its healthcheck says healthy; under an init process (tini, docker-init, ...) that
 * never becomes the server, after passing several times in a row; under anything else, after
 * passing for STABLE_MS without a break.
 */
export async function waitReady(
  ctx: EngineCtx,
  engine: DumpEngine,
  env: { docker: Docker; waitSeconds: number },
): Promise<void> {
  const deadline = Date.now() + env.waitSeconds * 1000;
  let said = '';
  let passes = 0;
  let passingSince: number | undefined;
  let pollMs = FIRST_POLL_MS;
  for (;;) {
    ctx.signal.throwIfAborted();
    const info = await env.docker.getContainer(ctx.container).inspect();
    if (!info.State.Running)
      throw new BbackupError(
        'DUMP_FAILED',
        `${ctx.what} stopped (exit ${info.State.ExitCode}) before its server accepted connections; its last log lines:\n${await logTail(env.docker, ctx.container)}`,
      );
    const health = (info.State as { Health?: { Status?: string } }).Health?.Status;
    if (health === undefined || health === 'healthy') {
      // Process 1 is read before the probe: a probe answered by the image's temporary init server
      // must not count as the real server's answer if the entrypoint execs the server meanwhile.
      const main = await mainProcess(ctx);
      const p = await probe(ctx, engine).catch((err: unknown): Probe => {
        if (err instanceof BbackupError && err.code === 'DUMP_FAILED') throw err; // the tool is missing: waiting will not help
        return { ready: false, said: describeError(err) };
      });
      said = p.said;
      const settled = health === 'healthy' || SERVERS.has(main);
      if (p.fatal && settled) throw new BbackupError('DUMP_FAILED', `${ctx.what}: ${p.fatal}`);
      if (p.ready) {
        passingSince ??= Date.now();
        if (settled || (INITS.has(main) && ++passes >= STABLE_PROBES) || Date.now() - passingSince >= STABLE_MS) return;
        pollMs = MAX_POLL_MS; // probes that must pass in a row stay MAX_POLL_MS apart
      } else {
        passes = 0;
        passingSince = undefined;
      }
    }
    if (Date.now() >= deadline) {
      throw new BbackupError(
        'DUMP_FAILED',
        `${ctx.what}: the ${engine} server did not accept connections within ${env.waitSeconds} s (--dump-wait)${health ? `; healthcheck: ${health}` : ''}${said ? `; it last said: ${said.split('\n').slice(-3).join(' ')}` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, pollMs));
    pollMs = Math.min(MAX_POLL_MS, pollMs * 2);
  }
}

/** The name of the container's process 1 ("" when it cannot be read). */
async function mainProcess(ctx: EngineCtx): Promise<string> {
  const r = await capture(ctx, { argv: ['cat', '/proc/1/comm'] }, 10_000).catch(() => undefined);
  return r?.exitCode === 0 ? r.stdout.trim() : '';
}

async function logTail(docker: Docker, id: string): Promise<string> {
  try {
    const raw = await docker.getContainer(id).logs({ stdout: true, stderr: true, tail: 10, follow: false });
    return demuxLogs(raw).toString('utf8').trimEnd() || '(no output)';
  } catch {
    return '(log not readable)';
  }
}
