// rclone remotes for tests, defined only through the environment (RECIPES §6): bbtlocal (local
// backend) and bbtsftp (sftp backend against the test sshd, host key checked, hash commands set).
import type { Sshd } from './sshd.js';

export function rcloneTestEnv(sshd: Sshd): Record<string, string> {
  const env: Record<string, string> = {
    RCLONE_CONFIG: '',
    RCLONE_CONFIG_BBTLOCAL_TYPE: 'local',
    RCLONE_CONFIG_BBTSFTP_TYPE: 'sftp',
    RCLONE_CONFIG_BBTSFTP_HOST: sshd.host,
    RCLONE_CONFIG_BBTSFTP_PORT: String(sshd.port),
    RCLONE_CONFIG_BBTSFTP_USER: sshd.user,
    RCLONE_CONFIG_BBTSFTP_KEY_FILE: sshd.clientKey,
    RCLONE_CONFIG_BBTSFTP_KNOWN_HOSTS_FILE: sshd.knownHosts,
    RCLONE_CONFIG_BBTSFTP_SHELL_TYPE: 'unix',
    // What rclone detects on its first connection and saves in a real rclone.conf. With the config
    // only in the environment nothing is saved, and every rclone process would detect again: two
    // ssh exec sessions, each running root's login shell rc (seconds on a loaded machine). Uploads
    // are still checked against md5sum on the server.
    RCLONE_CONFIG_BBTSFTP_MD5SUM_COMMAND: 'md5sum',
    RCLONE_CONFIG_BBTSFTP_SHA1SUM_COMMAND: 'sha1sum',
  };
  Object.assign(process.env, env);
  return env;
}
