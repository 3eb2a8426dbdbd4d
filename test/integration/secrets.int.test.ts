// Secrets never reach logs, notifications, error messages or `ps`, with the real CLI: a webhook
// whose URL carries a token in its path and query fails (its server echoes the token back) and
// neither the output, the log file, the mail nor the other webhook's report holds the token; an
// rclone flag carrying a credential is not on the command line of the running rclone (it is in its
// environment); a config error on a secret key does not echo the value.
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { SMTPServer } from 'smtp-server';
import { describe, expect, it, onTestFinished } from 'vitest';
import { cliCommand, runCli } from '../helpers/cli.js';
import { tempDir, writeConfig } from './ops-fixtures.js';

const SOCKET = process.env.BBACKUP_TEST_DOCKER_HOST!.replace(/^unix:\/\//, '');
const token = (what: string) => `${what}${randomBytes(12).toString('hex')}`;

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as AddressInfo).port;
}

/** An HTTP endpoint answering `status` with `body(url)`; records what it received. */
async function httpServer(
  status: number,
  body: (url: string) => string,
): Promise<{ port: number; hits: { url: string; body: string }[] }> {
  const hits: { url: string; body: string }[] = [];
  const server = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      hits.push({ url: req.url ?? '', body: Buffer.concat(chunks).toString('utf8') });
      res.statusCode = status;
      res.end(body(req.url ?? ''));
    });
  });
  return { port: await listen(server), hits };
}

