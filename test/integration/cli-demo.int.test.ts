// `npm run demo` end to end, non-interactively: its own dockerd, the demo objects read back
// through bbackup, and nothing left behind (daemon, temp dirs), also after Ctrl-C.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const env = { ...process.env, DOCKER_HOST: undefined, BBACKUP_CONFIG: undefined, NO_COLOR: '1' };

/** The private engine's directory and the daemon's pid, from the demo's own output. */
function engineOf(stderr: string): { dir: string } {
  const m = stderr.match(/engine up at unix:\/\/(\/tmp\/bbdemo-engine-[^/\s]+)\/d\.sock/);
  expect(m, stderr).not.toBeNull();
  return { dir: m![1]! };
}

const asRoot = process.getuid?.() === 0;

describe('npm run demo', () => {
  it('shows the demo inventory and cleans up (refuses clearly when not root)', async () => {
    const r = await execa('bash', ['scripts/demo.sh'], { cwd: root, env, stdin: 'ignore', reject: false });
    if (!asRoot) {
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toContain('demo: must run as root');
      return;
    }
    expect(r.exitCode, r.stderr).toBe(0);
    for (const name of ['bbdemo-web', 'bbdemo-db', 'bbdemo-nightly-job', 'bbdemo-sidecar', 'bbdemo-db-data', 'bbdemo-net']) expect(r.stdout).toContain(name);
    expect(r.stdout).toMatch(/^bbdemo-db-data +local +2\d\.\d MB +bbdemo-db /m);
    expect(r.stdout).toMatch(/^bbdemo-nightly-job +exited /m);
    expect(r.stdout).toMatch(/^bbdemo-sidecar +created .* bbdemo-net /m);
    expect(r.stdout).toMatch(/^bbdemo-net +bridge +10\.231\.7\.0\/24 +yes +bbdemo-sidecar$/m);
    expect(r.stdout).toContain('container:bbdemo-old-api(missing)');
    expect(r.stderr).toContain('demo: private dockerd stopped');
    expect(existsSync(engineOf(r.stderr).dir)).toBe(false);
  });

  it.runIf(asRoot)('Ctrl-C in the middle still stops the daemon and removes everything', async () => {
    const child = execa('bash', ['scripts/demo.sh'], { cwd: root, env, stdin: 'ignore', reject: false, detached: true, all: true });
    let seen = '';
    await new Promise<void>((resolve) => {
      child.all!.on('data', (d: Buffer) => {
        seen += d.toString();
        if (seen.includes('demo: image ')) resolve();
      });
      void child.then(() => resolve());
    });
    process.kill(-child.pid!, 'SIGINT'); // the whole process group, as a terminal does
    const r = await child;
    expect(r.exitCode, r.all).toBe(130);
    expect(r.all).toContain('demo: SIGINT: stopping');
    expect(r.all).toContain('demo: private dockerd stopped');
    expect(existsSync(engineOf(r.all!).dir)).toBe(false);
  });
});
