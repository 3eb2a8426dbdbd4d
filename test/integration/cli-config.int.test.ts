// Bad config input through the real command line: the documented exit code and a message that
// names the file and line; init-config; the log file and the console behaviour of -q / -v.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/load.js';
import { defaultConfigPath, SYSTEM_CONFIG } from '../../src/cli/commands/init-config.js';
import { runCli } from '../helpers/cli.js';

const dirs: string[] = [];
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'bbt-cli-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A throwaway HOME and cwd so no real config on this machine is found by the search path. */
const isolated = () => {
  const dir = tempDir();
  return { dir, cwd: dir, env: { HOME: dir, BBACKUP_CONFIG: undefined, DOCKER_HOST: undefined } };
};
const writeConfig = (dir: string, text: string, name = 'bbackup-test.yaml'): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

describe('bad config through the CLI', () => {
  it.each([
    { name: 'malformed YAML', text: 'backup:\n  store: /x\n   bad: indent\n', msg: /:2:\d+: malformed YAML: / },
    {
      name: 'wrong type for a key',
      text: 'docker:\n  timeout: soon\n',
      msg: /:2:3: docker\.timeout: expected number, received string \(got "soon"\)/,
    },
    {
      name: 'unknown key',
      text: 'logging:\n  levl: debug\n',
      msg: /:2:3: unknown key "levl" in logging \(did you mean "level"\?\)/,
    },
    {
      name: 'unset ${ENV}',
      text: 'backup:\n  store: ${BBT_SURELY_UNSET}\n',
      msg: /:2:3: backup\.store uses \$\{BBT_SURELY_UNSET\} but that environment variable is not set/,
    },
  ])('$name: exit 2, file and line on stderr, nothing on stdout', async ({ text, msg }) => {
    const { dir, cwd, env } = isolated();
    const path = writeConfig(dir, text);
    const r = await runCli(['-c', path, 'list-containers'], { cwd, env });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^bbackup: error: ${path.replace(/[.]/g, '\\.')}${msg.source}`));
    expect(r.stdout).toBe('');
  });

  it('the same error in --json is one JSON document on stdout', async () => {
    const { dir, cwd, env } = isolated();
    const path = writeConfig(dir, 'docker:\n  sockt: /x\n');
    const r = await runCli(['--json', '-c', path, 'list-volumes'], { cwd, env });
    expect(r.exitCode).toBe(2);
    expect(JSON.parse(r.stdout)).toEqual({
      error: {
        code: 'CONFIG_INVALID',
        message: expect.stringContaining(`${path}:2:3: unknown key "sockt"`),
        exitCode: 2,
      },
    });
  });

  it.each([
    { via: '--config', args: ['-c', 'missing.yaml'], env: {}, label: '--config' },
    {
      via: '$BBACKUP_CONFIG',
      args: [],
      env: { BBACKUP_CONFIG: '/nonexistent/bbackup.yaml' },
      label: '$BBACKUP_CONFIG',
    },
  ])('a missing config path from $via: exit 2 and how to create one', async ({ args, env: extra, label }) => {
    const { cwd, env } = isolated();
    const r = await runCli([...args, 'list-networks'], { cwd, env: { ...env, ...extra } });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(`(from ${label}) does not exist; create one with: bbackup init-config --path`);
  });

  it('an unknown --host is a usage error (exit 1) listing the configured hosts', async () => {
    const { dir, cwd, env } = isolated();
    const path = writeConfig(dir, 'hosts:\n  alpha: {docker_host: "unix:///nonexistent.sock"}\n');
    const r = await runCli(['-c', path, '--host', 'beta', 'list-containers'], { cwd, env });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('unknown host "beta"; configured hosts: alpha');
  });

  it('list-backup-sets without any sets says so and needs no engine', async () => {
    const { dir, cwd, env } = isolated();
    const path = writeConfig(dir, 'docker: {socket: /nonexistent/docker.sock}\n');
    const r = await runCli(['-c', path, 'list-backup-sets'], { cwd, env });
    expect(r).toMatchObject({
      exitCode: 0,
      stdout: 'no backup sets configured (backup.backup_sets in the config)',
      stderr: '',
    });
    expect(JSON.parse((await runCli(['-c', path, '--json', 'list-backup-sets'], { cwd, env })).stdout)).toEqual({
      backup_sets: [],
    });
  });

  it('an unknown command or option is a usage error (exit 1)', async () => {
    expect((await runCli(['list-everything'])).exitCode).toBe(1);
    expect((await runCli(['list-containers', '--bogus'])).exitCode).toBe(1);
  });
});

describe('init-config', () => {
  it('writes the example (0600, parent dirs created), refuses to overwrite, --force replaces', async () => {
    const { dir, cwd, env } = isolated();
    const path = join(dir, 'deep', 'er', 'config.yaml');
    const first = await runCli(['init-config', '--path', path], { cwd, env });
    expect(first.exitCode).toBe(0);
    expect(first.stdout).toContain(`wrote ${path} (mode 0600)`);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const text = readFileSync(path, 'utf8');
    expect(text).toMatch(/^# yaml-language-server: \$schema=file:\/\/\/.*assets\/config\.schema\.json\n/);
    expect(parseConfigText(text, path, {}).backup.store).toBe('/var/backups/bbackup');

    writeFileSync(path, 'docker: {timeout: 5}\n', { mode: 0o644 });
    const again = await runCli(['init-config', '--path', path], { cwd, env });
    expect(again.exitCode).toBe(1);
    expect(again.stderr).toContain(`${path} already exists; not overwriting it (use --force`);
    expect(readFileSync(path, 'utf8')).toBe('docker: {timeout: 5}\n');

    const forced = await runCli(['--json', 'init-config', '--path', path, '--force'], { cwd, env });
    expect(forced.exitCode).toBe(0);
    expect(JSON.parse(forced.stdout)).toEqual({ path, onSearchPath: false });
    expect(readFileSync(path, 'utf8')).toBe(text);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('a file written to ~/.config/bbackup/config.yaml is found by the search path', async () => {
    const { dir, cwd, env } = isolated();
    const path = join(dir, '.config', 'bbackup', 'config.yaml');
    const r = await runCli(['init-config', '--path', '~/.config/bbackup/config.yaml'], { cwd, env });
    expect(r.exitCode).toBe(0);
    expect(existsSync(path)).toBe(true);
    expect(r.stdout).toContain('bbackup finds it without -c');
  });

  it('defaults to /etc/bbackup/config.yaml for root and ~/.config/bbackup/config.yaml otherwise', () => {
    expect(defaultConfigPath({ HOME: '/root' }, 0)).toBe(SYSTEM_CONFIG);
    expect(defaultConfigPath({ HOME: '/home/ann' }, 1000)).toBe('/home/ann/.config/bbackup/config.yaml');
  });
});

describe('logging through the CLI', () => {
  const engineSocket = () => process.env.BBACKUP_TEST_DOCKER_HOST!.replace('unix://', '');

  it('commands write to logging.file; warnings reach stderr; -q hides them; -v shows info', async () => {
    const { dir, cwd, env } = isolated();
    const log = join(dir, 'logs', 'bbackup.log');
    const path = writeConfig(
      dir,
      `logging: {file: ${log}, level: debug}\ndocker: {socket: ${engineSocket()}}\nbackup:\n  backup_sets:\n    ghost: {containers: [bbt-inv-no-such-container]}\n`,
    );
    const plain = await runCli(['-c', path, 'list-backup-sets'], { cwd, env });
    expect(plain.exitCode).toBe(1);
    expect(plain.stderr).toBe('bbackup: warning: backup set ghost: container bbt-inv-no-such-container does not exist');
    expect(plain.stdout).toMatch(/^SET +MEMBERS/);

    const quiet = await runCli(['-q', '-c', path, 'list-backup-sets'], { cwd, env });
    expect(quiet.exitCode).toBe(1);
    expect(quiet.stderr).toBe('');
    expect(quiet.stdout).toBe('');

    const verbose = await runCli(['-v', '-c', path, 'list-containers'], { cwd, env });
    expect(verbose.exitCode).toBe(0);
    expect(verbose.stderr).toMatch(/^bbackup: asking the Docker engine at unix:\/\/.+ \(from docker\.socket\)$/);

    const broken = writeConfig(
      dir,
      `logging: {file: ${log}}\ndocker: {socket: ${join(dir, 'none.sock')}}\n`,
      'broken.yaml',
    );
    expect((await runCli(['-c', broken, 'list-volumes'], { cwd, env })).exitCode).toBe(3);

    const lines = readFileSync(log, 'utf8').trim().split('\n');
    const text = lines.join('\n');
    expect(text).toMatch(/WARN +\[bbackup\] backup set ghost: container bbt-inv-no-such-container does not exist/);
    expect(text).toMatch(/WARN +\[bbackup\] list-backup-sets: exit 1 after \d+ ms/);
    expect(text).toMatch(/INFO +\[bbackup\] asking the Docker engine at unix:\/\//);
    expect(text).toMatch(/INFO +\[bbackup\] list-containers: exit 0 after \d+ ms/);
    expect(text).toMatch(
      /ERROR +\[bbackup\] cannot reach the Docker engine at unix:\/\/.*none\.sock \(from docker\.socket\): no such socket/,
    );
    for (const line of lines) expect(line).toMatch(/^\d{4}-\d\d-\d\dT\S+Z (DEBUG|INFO |WARN |ERROR) \[\w+\] /);
  });

  it('a log file that cannot be created does not stop the command', async () => {
    const { dir, cwd, env } = isolated();
    writeFileSync(join(dir, 'afile'), '');
    const path = writeConfig(
      dir,
      `logging: {file: ${join(dir, 'afile', 'sub', 'x.log')}}\ndocker: {socket: ${engineSocket()}}\n`,
    );
    const r = await runCli(['-c', path, 'list-networks'], { cwd, env });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^NAME +DRIVER/);
    expect(r.stderr).toMatch(/^bbackup: warning: cannot write the log file .*x\.log: ENOTDIR/);
  });
});
