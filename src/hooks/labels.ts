// Container labels that ask for consistency around a volume's backup:
//   bbackup.stop=true          stop the container while its volumes are copied, start it again after
//                              (only when it was running), also when the backup fails or is cancelled
//   bbackup.exec.pre=<cmd>     run inside the container before its volumes are copied (e.g. a dump)
//   bbackup.exec.post=<cmd>    run inside the container after they were copied
//   bbackup.exec.timeout=<s>   seconds per exec hook (default: hooks.timeout)
// A command is a JSON argv array (["pg_dump","-f","/data/dump.sql"]) or, when not JSON, words split
// on whitespace. There is never an implicit shell: write ["sh","-c","..."] to get one.
import { BbackupError } from '../errors.js';

export const LABEL_STOP = 'bbackup.stop';
export const LABEL_EXEC_PRE = 'bbackup.exec.pre';
export const LABEL_EXEC_POST = 'bbackup.exec.post';
export const LABEL_EXEC_TIMEOUT = 'bbackup.exec.timeout';

export interface ContainerHooks {
  stop: boolean;
  pre?: string[];
  post?: string[];
  /** seconds; undefined = the config's hooks.timeout */
  timeout?: number;
}

const TRUE_WORDS = new Set(['true', 'yes', '1', 'on']);
const FALSE_WORDS = new Set(['false', 'no', '0', 'off', '']);

/** A label's command as argv. */
export function parseCommandLabel(value: string, label = 'label'): string[] {
  const text = value.trim();
  if (text.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new BbackupError(
        'USAGE',
        `${label}: looks like a JSON array but is not valid JSON: ${(err as Error).message}`,
        { value },
      );
    }
    if (!Array.isArray(parsed) || parsed.length === 0 || !parsed.every((a): a is string => typeof a === 'string')) {
      throw new BbackupError(
        'USAGE',
        `${label}: a JSON command must be a non-empty array of strings, e.g. ["pg_dump","-f","/dump.sql"]`,
        { value },
      );
    }
    return parsed;
  }
  const words = text.split(/\s+/).filter((w) => w.length > 0);
  if (words.length === 0) throw new BbackupError('USAGE', `${label}: empty command`, { value });
  return words;
}

export function parseBoolLabel(value: string | undefined, label: string): boolean {
  if (value === undefined) return false;
  const v = value.trim().toLowerCase();
  if (TRUE_WORDS.has(v)) return true;
  if (FALSE_WORDS.has(v)) return false;
  throw new BbackupError('USAGE', `${label}="${value}": expected true or false`, { value });
}

/** The hooks a container's labels ask for; throws a USAGE error naming the container on a bad label. */
export function containerHooks(name: string, labels: Record<string, string> | undefined | null): ContainerHooks {
  const l = labels ?? {};
  const where = (key: string) => `container ${name}: label ${key}`;
  const hooks: ContainerHooks = { stop: parseBoolLabel(l[LABEL_STOP], where(LABEL_STOP)) };
  if (l[LABEL_EXEC_PRE] !== undefined) hooks.pre = parseCommandLabel(l[LABEL_EXEC_PRE], where(LABEL_EXEC_PRE));
  if (l[LABEL_EXEC_POST] !== undefined) hooks.post = parseCommandLabel(l[LABEL_EXEC_POST], where(LABEL_EXEC_POST));
  const t = l[LABEL_EXEC_TIMEOUT];
  if (t !== undefined) {
    const seconds = Number(t);
    if (!Number.isFinite(seconds) || seconds <= 0)
      throw new BbackupError('USAGE', `${where(LABEL_EXEC_TIMEOUT)}="${t}": expected a positive number of seconds`);
    hooks.timeout = seconds;
  }
  return hooks;
}

export const hasHooks = (h: ContainerHooks): boolean => h.stop || h.pre !== undefined || h.post !== undefined;
