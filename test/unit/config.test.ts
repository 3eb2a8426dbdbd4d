// Config loading (DESIGN §6): defaults, search order, ${ENV}, *_file secrets and the messages a
// bad file gets. The same bad inputs go through the real CLI in test/integration/cli-config.int.test.ts.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig, parseConfigObject, parseConfigText } from '../../src/config/load.js';
import { locateConfig, searchPath } from '../../src/config/locate.js';
import { BbackupError } from '../../src/errors.js';

const dirs: string[] = [];
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'bbt-cfg-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const fail = (fn: () => unknown): BbackupError => {
  try {
    fn();
  } catch (err) {
    if (err instanceof BbackupError) return err;
    throw err;
  }
  throw new Error('expected a BbackupError');
};

describe('defaults', () => {
  it('an empty file gives a default for every key', () => {
    const expected = {
      backup: {
        store: '/var/backups/bbackup',
        default_scope: { containers: true, volumes: true, networks: true },
        backup_sets: {},
        compression: { method: 'zstd', level: 3 },
        volumes: { mode: 'auto', format: 'tree', worker_image: 'bbackup-worker:local', concurrency: 2 },
        logs: { lines: 1000 },
        networks: 'used',
        images: 'local',
      },
      incremental: { enabled: true },
      remotes: {},
      retention: {
        last: 3,
        daily: 7,
        weekly: 4,
        monthly: 6,
        yearly: 0,
        keep_within: '24h',
        max_storage_gb: 0,
        enabled: true,
      },
      encryption: { enabled: false, recipients: [], local: false },
      logging: { level: 'info', max_size_mb: 10, backup_count: 5 },
      docker: { socket: '/var/run/docker.sock', timeout: 60 },
      notifications: { on: 'failure', webhooks: [] },
      schedule: {},
      hosts: {},
      hooks: { pre: [], post: [], timeout: 300 },
    };
    expect(parseConfigText('', '/x.yaml', {})).toEqual(expected);
    expect(parseConfigText('# only a comment\n', '/x.yaml', {})).toEqual(expected);
    expect(parseConfigObject({}, 'x', {})).toEqual(expected);
  });

  it('defaults fill in below a partly written section', () => {
    const c = parseConfigText(
      'backup:\n  compression:\n    method: gzip\n  backup_sets:\n    s: {containers: [a]}\n',
      '/x.yaml',
      {},
    );
    expect(c.backup.compression).toEqual({ method: 'gzip', level: 3 });
    expect(c.backup.store).toBe('/var/backups/bbackup');
    expect(c.backup.backup_sets.s).toEqual({ containers: ['a'], volumes: [], networks: [] });
  });

  it("a set's scope stays unset (falls back to default_scope); a partial scope defaults the rest", () => {
    const c = parseConfigText(
      'backup:\n  default_scope: {networks: false}\n  backup_sets:\n    a: {containers: [x]}\n    b: {scope: {volumes: false}}\nschedule:\n  n: {cron: "0 3 * * *"}\n',
      '/x.yaml',
      {},
    );
    expect(c.backup.default_scope).toEqual({ containers: true, volumes: true, networks: false });
    expect(c.backup.backup_sets.a?.scope).toBeUndefined();
    expect(c.backup.backup_sets.b?.scope).toEqual({ containers: true, volumes: false, networks: true });
    expect(c.schedule.n?.scope).toBeUndefined();
  });

  it('remote defaults per type', () => {
    const c = parseConfigText(
      'remotes:\n  n: {type: local, path: /mnt}\n  s: {type: sftp, host: h, user: u, path: /p}\n',
      '/x.yaml',
      {},
    );
    expect(c.remotes.n).toEqual({ type: 'local', enabled: true, retry: 2, transfers: 4, path: '/mnt' });
    expect(c.remotes.s).toMatchObject({ port: 22, insecure_accept_any_host_key: false, enabled: true });
  });
});