async function smtpServer(): Promise<{ port: number; mails: string[] }> {
  const mails: string[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        mails.push(Buffer.concat(chunks).toString('utf8'));
        cb();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { port: (server.server.address() as AddressInfo).port, mails };
}

describe('secrets', () => {
  it('a webhook token (path and query) reaches neither the output, the log file nor any notification', async () => {
    const dir = await tempDir('rsec-secrets');
    const [pathToken, queryToken] = [token('P0'), token('Q0')];
    // The hostile endpoint refuses and echoes the token and its whole URL back.
    const bad = await httpServer(401, (url) => `invalid_token ${pathToken}; you asked for ${url}`);
    const good = await httpServer(204, () => '');
    const smtp = await smtpServer();
    const hookUrl = `http://127.0.0.1:${bad.port}/services/T0001/B0001/${pathToken}?token=${queryToken}`;
    const log = join(dir, 'bbackup.log');
    const config = await writeConfig(dir, {
      backup: { store: join(dir, 'store') },
      docker: { socket: SOCKET },
      logging: { file: log, level: 'debug' },
      notifications: {
        on: 'failure',
        email: {
          smtp_host: '127.0.0.1',
          smtp_port: smtp.port,
          security: 'none',
          from: 'bbackup@test.local',
          to: ['ops@test.local'],
        },
        webhooks: [{ url: hookUrl, retries: 0 }, { url: `http://127.0.0.1:${good.port}/hook` }],
      },
      // A pre-hook whose failure quotes the webhook URL: the run's error holds the token.
      hooks: { pre: [['sh', '-c', `echo "curl ${hookUrl} failed" >&2; exit 1`]] },
      schedule: { nightly: { cron: '0 3 * * *', containers: ['nothing'] } },
    });
    const r = await runCli(['-c', config, 'schedule', 'run', 'nightly'], { env: { BBACKUP_CONFIG: undefined } });
    expect(r.exitCode, r.stderr).not.toBe(0);
    expect(bad.hits).toHaveLength(1); // it was called, and failed
    expect(good.hits).toHaveLength(1);
    expect(smtp.mails).toHaveLength(1);
    const logText = await readFile(log, 'utf8');
    expect(logText).toContain(
      `webhook http://127.0.0.1:${bad.port}/…: could not send backup.finished (failed): failed after 1 attempt(s): HTTP 401: invalid_token …; you asked for /services/T0001/B0001/…?token=…`,
    );
    expect(good.hits[0]!.body).toContain('pre-hook');
    expect(smtp.mails[0]).toContain('pre-hook');
    const everything = {
      stdout: r.stdout,
      stderr: r.stderr,
      log: logText,
      webhook: good.hits[0]!.body,
      mail: smtp.mails[0]!,
    };
    for (const [where, text] of Object.entries(everything)) {
      expect(text, where).not.toContain(pathToken);
      expect(text, where).not.toContain(queryToken);
    }
  });

  it('an rclone flag carrying a credential is in the environment of the running rclone, not on its command line', async () => {
    const dir = await tempDir('rsec-rclone');
    // An "sftp server" that accepts connections and never answers: rclone waits, and we look at it.
    const sockets: Socket[] = [];
    const silent = createNetServer((s) => sockets.push(s));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => {
      sockets.forEach((s) => s.destroy());
      silent.close();
    });
    const port = (silent.address() as AddressInfo).port;
    const password = token('pw');
    const obscured = (await execa('rclone', ['obscure', password])).stdout.trim();
    const s3Secret = token('S3');
    const config = await writeConfig(dir, {
      backup: { store: join(dir, 'store') },
      docker: { socket: SOCKET },
      logging: { file: join(dir, 'bbackup.log'), level: 'debug' },
      remotes: {
        off: {
          type: 'rclone',
          remote: `:sftp,host=127.0.0.1,port=${port},user=u:backups`,
          flags: [`--sftp-pass=${obscured}`, '--s3-secret-access-key', s3Secret, '--fast-list'],
          retry: 0,
        },
      },
    });
    const { file, args, cwd } = cliCommand();
    const cli = execa(file, [...args, '-c', config, 'list-remote-backups', '-r', 'off'], {
      cwd,
      env: { NO_COLOR: '1', BBACKUP_CONFIG: undefined, RCLONE_CONFIG: '' },
      reject: false,
    });
    onTestFinished(() => void cli.kill('SIGKILL'));
    const rclone = await waitForProcess(
      (cmd) => cmd[0]!.endsWith('rclone') && cmd.some((a) => a.includes(`port=${port}`)),
    );
    onTestFinished(() => {
      try {
        process.kill(rclone.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    });
    const cmdline = rclone.cmd.join(' ');
    expect(cmdline).toContain('--fast-list');
    expect(cmdline).not.toContain(obscured);
    expect(cmdline).not.toContain(s3Secret);
    const environ = (await readFile(`/proc/${rclone.pid}/environ`, 'utf8')).split('\0');
    expect(environ).toContain(`RCLONE_SFTP_PASS=${obscured}`);
    expect(environ).toContain(`RCLONE_S3_SECRET_ACCESS_KEY=${s3Secret}`);
    cli.kill('SIGTERM');
    const done = await cli;
    expect(`${done.stdout}${done.stderr}`).not.toContain(s3Secret);
  });

  it('a config error on a secret key does not echo the value', async () => {
    const dir = await tempDir('rsec-config');
    const config = await writeConfig(dir, {
      notifications: { email: { smtp_host: 'h', from: 'a@b', to: ['c@d'], password: 31415926535 } },
    });
    const r = await runCli(['-c', config, 'list-backups'], { env: { BBACKUP_CONFIG: undefined } });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(
      'notifications.email.password: expected string, received number (value not shown: it is a secret)',
    );
    expect(r.stderr).not.toContain('31415926535');
  });
});

/** Poll /proc until a process matches (its argv); our own process tree only holds it while it runs. */
async function waitForProcess(
  match: (cmd: string[]) => boolean,
  timeoutMs = 60_000,
): Promise<{ pid: number; cmd: string[] }> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    for (const entry of await readdir('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const cmd = await readFile(`/proc/${entry}/cmdline`, 'utf8').then(
        (t) => t.split('\0').filter(Boolean),
        () => [] as string[],
      );
      if (cmd.length > 0 && match(cmd)) return { pid: Number(entry), cmd };
    }
    if (Date.now() > end) throw new Error('the process did not appear');
    await new Promise((r) => setTimeout(r, 100));
  }
}
