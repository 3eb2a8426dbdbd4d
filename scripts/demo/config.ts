// The demo config: store, log, backup sets, two remotes that work offline (a local folder and an
// sftp server on 127.0.0.1 with its host key pinned), age encryption with a throwaway identity, and
// two schedules. Everything it names lives in the demo's temp folder.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { DEMO } from './objects.js';
import type { DemoSshd } from './sshd.js';

export const REMOTES = { folder: 'nas', sftp: 'offsite' } as const;
export const SCHEDULES = { often: 'shop-every-2-min', nightly: 'nightly-offsite' } as const;
/** The frequent schedule's cron. BBDEMO_OFTEN_CRON replaces it (the TUI test does, so that no scheduled run takes the store lock while it drives the TUI). */
export const OFTEN_CRON = process.env.BBDEMO_OFTEN_CRON ?? '*/2 * * * *';

/** A throwaway age identity (age-keygen, mode 0600); returns its recipient (age1...). */
export async function makeAgeIdentity(file: string): Promise<string> {
  await execa('age-keygen', ['-o', file]);
  const m = /^# public key: (age1\S+)$/m.exec(await readFile(file, 'utf8'));
  if (!m) throw new Error(`age-keygen wrote no public key into ${file}`);
  return m[1]!;
}

export interface DemoConfigInput {
  dir: string;
  socketPath: string;
  sshd: DemoSshd;
  recipient: string;
  identityFile: string;
}

export async function writeDemoConfig(path: string, o: DemoConfigInput): Promise<void> {
  const { dir, sshd } = o;
  const { containers: c, volumes: v } = DEMO;
  const text = `# bbackup demo config (written by scripts/demo/config.ts; removed with its folder on exit)
docker:
  socket: ${o.socketPath}
  timeout: 30
backup:
  store: ${join(dir, 'store')}
  backup_sets:
    shop:
      description: web front end, its media (a few hundred MB) and its database
      containers: [${c.web}, ${c.db}]
      volumes: [${v.cache}]
    db:
      description: the database alone
      containers: [${c.db}]
    reports:
      description: report spooler whose pre-backup hook fails (see the error pane)
      containers: [${c.reports}]
    legacy:
      description: a set naming a container that is gone (flagged)
      containers: [bbdemo-old-api, ${c.job}]
remotes:
  ${REMOTES.folder}:
    type: local
    path: ${join(dir, 'remote-nas')}
  ${REMOTES.sftp}:
    type: sftp
    host: 127.0.0.1
    port: ${sshd.port}
    user: root
    path: ${join(dir, 'remote-sftp')}
    key_file: ${sshd.clientKey}
    host_key: "${sshd.hostKey}"
# encryption is one setting for every remote: both hold age-encrypted copies
encryption:
  enabled: true
  recipients: [${o.recipient}]
  identity_file: ${o.identityFile}
schedule:
  ${SCHEDULES.often}:
    cron: "${OFTEN_CRON}"
    backup_set: shop
    remotes: []            # local only; the nightly run goes off-site
  ${SCHEDULES.nightly}:
    cron: "30 2 * * *"
    backup_set: shop
retention:
  last: 10                 # every demo backup is made the same day; daily alone would keep one
logging:
  level: debug
  file: ${join(dir, 'log', 'bbackup.log')}
  max_size_mb: 1
  backup_count: 2
`;
  await writeFile(path, text, { mode: 0o600 });
}