describe('search order', () => {
  const layout = () => {
    const cwd = tempDir();
    const home = tempDir();
    const files = {
      flag: join(cwd, 'flag.yaml'),
      env: join(cwd, 'env.yaml'),
      cwd: join(cwd, 'bbackup.yaml'),
      home: join(home, '.config', 'bbackup', 'config.yaml'),
    };
    mkdirSync(join(home, '.config', 'bbackup'), { recursive: true });
    return { cwd, home, files };
  };

  it('lists ./bbackup.yaml, ~/.config/bbackup/config.yaml, /etc/bbackup/config.yaml', () => {
    expect(searchPath({ HOME: '/home/u' }, '/srv')).toEqual([
      '/srv/bbackup.yaml',
      '/home/u/.config/bbackup/config.yaml',
      '/etc/bbackup/config.yaml',
    ]);
  });

  it.each([
    {
      name: '--config beats everything',
      present: ['flag', 'env', 'cwd', 'home'],
      flag: true,
      env: true,
      want: 'flag',
      via: 'flag',
    },
    {
      name: '$BBACKUP_CONFIG beats the search path',
      present: ['env', 'cwd', 'home'],
      flag: false,
      env: true,
      want: 'env',
      via: 'env',
    },
    {
      name: './bbackup.yaml beats ~/.config',
      present: ['cwd', 'home'],
      flag: false,
      env: false,
      want: 'cwd',
      via: 'search',
    },
    { name: '~/.config when nothing closer', present: ['home'], flag: false, env: false, want: 'home', via: 'search' },
  ] as const)('$name', ({ present, flag, env, want, via }) => {
    const { cwd, home, files } = layout();
    for (const p of present) writeFileSync(files[p], '{}\n');
    const source = locateConfig(
      flag ? 'flag.yaml' : undefined,
      { HOME: home, ...(env ? { BBACKUP_CONFIG: files.env } : {}) },
      cwd,
    );
    expect(source).toEqual({ path: files[want], via });
  });

  it('an explicit path (flag or env) that does not exist is a config error (exit 2), never a fallback', () => {
    const { cwd, home, files } = layout();
    writeFileSync(files.cwd, '{}\n');
    for (const [flag, env] of [
      ['nope.yaml', {}],
      [undefined, { BBACKUP_CONFIG: '/nope/x.yaml' }],
    ] as const) {
      const err = fail(() => locateConfig(flag, { HOME: home, ...env }, cwd));
      expect(err.code).toBe('CONFIG_NOT_FOUND');
      expect(err.exitCode).toBe(2);
      expect(err.message).toMatch(/does not exist; create one with: bbackup init-config --path/);
    }
  });

  it('~ in --config is the home directory', () => {
    const { home, files } = layout();
    writeFileSync(files.home, 'docker: {timeout: 5}\n');
    const loaded = loadConfig('~/.config/bbackup/config.yaml', { HOME: home }, '/');
    expect(loaded.config.docker.timeout).toBe(5);
  });
});

