// Start-up loads only what a command uses (issue 12, README "Speed"): which command module a run
// needs, and, for real, which npm packages the CLI imports for --version, list-containers --help
// and init-config --help (traced by test/helpers/import-trace.mjs). No Docker is contacted.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commandWord } from '../../src/cli/commands/index.js';

const root = join(import.meta.dirname, '../..');

describe('commandWord: the command a run needs', () => {
  it.each([
    [[], 'tui'],
    [['--json'], 'tui'],
    [['list-containers'], 'list-containers'],
    [['-c', 'x.yaml', 'backup', '-V', 'v'], 'backup'],
    [['--config', 'list-volumes', 'list-containers'], 'list-containers'],
    [['--host', 'h1', '-q', 'restore', 'id'], 'restore'],
    [['--config=x.yaml', 'verify'], 'verify'],
    [['--help'], undefined],
    [['-h', 'backup'], undefined],
    [['backup', '--help'], 'backup'],
    [['--', 'backup'], undefined],
  ] as [string[], string | undefined][])('%j -> %s', (argv, word) => {
    expect(commandWord(argv)).toBe(word);
  });
});

/** The npm packages bbackup's own modules import for `bbackup ...args` (and its exit status). */
function packagesFor(args: string[]): { packages: Set<string>; status: number | null; stdout: string } {
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--import', join(root, 'test/helpers/import-trace.mjs'), join(root, 'src/cli/bin.ts'), ...args],
    {
      cwd: root,
      encoding: 'utf8',
      env: {
        ...process.env,
        BBACKUP_CONFIG: join(root, 'no-such-config.yaml'),
        DOCKER_HOST: 'unix:///nonexistent.sock',
      },
    },
  );
  const packages = new Set([...r.stderr.matchAll(/^IMPORT (\S+)$/gm)].map((m) => m[1]!));
  return { packages, status: r.status, stdout: r.stdout };
}

const HEAVY = [
  'dockerode',
  'ssh2-sftp-client',
  'ssh2',
  'nodemailer',
  'age-encryption',
  'blessed',
  'blessed-contrib',
  'execa',
  'chokidar',
];

describe('start-up imports', () => {
  it('--version loads no npm package at all', () => {
    const r = packagesFor(['--version']);
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    expect([...r.packages]).toEqual([]);
  });

  it.each([['list-containers'], ['init-config'], ['list-backups']])(
    '%s --help loads none of the heavy libraries',
    (cmd) => {
      const r = packagesFor([cmd, '--help']);
      expect(r.status).toBe(0);
      expect(r.packages.has('commander')).toBe(true); // the trace works
      expect(HEAVY.filter((p) => r.packages.has(p))).toEqual([]);
    },
  );

  it('--help still lists every command', () => {
    const r = packagesFor(['--help']);
    expect(r.status).toBe(0);
    for (const c of ['list-containers', 'backup', 'restore', 'verify', 'pull', 'schedule', 'init-encryption', 'tui'])
      expect(r.stdout).toContain(c);
  });
});

/** The packages the built CLI (dist/, as installed) requires from node_modules for `bbackup ...args`. */
function requiredByBuilt(args: string[], env: Record<string, string>): { packages: string[]; status: number | null } {
  const bin = join(root, 'dist/src/cli/bin.js');
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run npm run build first`);
  const dir = mkdtempSync(join(tmpdir(), 'bbt-su-'));
  try {
    const config = join(dir, 'c.yaml');
    writeFileSync(config, `backup: { store: ${dir}/store }\nlogging: { file: ${dir}/log }\n`);
    const trace = join(root, 'test/helpers/require-trace.cjs');
    const r = spawnSync(process.execPath, ['--require', trace, bin, '-c', config, ...args], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, ...env },
    });
    return { packages: [...r.stderr.matchAll(/^REQUIRED (\S+)$/gm)].map((m) => m[1]!).sort(), status: r.status };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('start-up of the built CLI (dist/)', () => {
  // dockerode requires ssh2 (ssh:// engines) and gRPC + protobufjs (BuildKit sessions) when it
  // loads; scripts/bundle.mjs defers both to their first use.
  const SSH_AND_GRPC = ['ssh2', '@grpc/grpc-js', '@grpc/proto-loader', 'protobufjs'];

  it('list-containers loads no ssh or gRPC code, nor the TUI', () => {
    const r = requiredByBuilt(['list-containers'], { DOCKER_HOST: 'unix:///nonexistent.sock' });
    expect(r.status).toBe(3); // DOCKER_UNREACHABLE: dockerode itself was loaded and tried
    expect(r.packages.filter((p) => [...SSH_AND_GRPC, 'blessed', 'blessed-contrib'].includes(p))).toEqual([]);
  });

  it('an ssh:// engine still gets its ssh transport on first use', () => {
    const r = requiredByBuilt(['list-containers'], { DOCKER_HOST: 'ssh://nobody@127.0.0.1:1' });
    expect(r.status).toBe(3);
    expect(r.packages).toContain('ssh2');
  });
});

describe('the installed command (package.json "bin")', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    version: string;
    bin: { bbackup: string };
  };
  const installed = join(root, pkg.bin.bbackup);
  const run = (args: string[]) => spawnSync(process.execPath, [installed, ...args], { cwd: root, encoding: 'utf8' });

  it('answers --version with the package version without loading the ES module CLI', () => {
    if (!existsSync(installed)) throw new Error(`${installed} is missing: run npm run build first`);
    const trace = join(root, 'test/helpers/require-trace.cjs');
    const r = spawnSync(process.execPath, ['--require', trace, installed, '--version'], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`${pkg.version}\n`);
    expect(r.stderr).not.toMatch(/^(REQUIRED |ESM-LOADER)/m);
  });

  it('hands every other command to the CLI, exit codes included', () => {
    expect(run(['--help']).stdout).toContain('list-containers');
    const bad = run(['-c', join(root, 'no-such-config.yaml'), 'list-containers']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('does not exist');
    const trace = join(root, 'test/helpers/require-trace.cjs');
    const json = spawnSync(process.execPath, ['--require', trace, installed, '--json', '--version'], {
      encoding: 'utf8',
    });
    expect(json.stdout).toBe(`${pkg.version}\n`); // --version among other flags: the CLI answers it
    expect(json.stderr).toMatch(/^ESM-LOADER$/m);
  });
});
