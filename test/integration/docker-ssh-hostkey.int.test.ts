// An ssh:// Docker host is trusted only with a known host key, as the sftp remote: against a real
// sshd (its sessions run `docker system dial-stdio` to the test engine), the key in known_hosts is
// accepted, a host missing from known_hosts is refused with the ssh-keyscan line to add it, a
// different key is refused as a HOST KEY MISMATCH, a pinned host_key works (and a wrong pin does not).
import { execa } from 'execa';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { startSshd, type Sshd } from '../helpers/sshd.js';
import { tempDir, writeConfig } from './ops-fixtures.js';

const ENGINE = process.env.BBACKUP_TEST_DOCKER_HOST!;
let sshd: Sshd;
let dir: string;
let env: Record<string, string | undefined>;
let stopAgent: () => void;

beforeAll(async () => {
  sshd = await startSshd({ env: { DOCKER_HOST: ENGINE } });
  dir = await mkdtemp(join(tmpdir(), 'bbt-rsec-ssh-'));
  // dockerode authenticates through ssh-agent: our own, in the foreground, stopped by its pid
  const agentSock = join(dir, 'agent.sock');
  const agent = execa('ssh-agent', ['-D', '-a', agentSock], { reject: false });
  stopAgent = () => void agent.kill('SIGTERM');
  for (let i = 0; i < 100 && !(await stat(agentSock).catch(() => undefined)); i++)
    await new Promise((r) => setTimeout(r, 20));
  await execa('ssh-add', [sshd.clientKey], { env: { SSH_AUTH_SOCK: agentSock } });
  // HOME without a ~/.ssh/known_hosts: the default file does not exist
  env = { BBACKUP_CONFIG: undefined, DOCKER_HOST: undefined, SSH_AUTH_SOCK: agentSock, HOME: dir };
});
afterAll(async () => {
  stopAgent?.();
  await sshd?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function listNetworks(
  host: Record<string, unknown>,
): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const config = await writeConfig(await tempDir('rsec-ssh-cfg'), {
    hosts: { far: { docker_host: `ssh://root@127.0.0.1:${sshd.port}`, ...host } },
  });
  return runCli(['-c', config, '--host', 'far', 'list-networks'], { env });
}

describe('ssh:// Docker host keys', () => {
  it('the key in known_hosts is accepted', async () => {
    const r = await listNetworks({ known_hosts: sshd.knownHosts });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\bnone\b/);
  });

  it('a host that is not in known_hosts is refused, with how to add it', async () => {
    // No host key settings: ~/.ssh/known_hosts, which does not exist here. Through a hosts entry and through DOCKER_HOST.
    const dflt = await listNetworks({});
    expect(dflt.exitCode, dflt.stderr).toBe(3);
    expect(dflt.stderr).toContain(
      `refused to talk to the Docker engine at ssh://root@127.0.0.1:${sshd.port} (from --host far): cannot read known_hosts ${join(dir, '.ssh/known_hosts')}`,
    );
    const viaEnv = await runCli(['-c', await writeConfig(await tempDir('rsec-ssh-cfg'), {}), 'list-networks'], {
      env: { ...env, DOCKER_HOST: `ssh://root@127.0.0.1:${sshd.port}` },
    });
    expect(viaEnv.exitCode, viaEnv.stderr).toBe(3);
    expect(viaEnv.stderr).toContain(`(from DOCKER_HOST): cannot read known_hosts ${join(dir, '.ssh/known_hosts')}`);
    const empty = join(dir, 'empty_known_hosts');
    await writeFile(empty, '');
    const r = await listNetworks({ known_hosts: empty });
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toContain(
      `refused to talk to the Docker engine at ssh://root@127.0.0.1:${sshd.port} (from --host far): host [127.0.0.1]:${sshd.port} is not in ${empty}; add its key (ssh-keyscan -p ${sshd.port} 127.0.0.1 >> ${empty}) or pin host_key in the config`,
    );
  });

  it('a different key for the host is a HOST KEY MISMATCH', async () => {
    const r = await listNetworks({ known_hosts: sshd.wrongKnownHosts });
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toContain(
      `HOST KEY MISMATCH for [127.0.0.1]:${sshd.port}: the key the server presented is not the one in ${sshd.wrongKnownHosts} (possible man-in-the-middle)`,
    );
  });

  it('a pinned host_key works; a wrong pin is a mismatch; insecure_accept_any_host_key accepts anything', async () => {
    const pinned = await listNetworks({ host_key: sshd.hostKey });
    expect(pinned.exitCode, pinned.stderr).toBe(0);
    const other = (await execa('cat', [sshd.wrongKnownHosts])).stdout.split(/\s+/).slice(1, 3).join(' ');
    const wrong = await listNetworks({ host_key: other });
    expect(wrong.exitCode).toBe(3);
    expect(wrong.stderr).toContain(
      `HOST KEY MISMATCH for [127.0.0.1]:${sshd.port}: the server's key is not the pinned host_key`,
    );
    const any = await listNetworks({ known_hosts: sshd.wrongKnownHosts, insecure_accept_any_host_key: true });
    expect(any.exitCode, any.stderr).toBe(0);
  });
});
