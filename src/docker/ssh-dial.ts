// Docker over ssh:// without an ssh handshake per API call. docker-modem's own ssh support opens a
// new ssh connection (key exchange, host key check, authentication) for every request; a backup
// makes dozens of calls and the TUI refreshes every few seconds, so each paid a handshake. Here an
// http.Agent hands out `docker system dial-stdio` channels (what the docker CLI runs over ssh) on a
// few shared connections, and keeps them open between requests (HTTP keep-alive through the channel).
import http from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Client, ConnectConfig } from 'ssh2';

/** OpenSSH allows 10 sessions per connection (MaxSessions); stay under it and open another. */
const CHANNELS_PER_CONNECTION = 8;
/** An idle connection is closed after this long (a daemon idle for hours reconnects, never finds a dead one). */
const IDLE_MS = 30_000;

interface Connection {
  ready: Promise<Client>;
  sock: Socket;
  /** open dial-stdio channels, busy or idle in the agent's pool */
  channels: number;
  /** channels serving a request now */
  busy: number;
  idle?: NodeJS.Timeout;
  closed: boolean;
}

/** `load` brings in ssh2 on the first connection (start-up does not pay for it); `idleMs` is for tests. */
export function sshDialAgent(
  config: ConnectConfig,
  load: () => Promise<typeof import('ssh2')>,
  idleMs = IDLE_MS,
): http.Agent {
  const pool: Connection[] = [];

  const drop = (conn: Connection) => {
    conn.closed = true;
    clearTimeout(conn.idle);
    const i = pool.indexOf(conn);
    if (i >= 0) pool.splice(i, 1);
  };

  const open = (): Connection => {
    // our own TCP socket, so an idle connection can be unref'd: it never keeps a process alive
    const sock = connect({ host: config.host, port: config.port ?? 22 });
    const conn: Connection = { channels: 0, busy: 0, closed: false, sock, ready: Promise.resolve(undefined as never) };
    conn.ready = load().then(
      ({ Client }) =>
        new Promise<Client>((resolve, reject) => {
          const client = new Client();
          client
            .once('ready', () => resolve(client))
            .on('error', (err) => {
              drop(conn);
              reject(err);
            })
            .on('close', () => drop(conn))
            .connect({ ...config, sock });
        }),
    );
    // a failed connect must not leave an unhandled rejection when no request is waiting on it
    conn.ready.catch(() => undefined);
    pool.push(conn);
    return conn;
  };

  /** A channel closed. */
  const release = (conn: Connection) => {
    conn.channels--;
    rest(conn);
  };
  /** No request in flight on this connection: it must not hold the process, and closes when idle long. */
  const rest = (conn: Connection) => {
    if (conn.busy > 0 || conn.closed) return;
    conn.sock.unref();
    clearTimeout(conn.idle);
    conn.idle = setTimeout(() => {
      drop(conn);
      void conn.ready.then(
        (c) => c.end(),
        () => undefined,
      );
    }, idleMs);
    conn.idle.unref();
  };

  // Keep-alive: one dial-stdio channel serves request after request (the remote `docker` process
  // it runs takes ~0.4 s to start). Node's Agent treats a kept socket as a net.Socket; a channel
  // gets the few socket methods it calls, and "unref" means the channel is idle in the pool.
  const agent = new http.Agent({ keepAlive: true, maxFreeSockets: CHANNELS_PER_CONNECTION });
  // Node's Agent accepts a callback-style createConnection (docker-modem's ssh agent relies on it too)
  (agent as unknown as { createConnection: unknown }).createConnection = (
    _options: unknown,
    done: (err: Error | null, socket?: Duplex) => void,
  ): undefined => {
    const conn = pool.find((c) => !c.closed && c.channels < CHANNELS_PER_CONNECTION) ?? open();
    conn.channels++;
    conn.busy++;
    clearTimeout(conn.idle);
    conn.sock.ref();
    conn.ready.then(
      (client) =>
        client.exec('docker system dial-stdio', (err, stream) => {
          if (err) {
            conn.busy--;
            release(conn);
            done(err);
            return;
          }
          let busy = true;
          const idle = (now: boolean) => {
            if (busy === !now) return;
            busy = !now;
            conn.busy += now ? -1 : 1;
            if (now) rest(conn);
            else {
              clearTimeout(conn.idle);
              conn.sock.ref();
            }
          };
          Object.assign(stream, {
            setKeepAlive: () => stream,
            setNoDelay: () => stream,
            setTimeout: (ms: number) => Object.assign(stream, { timeout: ms }),
            unref: () => (idle(true), stream),
            ref: () => (idle(false), stream),
          });
          stream.once('close', () => {
            idle(true);
            release(conn);
          });
          done(null, stream);
        }),
      (err: Error) => {
        conn.channels--;
        conn.busy--;
        done(err);
      },
    );
    return undefined;
  };
  return agent;
}
