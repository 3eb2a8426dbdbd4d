// Shared setup for remote integration tests: a real sshd, rclone remotes from env, configs with
// every remote kind, and the CLI.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli, type CliResult } from '../helpers/cli.js';
import type { Sshd } from '../helpers/sshd.js';

export type RemoteKind = 'local' | 'sftp' | 'rclone-local' | 'rclone-sftp';
export const REMOTE_KINDS: RemoteKind[] = ['local', 'sftp', 'rclone-local', 'rclone-sftp'];

/** The remotes: section for one target folder per kind (rclone remotes come from RCLONE_CONFIG_BBT*). */
export function remotesSection(
  sshd: Sshd,
  root: string,
  kinds: RemoteKind[] = REMOTE_KINDS,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of kinds) {
    const dir = join(root, k);
    if (k === 'local') out[k] = { type: 'local', path: dir, retry: 0, ...extra };
    if (k === 'sftp')
      out[k] = {
        type: 'sftp',
        host: sshd.host,
        port: sshd.port,
        user: sshd.user,
        path: dir,
        key_file: sshd.clientKey,
        known_hosts: sshd.knownHosts,
        retry: 0,
        ...extra,
      };
    if (k === 'rclone-local') out[k] = { type: 'rclone', remote: `bbtlocal:${dir}`, retry: 0, ...extra };
    if (k === 'rclone-sftp') out[k] = { type: 'rclone', remote: `bbtsftp:${dir}`, retry: 0, ...extra };
  }
  return out;
}

/** Write a config (JSON is YAML) and return a runner bound to it. */
export async function configFile(
  path: string,
  config: Record<string, unknown>,
): Promise<(args: string[]) => Promise<CliResult>> {
  await writeFile(path, JSON.stringify(config, null, 2));
  return (args) => runCli(['-c', path, ...args]);
}
