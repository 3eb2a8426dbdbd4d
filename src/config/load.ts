// Load, expand and validate a config file. Every error names the file, the line, the key and
// what was expected, so an operator can fix it without reading our source.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { isMap, isScalar, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { BbackupError } from '../errors.js';
import { expandHome, locateConfig, type ConfigSource } from './locate.js';
import { configSchema, type Config } from './schema.js';
import { allowedKeys, suggest } from './suggest.js';
import { isSecretConfigPath } from '../log/redact.js';

export interface LoadedConfig {
  config: Config;
  source: ConfigSource;
}

/** Keys whose value may come from a file instead: `password_file: /run/secrets/x` sets `password`. */
export const SECRET_KEYS: ReadonlySet<string> = new Set(['password', 'passphrase', 'key_passphrase', 'token', 'url']);

export function loadConfig(flag?: string, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): LoadedConfig {
  const source = locateConfig(flag, env, cwd);
  if (!source.path) return { config: parseConfigObject({}, undefined, env), source };
  let text: string;
  try {
    text = readFileSync(source.path, 'utf8');
  } catch (err) {
    throw new BbackupError(
      'CONFIG_INVALID',
      `cannot read config file ${source.path}: ${(err as Error).message}`,
      { path: source.path },
      { cause: err },
    );
  }
  return { config: parseConfigText(text, source.path, env), source };
}

/** Parse YAML text as a config; `file` is used in messages and to resolve relative `*_file` paths. */
export function parseConfigText(text: string, file: string, env: NodeJS.ProcessEnv = process.env): Config {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: true });
  const where = (node: Node | undefined | null): string => {
    const offset = node?.range?.[0];
    if (offset === undefined) return file;
    const pos = lines.linePos(offset);
    return `${file}:${pos.line}:${pos.col}`;
  };
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const pos = e.linePos?.[0];
    const at = pos ? `${file}:${pos.line}:${pos.col}` : file;
    const firstLine = (e.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
    throw new BbackupError('CONFIG_INVALID', `${at}: malformed YAML: ${firstLine}`, { path: file, line: pos?.line });
  }
  const raw: unknown = doc.toJS() ?? {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new BbackupError(
      'CONFIG_INVALID',
      `${file}: the config must be a mapping of sections (backup:, remotes:, ...), not a ${Array.isArray(raw) ? 'list' : typeof raw}`,
      { path: file },
    );
  }
  const ctx: ExpandContext = { env, baseDir: dirname(file), file, locate: (path) => where(nodeAt(doc, path)) };
  const expanded = expandValues(raw, [], ctx);
  return validate(expanded, ctx);
}

/** Validate an already-parsed object (tests, defaults). */
export function parseConfigObject(raw: unknown, file = '<defaults>', env: NodeJS.ProcessEnv = process.env): Config {
  const ctx: ExpandContext = { env, baseDir: process.cwd(), file, locate: () => file };
  return validate(expandValues(raw, [], ctx), ctx);
}

interface ExpandContext {
  env: NodeJS.ProcessEnv;
  baseDir: string;
  file: string;
  locate: (path: PropertyKey[]) => string;
}