describe('${ENV} and *_file secrets', () => {
  it.each([
    { name: 'set variable', text: 'backup: {store: "${STORE}"}', env: { STORE: '/b' }, store: '/b' },
    { name: 'inside a string', text: 'backup: {store: "/data/${HOST}/b"}', env: { HOST: 'h1' }, store: '/data/h1/b' },
    { name: 'default when unset', text: 'backup: {store: "${STORE:-/fallback}"}', env: {}, store: '/fallback' },
    {
      name: 'default when empty',
      text: 'backup: {store: "${STORE:-/fallback}"}',
      env: { STORE: '' },
      store: '/fallback',
    },
    { name: 'set beats default', text: 'backup: {store: "${STORE:-/fallback}"}', env: { STORE: '/b' }, store: '/b' },
    { name: '$$ is a literal $', text: 'backup: {store: "/b/$$HOME"}', env: { HOME: '/root' }, store: '/b/$HOME' },
  ])('$name', ({ text, env, store }) => {
    expect(parseConfigText(text, '/x.yaml', env).backup.store).toBe(store);
  });

  it('an unset variable without default names file, line, key and variable', () => {
    const err = fail(() => parseConfigText('backup:\n  store: ${NOPE}\n', '/etc/b.yaml', {}));
    expect(err.exitCode).toBe(2);
    expect(err.message).toBe(
      '/etc/b.yaml:2:3: backup.store uses ${NOPE} but that environment variable is not set (use ${NOPE:-default} for a default)',
    );
  });

  it('password_file reads the secret relative to the config file, without the trailing newline', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'smtp.pass'), 's3cret\n');
    const text = 'notifications:\n  email: {smtp_host: h, from: a@b, to: [c@d], password_file: smtp.pass}\n';
    const c = parseConfigText(text, join(dir, 'config.yaml'), {});
    expect(c.notifications.email?.password).toBe('s3cret');
    expect(c.notifications.email).not.toHaveProperty('password_file');
  });

  it.each([
    {
      name: 'missing secret file',
      extra: 'password_file: /nonexistent/pass',
      msg: /:2:\d+: notifications\.email\.password_file: cannot read \/nonexistent\/pass: ENOENT/,
    },
    {
      name: 'both set',
      extra: 'password: x, password_file: /p',
      msg: /password_file and password are both set; keep one/,
    },
    { name: 'not a path', extra: 'password_file: [a]', msg: /password_file must be a file path/ },
  ])('$name is a config error', ({ extra, msg }) => {
    const err = fail(() =>
      parseConfigText(`notifications:\n  email: {smtp_host: h, from: a@b, to: [c@d], ${extra}}\n`, '/c.yaml', {}),
    );
    expect(err.exitCode).toBe(2);
    expect(err.message).toMatch(msg);
  });

  it('sftp key_passphrase_file and webhook url_file work the same way', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'kp'), 'pp\n');
    writeFileSync(join(dir, 'url'), 'https://hooks.test/x?token=abc\n');
    const text = `remotes:\n  s: {type: sftp, host: h, user: u, path: /p, key_passphrase_file: ${join(dir, 'kp')}}\nnotifications:\n  webhooks:\n    - url_file: ${join(dir, 'url')}\n`;
    const c = parseConfigText(text, '/c.yaml', {});
    expect(c.remotes.s).toMatchObject({ key_passphrase: 'pp' });
    expect(c.notifications.webhooks[0]?.url).toBe('https://hooks.test/x?token=abc');
  });
});

