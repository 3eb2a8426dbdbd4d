// The config schema (DESIGN §6): one zod schema is the source of truth for validation, defaults,
// the TypeScript type and the JSON schema shipped in assets/ (scripts/gen-schema.ts writes it).
// Every object is strict so that a typo is reported instead of silently ignored.
import { z } from 'zod';
import { DURATION_HELP, parseDuration } from './duration.js';

const name = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'must start with a letter or digit and use only letters, digits, _ . -');

const scopeFields = z.strictObject({
  containers: z.boolean().default(true).describe('container definitions (docker inspect) and logs'),
  volumes: z.boolean().default(true).describe('named volumes used by the selected containers'),
  networks: z.boolean().default(true).describe('networks used by the selected containers'),
});
// backup.default_scope is always filled in; a set's or schedule's `scope` stays undefined when not
// written, so that it falls back to default_scope (an omitted key inside it still defaults to true).
const scope = scopeFields.prefault({});

const backupSet = z.strictObject({
  description: z.string().optional(),
  containers: z.array(z.string().min(1)).default([]).describe('container names'),
  volumes: z.array(z.string().min(1)).default([]).describe('extra named volumes, beyond those the containers use'),
  networks: z.array(z.string().min(1)).default([]).describe('extra networks, beyond those the containers use'),
  scope: scopeFields.optional(),
});

const compressionMethod = z.enum(['zstd', 'gzip', 'none']);

const backup = z
  .strictObject({
    store: z
      .string()
      .min(1)
      .default('/var/backups/bbackup')
      .describe('local store root; one folder per Docker host inside'),
    default_scope: scope,
    backup_sets: z.record(name, backupSet).default({}),
    compression: z
      .strictObject({
        method: compressionMethod.default('zstd'),
        level: z.int().min(1).max(19).default(3).describe('zstd 1-19, gzip 1-9'),
      })
      .prefault({}),
    volumes: z
      .strictObject({
        mode: z.enum(['auto', 'host', 'worker', 'stream']).default('auto').describe('how a volume is read (DESIGN §4)'),
        format: z
          .enum(['tree', 'archive'])
          .default('tree')
          .describe('tree: rsync snapshot with hard links; archive: compressed tar'),
        worker_image: z
          .string()
          .min(1)
          .default('bbackup-worker:local')
          .describe('image with rsync for worker mode; built offline when missing'),
        concurrency: z.int().min(1).max(16).default(2).describe('volumes copied at the same time'),
      })
      .prefault({}),
    logs: z
      .strictObject({
        lines: z.int().min(0).default(1000).describe('last N log lines saved per container; 0 = none'),
      })
      .prefault({}),
    networks: z.enum(['used', 'all']).default('used').describe('which networks a backup with networks saves'),
    images: z
      .enum(['none', 'local', 'all'])
      .default('local')
      .describe(
        'images of the selected containers saved with the backup: local = those no registry can give back (no RepoDigests)',
      ),
  })
  .prefault({});

const incremental = z
  .strictObject({
    enabled: z.boolean().default(true).describe('hard-link unchanged files to the previous snapshot'),
  })
  .prefault({});

const remoteCommon = {
  enabled: z.boolean().default(true),
  retry: z.int().min(0).max(10).default(2).describe('retries after a failed transfer'),
  transfers: z.int().min(1).max(32).default(4).describe('packs sent or fetched at once'),
};

const remote = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('local'),
    ...remoteCommon,
    path: z.string().min(1).describe('a directory, e.g. a mounted NAS'),
  }),
  z.strictObject({
    type: z.literal('rclone'),
    ...remoteCommon,
    remote: z.string().min(1).describe('rclone remote and path, e.g. gdrive:backups/bbackup'),
    config_file: z.string().optional().describe("rclone.conf to use; default: rclone's own"),
    flags: z.array(z.string()).default([]).describe('extra rclone flags'),
  }),
  z.strictObject({
    type: z.literal('sftp'),
    ...remoteCommon,
    host: z.string().min(1),
    port: z.int().min(1).max(65535).default(22),
    user: z.string().min(1),
    path: z.string().min(1).describe('directory on the server'),
    key_file: z.string().optional().describe('private key file'),
    key_passphrase: z.string().optional(),
    password: z.string().optional(),
    known_hosts: z
      .string()
      .optional()
      .describe('known_hosts file to check the host key against (default ~/.ssh/known_hosts)'),
    host_key: z.string().optional().describe('pinned host key, "ssh-ed25519 AAAA..."'),
    insecure_accept_any_host_key: z.boolean().default(false).describe('accept any host key (unsafe; for labs only)'),
  }),
]);

const retention = z
  .strictObject({
    last: z.int().min(0).default(3).describe('keep the N newest backups of each group'),
    daily: z.int().min(0).default(7),
    weekly: z.int().min(0).default(4),
    monthly: z.int().min(0).default(6),
    yearly: z.int().min(0).default(0),
    keep_within: z
      .union([z.string(), z.number()], { error: `must be ${DURATION_HELP}` })
      .refine((v) => parseDuration(v) !== undefined, `must be ${DURATION_HELP}`)
      .default('24h')
      .describe('nothing younger than this is removed by the keep rules (24h, 7d, 2w; 0 = off)'),
    max_storage_gb: z.number().min(0).default(0).describe('quota for the store of one host; 0 = none'),
    enabled: z.boolean().default(true).describe('rotate automatically after every successful backup'),
  })
  .prefault({});

