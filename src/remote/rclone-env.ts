// How bbackup runs rclone: the real binary, argument arrays, env-configured remotes
// (RCLONE_CONFIG_<NAME>_TYPE=...) working without any config file (RECIPES §6).
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { expandHome } from '../config/locate.js';
import { BbackupError } from '../errors.js';
import { isSecretParam, MASK, redactParams } from '../log/redact.js';
import { RemoteError } from './errors.js';

export interface RcloneSettings {
  /** "name:path" as the user wrote it */
  remote: string;
  configFile?: string;
  flags: string[];
}

/**
 * RCLONE_CONFIG for a run: the configured file; else the caller's own RCLONE_CONFIG; else
 * rclone's default file when it exists; else "" — no file at all. An empty value keeps rclone
 * stateless: given a path that does not exist it creates the file and saves what it detected.
 */
export function rcloneEnv(s: RcloneSettings, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const secrets = splitFlags(s.flags).env;
  if (s.configFile) return { RCLONE_CONFIG: expandHome(s.configFile, env), ...secrets };
  if (env.RCLONE_CONFIG !== undefined) return secrets;
  const dflt = join(env.XDG_CONFIG_HOME ?? join(env.HOME ?? homedir(), '.config'), 'rclone', 'rclone.conf');
  return existsSync(dflt) ? secrets : { RCLONE_CONFIG: '', ...secrets };
}

/**
 * The config's rclone flags, split: those that look like credentials (`--sftp-pass=X`,
 * `--s3-secret-access-key X`, `--header "Authorization: ..."`) become RCLONE_<FLAG> environment
 * variables, which rclone reads for every flag; the rest stay on the command line. A command line
 * is readable by every local user (`ps`, /proc/<pid>/cmdline); a process's environment is not.
 * A bare secret-looking flag is a switch (`--sftp-key-use-agent` -> "true").
 */
export function splitFlags(flags: readonly string[]): { args: string[]; env: Record<string, string> } {
  const args: string[] = [];
  const env: Record<string, string> = {};
  for (let i = 0; i < flags.length; i++) {
    const f = flags[i]!;
    const m = /^--([A-Za-z0-9][A-Za-z0-9-]*)(?:=(.*))?$/s.exec(f);
    if (!m || !isSecretParam(m[1]!)) {
      args.push(f);
      continue;
    }
    let value = m[2];
    if (value === undefined)
      value = flags[i + 1] !== undefined && !flags[i + 1]!.startsWith('-') ? flags[++i]! : 'true';
    const name = `RCLONE_${m[1]!.replace(/-/g, '_').toUpperCase()}`;
    if (name in env)
      throw new BbackupError(
        'CONFIG_INVALID',
        `rclone flag --${m[1]} is given twice; flags that carry credentials travel in the environment (${name}), which holds one value`,
      );
    env[name] = value;
  }
  return { args, env };
}

/**
 * A credential in the remote string itself (`sftp1,pass=X:path`, `:s3,secret_access_key=X:bucket`)
 * would sit on every rclone command line: refused, without echoing it.
 */
export function assertNoSecretInRemote(name: string, remote: string): void {
  const head = remote.replace(/^:/, '');
  const colon = head.indexOf(':');
  const params = (colon < 0 ? '' : head.slice(0, colon)).split(',').slice(1);
  const secret = params.map((p) => p.split('=')[0]!.trim()).find((k) => isSecretParam(k));
  if (secret === undefined) return;
  const upper = secret.toUpperCase();
  throw new RemoteError(
    'CONFIG_INVALID',
    name,
    `the rclone remote string carries a credential (${secret}=${MASK}), which every local user could read on rclone's command line (ps); ` +
      `put it in an rclone.conf (config_file), in the environment (RCLONE_CONFIG_<REMOTE>_${upper} or RCLONE_<BACKEND>_${upper}), or in flags as --<backend>-${secret.replace(/_/g, '-')}=VALUE (passed to rclone through its environment)`,
    false,
    { context: { remote: redactParams(remote) } },
  );
}

/** remote:path + key, with exactly one separator. */
export function rclonePath(remote: string, key: string): string {
  if (!key) return remote;
  return remote.endsWith(':') || remote.endsWith('/') ? `${remote}${key}` : `${remote}/${key}`;
}

/** Defaults first so the user's flags override them; JSON logs so we can read progress and errors. */
export const baseFlags = (s: RcloneSettings): string[] => [
  '--use-json-log',
  '--contimeout',
  '15s',
  '--low-level-retries',
  '2',
  ...splitFlags(s.flags).args,
];

/** The error messages of rclone's JSON log lines (and any plain lines), newest last. */
export function rcloneErrors(stderr: string): string[] {
  const out: string[] = [];
  for (const line of stderr.split('\n')) {
    const t = line.trim();
    if (!t) continue;
    try {
      const j = JSON.parse(t) as { level?: string; msg?: string; object?: string };
      if (j.level === 'error' || j.level === 'critical' || j.level === 'fatal')
        out.push(`${j.object ? `${j.object}: ` : ''}${(j.msg ?? '').trim()}`);
    } catch {
      out.push(t.replace(/^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d (ERROR|CRITICAL|Fatal error|NOTICE)\s*:?\s*/, ''));
    }
  }
  return out;
}

export function classifyRclone(name: string, what: string, stderr: string, cause?: unknown): RemoteError {
  const lines = rcloneErrors(stderr);
  const text = lines.join('\n');
  const last = lines.at(-1) ?? (stderr.trim().split('\n').at(-1) || 'rclone failed');
  const mk = (code: ConstructorParameters<typeof RemoteError>[0], msg: string, retry: boolean) =>
    new RemoteError(code, name, `${what}: ${msg}`, retry, { cause, context: { stderr: lines.slice(-10).join('\n') } });
  if (/knownhosts: key mismatch/i.test(text))
    return mk('REMOTE_AUTH', 'host key mismatch (rclone: knownhosts: key mismatch)', false);
  if (/knownhosts: key is unknown/i.test(text))
    return mk(
      'REMOTE_AUTH',
      'host key unknown: not in the known_hosts file (rclone: knownhosts: key is unknown)',
      false,
    );
  if (/unable to authenticate|permission denied \(publickey|auth(entication)? failed|401|403 Forbidden/i.test(text))
    return mk('REMOTE_AUTH', `authentication failed (${last})`, false);
  if (/no space left|disk full|quota exceeded|insufficient storage/i.test(text))
    return mk('DISK', `no space left on the target (disk full): ${last}`, false);
  if (/didn't find section in config file|not found in config file/i.test(text))
    return mk(
      'CONFIG_INVALID',
      `rclone has no such remote (${last}); define it in rclone.conf or RCLONE_CONFIG_<NAME>_TYPE`,
      false,
    );
  if (/directory not found|object not found|file not found|doesn't exist|no such file/i.test(text))
    return mk('NOT_FOUND', 'not found', false);
  if (/connection refused|i\/o timeout|couldn't connect|no route to host|connection reset|EOF/i.test(text))
    return mk('REMOTE_IO', `cannot reach the remote (${last})`, true);
  return mk('REMOTE_IO', last, true);
}
