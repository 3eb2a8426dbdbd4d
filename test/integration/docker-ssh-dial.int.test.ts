// Docker over ssh:// keeps its connections: against a real sshd whose sessions run `docker system
// dial-stdio` to the test engine, twenty API calls in a row open one ssh connection and one
// dial-stdio channel (docker-modem's own ssh support opened twenty of each), twelve at once stay
// within OpenSSH's sessions per connection by opening more connections, and an idle connection does
// not keep a process alive.
import { execa } from 'execa';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import * as ssh2 from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sshDialAgent } from '../../src/docker/ssh-dial.js';
import { startSshd, type Sshd } from '../helpers/sshd.js';

const ENGINE = process.env.BBACKUP_TEST_DOCKER_HOST!;
let sshd: Sshd;
let dir: string;
let agentSock: string;
let stopAgent: () => void;

beforeAll(async () => {
  sshd = await startSshd({ env: { DOCKER_HOST: ENGINE } });
  dir = await mkdtemp(join(tmpdir(), 'bbt-rsec-dial-'));
  agentSock = join(dir, 'agent.sock');
  const agent = execa('ssh-agent', ['-D', '-a', agentSock], { reject: false });
  stopAgent = () => void agent.kill('SIGTERM');
  for (let i = 0; i < 100 && !(await stat(agentSock).catch(() => undefined)); i++)
    await new Promise((r) => setTimeout(r, 20));
  await execa('ssh-add', [sshd.clientKey], { env: { SSH_AUTH_SOCK: agentSock } });
});
afterAll(async () => {
  stopAgent?.();
  await sshd?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** A dockerode over the agent, with ssh2's Client counted: connections made, channels opened. */
function countingDocker(): { docker: Docker; counts: { connections: number; channels: number } } {
  const counts = { connections: 0, channels: 0 };
  class Client extends ssh2.Client {
    constructor() {
      super();
      counts.connections++;
      const exec = this.exec.bind(this) as (...a: unknown[]) => this;
      Object.assign(this, {
        exec: (...a: unknown[]) => {
          counts.channels++;
          return exec(...a);
        },
      });
    }
  }
  const agent = sshDialAgent(
    { host: '127.0.0.1', port: sshd.port, username: 'root', agent: agentSock, hostVerifier: () => true },
    () => Promise.resolve({ ...ssh2, Client } as unknown as typeof ssh2),
  );
  const options: Docker.DockerOptions & { agent: typeof agent } = { protocol: 'http', host: 'docker', agent };
  return { docker: new Docker(options), counts };
}

describe('ssh:// Docker connections', () => {
  it('calls in a row share one connection and one dial-stdio channel', async () => {
    const { docker, counts } = countingDocker();
    const version = await docker.version();
    for (let i = 0; i < 19; i++) expect((await docker.version()).ApiVersion).toBe(version.ApiVersion);
    expect(counts).toEqual({ connections: 1, channels: 1 });
  });

  it('calls at once open more connections rather than more than 8 sessions on one', async () => {
    const { docker, counts } = countingDocker();
    const all = await Promise.all(Array.from({ length: 12 }, () => docker.listNetworks()));
    expect(all.every((n) => n.some((x) => x.Name === 'none'))).toBe(true);
    expect(counts.channels).toBeLessThanOrEqual(12);
    expect(counts.connections).toBeGreaterThanOrEqual(Math.ceil(counts.channels / 8));
  });

  it('an idle connection does not keep a process alive', async () => {
    // a child makes one call and returns from its script: it must exit on its own, not after the idle close
    const script = [
      "import Docker from 'dockerode';",
      "import * as ssh2 from 'ssh2';",
      `import { sshDialAgent } from ${JSON.stringify(join(process.cwd(), 'src/docker/ssh-dial.ts'))};`,
      `const agent = sshDialAgent({ host: '127.0.0.1', port: ${sshd.port}, username: 'root', agent: ${JSON.stringify(agentSock)}, hostVerifier: () => true }, async () => ssh2, 600_000);`,
      "await new Docker({ protocol: 'http', host: 'docker', agent }).version();",
      "console.log('called');",
    ].join('\n');
    const r = await execa(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: process.cwd(),
      reject: false,
      // far under its 10 min idle close: a child held open by its connection is killed and fails here
      timeout: 100_000,
    });
    expect(r.stdout + r.stderr).toContain('called');
    expect(r.exitCode, r.stderr).toBe(0);
  });
});