const encryption = z
  .strictObject({
    enabled: z.boolean().default(false),
    recipients: z.array(z.string().min(1)).default([]).describe('age X25519 recipients (age1...)'),
    recipients_file: z.string().optional(),
    identity_file: z.string().optional().describe('age identity used to decrypt on pull and restore'),
    passphrase: z.string().optional(),
    // Encrypting the local store is not built yet; refuse it rather than silently store plaintext.
    local: z
      .boolean()
      .default(false)
      .refine(
        (v) => v === false,
        'encrypting the local store is not supported yet (everything that leaves the host is encrypted); use disk encryption (LUKS) for the store',
      )
      .describe('reserved: must be false; remotes are encrypted, the local store is not'),
  })
  .prefault({});

const logging = z
  .strictObject({
    level: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
    file: z.string().optional().describe('log file; rotated by size'),
    max_size_mb: z.number().positive().default(10),
    backup_count: z.int().min(0).default(5).describe('rotated files kept'),
  })
  .prefault({});

const docker = z
  .strictObject({
    socket: z.string().min(1).default('/var/run/docker.sock'),
    timeout: z
      .number()
      .positive()
      .default(60)
      .describe(
        'seconds to wait for the engine to answer a short API call (connect, list, inspect); long transfers are not cut off',
      ),
  })
  .prefault({});

const notifyLevel = z.enum(['failure', 'partial', 'always']);

const notifications = z
  .strictObject({
    on: notifyLevel.default('failure').describe('failure: failed runs; partial: failed or partial; always: every run'),
    email: z
      .strictObject({
        enabled: z.boolean().default(true),
        smtp_host: z.string().min(1),
        smtp_port: z.int().min(1).max(65535).default(587),
        security: z.enum(['starttls', 'tls', 'none']).default('starttls'),
        tls_reject_unauthorized: z.boolean().default(true),
        username: z.string().optional(),
        password: z.string().optional(),
        from: z.string().min(1),
        to: z.array(z.string().min(1)).min(1),
        on: notifyLevel.optional(),
      })
      .optional(),
    webhooks: z
      .array(
        z.strictObject({
          url: z.url(),
          format: z
            .enum(['json', 'slack', 'discord', 'teams', 'ntfy', 'gotify'])
            .default('json')
            .describe("json: the run report itself; the others: a message in that service's own webhook format"),
          headers: z.record(z.string(), z.string()).default({}),
          timeout: z.number().positive().default(10).describe('seconds'),
          retries: z.int().min(0).max(10).default(3),
          on: notifyLevel.optional(),
        }),
      )
      .default([]),
  })
  .prefault({});

const command = z.array(z.string()).min(1).describe('argv: program and arguments, no shell');

const schedule = z.record(
  name,
  z.strictObject({
    cron: z.string().min(1).describe('cron expression, e.g. "0 3 * * *"'),
    backup_set: z.string().optional(),
    containers: z.array(z.string()).optional(),
    scope: scopeFields.optional(),
    remotes: z.array(z.string()).optional().describe('default: every enabled remote'),
    jitter_seconds: z.int().min(0).default(0),
    host: z.string().optional(),
    enabled: z.boolean().default(true),
    drill: z
      .boolean()
      .default(false)
      .describe('run a restore drill of the newest backup of this scope (src/drill) instead of a backup'),
    ping: z
      .strictObject({
        start: z.url().optional().describe('hit when the run starts'),
        success: z.url().optional().describe('hit when the run ends ok'),
        failure: z
          .url()
          .optional()
          .describe('hit when the run ends partial, failed or cancelled; the body carries the error'),
        retries: z.int().min(0).max(10).default(2),
        timeout: z.number().positive().default(10).describe('seconds per attempt'),
      })
      .optional()
      .describe('health-check pings (Healthchecks.io, Uptime Kuma, Cronitor); never fail the run'),
  }),
);

const hosts = z.record(
  name,
  z.strictObject({
    docker_host: z.string().min(1).describe('unix:///var/run/docker.sock, tcp://host:2376 or ssh://user@host'),
    tls: z
      .strictObject({
        ca: z.string().optional(),
        cert: z.string().optional(),
        key: z.string().optional(),
        verify: z.boolean().default(true),
      })
      .optional(),
    volume_mode: z.enum(['auto', 'host', 'worker', 'stream']).optional(),
    // ssh:// only, as for the sftp remote: the engine's host key is checked before anything is sent.
    known_hosts: z
      .string()
      .optional()
      .describe('ssh://: known_hosts file to check the host key against (default ~/.ssh/known_hosts)'),
    host_key: z.string().optional().describe('ssh://: pinned host key, "ssh-ed25519 AAAA..."'),
    insecure_accept_any_host_key: z
      .boolean()
      .default(false)
      .describe('ssh://: accept any host key (unsafe; for labs only)'),
  }),
);

const hooks = z
  .strictObject({
    pre: z.array(command).default([]).describe('commands run on the host before a backup'),
    post: z.array(command).default([]).describe('commands run on the host after a backup, whatever its outcome'),
    timeout: z.number().positive().default(300).describe('seconds per hook'),
  })
  .prefault({});

export const configSchema = z
  .strictObject({
    backup,
    incremental,
    remotes: z.record(name, remote).default({}),
    retention,
    encryption,
    logging,
    docker,
    notifications,
    schedule: schedule.default({}),
    hosts: hosts.default({}),
    default_host: z.string().optional().describe('entry of hosts used when --host is not given'),
    hooks,
  })
  .prefault({});

export type Config = z.infer<typeof configSchema>;
export type RemoteConfig = Config['remotes'][string];
export type BackupSetConfig = Config['backup']['backup_sets'][string];
export type ScheduleConfig = Config['schedule'][string];
export type HostConfig = Config['hosts'][string];