describe('bad files: file, line, key and what was expected', () => {
  it.each([
    {
      name: 'malformed YAML',
      text: 'backup:\n  store: /x\n   bad: indent\n',
      msg: /^\/c\.yaml:2:\d+: malformed YAML: /,
    },
    {
      name: 'unclosed flow sequence',
      text: 'backup:\n  backup_sets:\n    s: {containers: [a, b}\n',
      msg: /^\/c\.yaml:\d+:\d+: malformed YAML: /,
    },
    {
      name: 'duplicate key',
      text: 'docker: {}\ndocker: {}\n',
      msg: /^\/c\.yaml:2:1: malformed YAML: Map keys must be unique/,
    },
    {
      name: 'not a mapping',
      text: '- a\n- b\n',
      msg: /^\/c\.yaml: the config must be a mapping of sections .* not a list$/,
    },
    {
      name: 'wrong type',
      text: 'docker:\n  timeout: soon\n',
      msg: /^\/c\.yaml:2:3: docker\.timeout: expected number, received string \(got "soon"\)$/,
    },
    {
      name: 'wrong enum',
      text: 'logging:\n  level: loud\n',
      msg: /^\/c\.yaml:2:3: logging\.level: expected one of "debug"\|"info"\|"warn"\|"error" \(got "loud"\)$/,
    },
    {
      name: 'not an integer',
      text: 'backup:\n  compression:\n    level: 3.5\n',
      msg: /^\/c\.yaml:3:5: backup\.compression\.level: expected int/,
    },
    {
      name: 'out of range',
      text: 'backup:\n  volumes:\n    concurrency: 99\n',
      msg: /^\/c\.yaml:3:5: backup\.volumes\.concurrency: Too big: expected number to be <=16 \(got 99\)$/,
    },
    {
      name: 'unknown key with a suggestion',
      text: 'docker:\n  sockt: /x\n',
      msg: /^\/c\.yaml:2:3: unknown key "sockt" in docker \(did you mean "socket"\?\); allowed: socket, timeout$/,
    },
    {
      name: 'unknown top-level section',
      text: 'backp: {}\n',
      msg: /^\/c\.yaml:1:1: unknown key "backp" in the top level \(did you mean "backup"\?\); allowed: backup, incremental, /,
    },
    {
      name: 'unknown key deep in a record',
      text: 'backup:\n  backup_sets:\n    s:\n      contaners: [a]\n',
      msg: /^\/c\.yaml:4:7: unknown key "contaners" in backup\.backup_sets\.s \(did you mean "containers"\?\)/,
    },
    {
      name: 'unknown key, nothing close',
      text: 'retention:\n  forever: true\n',
      msg: /^\/c\.yaml:2:3: unknown key "forever" in retention; allowed: last, daily, /,
    },
    {
      name: 'keep_within not a duration',
      text: 'retention:\n  keep_within: 1 day\n',
      msg: /^\/c\.yaml:2:3: retention\.keep_within: must be a duration like 24h, 36h, 7d, 2w .* or 0 for off \(got "1 day"\)$/,
    },
    {
      name: 'keep_within in minutes (m is ambiguous)',
      text: 'retention:\n  keep_within: 90m\n',
      msg: /^\/c\.yaml:2:3: retention\.keep_within: must be a duration/,
    },
    {
      name: 'keep_within a bare number',
      text: 'retention:\n  keep_within: 24\n',
      msg: /^\/c\.yaml:2:3: retention\.keep_within: must be a duration .* \(got 24\)$/,
    },
    {
      name: 'keep_within a boolean',
      text: 'retention:\n  keep_within: true\n',
      msg: /^\/c\.yaml:2:3: retention\.keep_within: must be a duration .* \(got true\)$/,
    },
    {
      name: 'local store encryption (not supported) is refused',
      text: 'encryption:\n  local: true\n',
      msg: /^\/c\.yaml:2:3: encryption\.local: encrypting the local store is not supported yet/,
    },
    {
      name: 'unknown remote type',
      text: 'remotes:\n  a:\n    type: ftp\n',
      msg: /^\/c\.yaml:3:5: remotes\.a\.type: .*'local' \| 'rclone' \| 'sftp'/,
    },
    {
      name: 'missing required keys',
      text: 'remotes:\n  a: {type: sftp, host: h}\n',
      msg: /2 problems:\n {2}\/c\.yaml:2:\d+: remotes\.a\.user is required \(expected string\)\n {2}\/c\.yaml:2:\d+: remotes\.a\.path is required/,
    },
    {
      name: 'a bad webhook url is not echoed (tokens live there)',
      text: 'notifications:\n  webhooks:\n    - url: "hooks/T0000/s3cr3t-t0ken"\n',
      msg: /^\/c\.yaml:3:\d+: notifications\.webhooks\[0\]\.url: Invalid URL \(value not shown: it is a secret\)$/,
    },
    {
      name: 'a password of the wrong type is not echoed',
      text: 'notifications:\n  email: {smtp_host: h, from: a@b, to: [c@d], password: 12345678}\n',
      msg: /^\/c\.yaml:2:\d+: notifications\.email\.password: expected string, received number \(value not shown: it is a secret\)$/,
    },
    {
      name: 'a webhook header of the wrong type is not echoed',
      text: 'notifications:\n  webhooks:\n    - {url: "https://h/x", headers: {Authorization: 987654321}}\n',
      msg: /^\/c\.yaml:3:\d+: notifications\.webhooks\[0\]\.headers\.Authorization: expected string, received number \(value not shown: it is a secret\)$/,
    },
    {
      name: 'bad backup set name',
      text: 'backup:\n  backup_sets:\n    "bad name": {}\n',
      msg: /^\/c\.yaml:3:5: backup\.backup_sets\.bad name: bad name: must start with a letter or digit/,
    },
  ])('$name', ({ text, msg }) => {
    const err = fail(() => parseConfigText(text, '/c.yaml', {}));
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.exitCode).toBe(2);
    expect(err.message).toMatch(msg);
  });

  it('an unreadable config file is a config error naming it', () => {
    const dir = tempDir();
    const err = fail(() => loadConfig(dir, {}, '/'));
    expect(err.exitCode).toBe(2);
    expect(err.message).toContain(`cannot read config file ${dir}`);
  });
});
