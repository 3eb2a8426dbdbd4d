// SSH host key checking for the sftp remote and ssh:// Docker hosts: against a pinned key or a known_hosts file (plain,
// [host]:port, hashed |1|salt|hmac entries, simple * ? patterns, @revoked). Never accepts an
// unknown key unless the config says insecure_accept_any_host_key.
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';

export type HostKeyVerdict = { ok: true } | { ok: false; reason: string };

export interface HostKeyPolicy {
  host: string;
  port: number;
  pinned?: string;
  knownHostsFile?: string;
  acceptAny: boolean;
}

/** The base64 blob of "ssh-ed25519 AAAA... comment" (or of a bare blob). */
const keyBlob = (line: string): string => {
  const parts = line.trim().split(/\s+/);
  return (parts.length >= 2 ? parts[1] : parts[0]) ?? '';
};

function hostMatches(pattern: string, names: string[]): boolean {
  if (pattern.startsWith('|1|')) {
    const [, , salt, hash] = pattern.split('|');
    if (!salt || !hash) return false;
    return names.some((n) => createHmac('sha1', Buffer.from(salt, 'base64')).update(n).digest('base64') === hash);
  }
  let matched = false;
  for (const raw of pattern.split(',')) {
    const negate = raw.startsWith('!');
    const p = negate ? raw.slice(1) : raw;
    const re = new RegExp(
      `^${p
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.')}$`,
      'i',
    );
    if (names.some((n) => re.test(n))) {
      if (negate) return false;
      matched = true;
    }
  }
  return matched;
}

export function verifyHostKey(policy: HostKeyPolicy, presented: Buffer): HostKeyVerdict {
  const blob = presented.toString('base64');
  if (policy.acceptAny) return { ok: true };
  if (policy.pinned) {
    const name = policy.port === 22 ? policy.host : `[${policy.host}]:${policy.port}`;
    return keyBlob(policy.pinned) === blob
      ? { ok: true }
      : {
          ok: false,
          reason: `HOST KEY MISMATCH for ${name}: the server's key is not the pinned host_key (server presented ${blob.slice(0, 24)}...; possible man-in-the-middle)`,
        };
  }
  const file = policy.knownHostsFile;
  if (!file) return { ok: false, reason: 'no known_hosts file and no pinned host_key to check the host key against' };
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return { ok: false, reason: `cannot read known_hosts ${file}: ${(err as Error).message}` };
  }
  const names = policy.port === 22 ? [policy.host, `[${policy.host}]:22`] : [`[${policy.host}]:${policy.port}`];
  const known: string[] = [];
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (!t || t.startsWith('#')) continue;
    const fields = t.split(/\s+/);
    const marker = fields[0]!.startsWith('@') ? fields.shift() : undefined;
    if (marker === '@cert-authority' || fields.length < 3) continue;
    if (!hostMatches(fields[0]!, names)) continue;
    if (marker === '@revoked') {
      if (fields[2] === blob) return { ok: false, reason: `host key of ${names[0]} is marked @revoked in ${file}` };
      continue;
    }
    known.push(fields[2]!);
  }
  if (known.includes(blob)) return { ok: true };
  if (known.length > 0)
    return {
      ok: false,
      reason: `HOST KEY MISMATCH for ${names[0]}: the key the server presented is not the one in ${file} (possible man-in-the-middle)`,
    };
  return {
    ok: false,
    reason: `host ${names[0]} is not in ${file}; add its key (ssh-keyscan -p ${policy.port} ${policy.host} >> ${file}) or pin host_key in the config`,
  };
}