/** `${VAR}` and `${VAR:-default}` in every string; `<secret>_file` read into `<secret>`. */
function expandValues(value: unknown, path: PropertyKey[], ctx: ExpandContext): unknown {
  if (typeof value === 'string') return expandEnv(value, path, ctx);
  if (Array.isArray(value)) return value.map((v, i) => expandValues(v, [...path, i], ctx));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) out[key] = expandValues(v, [...path, key], ctx);
  for (const key of Object.keys(out)) {
    const base = key.endsWith('_file') ? key.slice(0, -'_file'.length) : undefined;
    if (!base || !SECRET_KEYS.has(base)) continue;
    const at = ctx.locate([...path, key]);
    if (out[base] !== undefined) {
      throw new BbackupError('CONFIG_INVALID', `${at}: ${dotted([...path, key])} and ${base} are both set; keep one`, {
        path: ctx.file,
      });
    }
    const fileValue = out[key];
    if (typeof fileValue !== 'string') {
      throw new BbackupError('CONFIG_INVALID', `${at}: ${dotted([...path, key])} must be a file path`, {
        path: ctx.file,
      });
    }
    const secretPath = resolve(ctx.baseDir, expandHome(fileValue, ctx.env));
    try {
      out[base] = readFileSync(secretPath, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      throw new BbackupError(
        'CONFIG_INVALID',
        `${at}: ${dotted([...path, key])}: cannot read ${secretPath}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
        { path: ctx.file },
        { cause: err },
      );
    }
    delete out[key];
  }
  return out;
}

function expandEnv(text: string, path: PropertyKey[], ctx: ExpandContext): string {
  return text.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g,
    (match, name: string | undefined, fallback: string | undefined) => {
      if (match === '$$') return '$';
      const value = ctx.env[name!];
      if (value !== undefined && value !== '') return value;
      if (fallback !== undefined) return fallback;
      throw new BbackupError(
        'CONFIG_INVALID',
        `${ctx.locate(path)}: ${dotted(path)} uses \${${name}} but that environment variable is not set (use \${${name}:-default} for a default)`,
        { path: ctx.file },
      );
    },
  );
}

function validate(raw: unknown, ctx: ExpandContext): Config {
  const result = configSchema.safeParse(raw);
  if (result.success) return result.data;
  const messages = result.error.issues.slice(0, 10).map((issue) => describeIssue(issue, ctx, raw));
  const more = result.error.issues.length > 10 ? `\n  ... and ${result.error.issues.length - 10} more` : '';
  const head =
    messages.length === 1 ? messages[0]! : `${ctx.file}: ${messages.length} problems:\n  ${messages.join('\n  ')}`;
  throw new BbackupError('CONFIG_INVALID', head + more, { path: ctx.file, issues: result.error.issues });
}

function describeIssue(issue: z.core.$ZodIssue, ctx: ExpandContext, raw: unknown): string {
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys;
    const at = ctx.locate([...issue.path, keys[0]!]);
    const parent = issue.path.length ? dotted(issue.path) : 'the top level';
    const allowed = allowedKeys(issue.path);
    const hint = keys
      .map((k) => suggest(k, allowed))
      .filter(Boolean)
      .join('; ');
    return `${at}: unknown key ${keys.map((k) => `"${k}"`).join(', ')} in ${parent}${hint ? ` (${hint})` : ''}${allowed.length ? `; allowed: ${allowed.join(', ')}` : ''}`;
  }
  const at = ctx.locate(issue.path);
  const key = issue.path.length ? dotted(issue.path) : 'config';
  if (issue.code === 'invalid_key') return `${at}: ${key}: bad name: ${issue.issues[0]?.message ?? issue.message}`;
  const message = issue.message.replace(/^Invalid (input|option): /, '');
  if (issue.code === 'invalid_type' && /received undefined$/.test(message)) {
    return `${at}: ${key} is required (${message.replace(/, received undefined$/, '')})`;
  }
  const got = valueAt(raw, issue.path);
  // Never echo a secret (password, passphrase, token, webhook url or header...), not even a wrong one.
  const secret = isSecretConfigPath(issue.path);
  const shown =
    got === undefined || (typeof got === 'object' && got !== null)
      ? ''
      : secret
        ? ' (value not shown: it is a secret)'
        : ` (got ${JSON.stringify(got)})`;
  return `${at}: ${key}: ${message}${shown}`;
}

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let v = raw;
  for (const key of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}

function dotted(path: readonly PropertyKey[]): string {
  return path
    .map((p) => (typeof p === 'number' ? `[${p}]` : String(p)))
    .join('.')
    .replace(/\.\[/g, '[');
}

function nodeAt(doc: Document, path: PropertyKey[]): Node | undefined {
  // Walk down as far as the document goes: a missing key is reported at its parent.
  let node: unknown = doc.contents;
  let best = node as Node | undefined;
  for (const key of path) {
    if (!isMap(node) && !(node && typeof node === 'object' && 'items' in node)) break;
    const collection = node as { items: unknown[] };
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(key));
      if (!pair) break;
      best = (pair.key as Node) ?? best;
      node = pair.value;
      if (node) best = node as Node;
      // Point unknown keys at the key itself, not its value.
      if (key === path[path.length - 1]) best = pair.key as Node;
    } else {
      const item = collection.items[Number(key)];
      if (item === undefined) break;
      node = item;
      best = item as Node;
    }
  }
  return best;
}
