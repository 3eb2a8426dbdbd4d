// The one redaction helper. Secrets (passwords, passphrases, tokens, webhook URLs whose path or
// query carries a token, secret-looking rclone flags) must never reach a log line, an error
// message, a notification or a command line that `ps` shows. Everything that prints or sends text
// made from the config or from a remote's answer goes through these functions.
import type { Config } from '../config/schema.js';

/** Shown instead of a secret. */
export const MASK = '…';

/**
 * Config keys whose value is a secret (also `<key>_file`). `url` is one because webhook URLs carry
 * tokens (Slack, Discord); `headers` holds e.g. `Authorization: Bearer ...`.
 */
export const SECRET_CONFIG_KEYS: ReadonlySet<string> = new Set([
  'password',
  'passphrase',
  'key_passphrase',
  'token',
  'url',
  'secret',
  'headers',
]);

/** True when a config key path holds a secret somewhere along it (`notifications.webhooks[0].url`). */
export const isSecretConfigPath = (path: readonly PropertyKey[]): boolean =>
  path.some((k) => typeof k === 'string' && SECRET_CONFIG_KEYS.has(k));

/**
 * Names of parameters that look like credentials: rclone flags (`--sftp-pass`, `--s3-secret-access-key`,
 * `--drive-token`, `--header`), connection-string and driver option keys (`pass=`, `password=`).
 * Over-inclusive on purpose: treating a harmless flag as secret only moves it to the environment.
 */
export const isSecretParam = (name: string): boolean =>
  /pass|secret|token|key|auth|credential|bearer|sas|signature|cookie|header|session/i.test(name);

/** A URL as shown anywhere: scheme and host only; user info, path and query may hold tokens. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    const rest = (u.pathname && u.pathname !== '/') || u.search || u.hash ? `/${MASK}` : '';
    return `${u.protocol}//${u.host}${rest}`;
  } catch {
    return '<invalid url>';
  }
}

/** `type=cifs,o=username=x,password=y` -> values of secret-looking keys replaced by the mask. */
export function redactParams(text: string): string {
  return text.replace(/([A-Za-z0-9_.-]+)=([^,\s]*)/g, (all, key: string) =>
    isSecretParam(key) ? `${key}=${MASK}` : all,
  );
}

/**
 * Every secret value in a config, and the parts of it that may show up on their own (a webhook
 * URL's path segments and query values: a server may echo just the token back).
 */
export function configSecrets(config: Config): string[] {
  const out = new Set<string>();
  const add = (v: string | undefined) => {
    if (v && v.length >= 4) out.add(v);
  };
  for (const r of Object.values(config.remotes)) {
    if (r.type === 'sftp') {
      add(r.password);
      add(r.key_passphrase);
    }
    if (r.type === 'rclone') for (const f of secretFlagValues(r.flags)) add(f);
  }
  add(config.encryption.passphrase);
  add(config.notifications.email?.password);
  for (const hook of config.notifications.webhooks) {
    add(hook.url);
    for (const part of urlSecrets(hook.url)) add(part);
    for (const v of Object.values(hook.headers)) {
      add(v);
      add(v.replace(/^\s*(Bearer|Basic|Token)\s+/i, ''));
    }
  }
  // ping URLs carry the check's key in their path (Healthchecks' UUID, Uptime Kuma's push token)
  for (const s of Object.values(config.schedule)) {
    for (const url of [s.ping?.start, s.ping?.success, s.ping?.failure]) {
      add(url);
      for (const part of url ? urlSecrets(url) : []) add(part);
    }
  }
  return [...out].sort((a, b) => b.length - a.length);
}

/** User, password, and the path segments and query values that look like tokens, of a URL. */
export function urlSecrets(url: string): string[] {
  try {
    const u = new URL(url);
    const login = [u.username, u.password].filter((p) => p.length >= 4);
    // Path segments and query values only when they look like a token, so that words like
    // "services" or a path like "/bbackup" (also part of the store's path) stay readable.
    const parts = [...u.pathname.split('/'), ...u.searchParams.values()].filter(
      (p) => (p.length >= 8 && /\d/.test(p)) || p.length >= 16,
    );
    return [...login, ...parts].flatMap((p) => [p, safeDecode(p)]);
  } catch {
    return [];
  }
}

const safeDecode = (s: string): string => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};

/** Values of secret-looking flags in an rclone flag list (`--x-pass=V` or `--x-pass V`). */
function secretFlagValues(flags: readonly string[]): string[] {
  const out: string[] = [];
  flags.forEach((f, i) => {
    const m = /^--([^=]+)(?:=(.*))?$/s.exec(f);
    if (!m || !isSecretParam(m[1]!)) return;
    if (m[2] !== undefined) out.push(m[2]);
    else if (flags[i + 1] !== undefined && !flags[i + 1]!.startsWith('-')) out.push(flags[i + 1]!);
  });
  return out;
}

/** `text` with every known secret (longest first) and every URL's path and query masked. */
export function redactText(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (out.includes(s)) out = out.split(s).join(MASK);
  return out.replace(/\bhttps?:\/\/[^\s"'<>]+/g, (match) => {
    const trail = /[.,:;!?)\]]+$/.exec(match)?.[0] ?? ''; // "see http://h/x." keeps its full stop
    return redactUrl(match.slice(0, match.length - trail.length)) + trail;
  });
}

/** A redactor bound to one config's secrets (the logger, notifications and error output use it). */
export function redactorFor(config: Config | undefined): (text: string) => string {
  const secrets = config ? configSecrets(config) : [];
  return (text) => redactText(text, secrets);
}
