// The TUI's engine: the public API of src/ behind the TuiEngine interface.
import type Docker from 'dockerode';
import { startBackup } from '../../src/jobs/backup-job.js';
import { startOperatedBackup } from '../../src/schedule/run-backup.js';
import { expandHome } from '../../src/config/locate.js';
import type { Config } from '../../src/config/schema.js';
import { isLocalEngine, type DockerConnection } from '../../src/docker/client.js';
import { readInventory } from '../../src/docker/inventory.js';
import { listRemoteBackups } from '../../src/remote/list.js';
import { openRemote } from '../../src/remote/open.js';
import { pullBackup } from '../../src/remote/pull.js';
import { planRestore } from '../../src/restore/plan.js';
import { startRestore } from '../../src/restore/restore-job.js';
import type { RestoreRequest as EngineRestoreRequest } from '../../src/restore/types.js';
import { backupDir, hostDir } from '../../src/store/layout.js';
import { readManifest } from '../../src/store/manifest.js';
import { verifyBackup } from '../../src/store/verify.js';
import type { Logger } from '../../src/log/logger.js';
import { functionJob } from './function-job.js';
import { listStoreBackups } from './store-list.js';
import type { RestoreRequest, TuiEngine } from './types.js';

export interface EngineDeps {
  /** the live config: read at each call so a reloaded config applies to the next job */
  config: () => Config;
  connection: DockerConnection;
  logger?: Logger;
}

export function createEngine(deps: EngineDeps): TuiEngine {
  const { connection } = deps;
  const cfg = () => deps.config();
  const storeRoot = () => expandHome(cfg().backup.store);
  const dirOf = (id: string) => backupDir(storeRoot(), connection.hostName, id);
  const restoreRequest = (r: RestoreRequest): EngineRestoreRequest => ({
    backupDir: dirOf(r.id),
    containers: r.containers,
    volumes: r.volumes,
    networks: r.networks,
    all: false,
    renames: r.renames,
    force: r.force,
    start: r.start,
    dump: r.dump !== false,
    verify: true,
  });
  return {
    hostName: connection.hostName,
    serverVersion: connection.serverVersion,
    get hostDir() {
      return hostDir(storeRoot(), connection.hostName);
    },
    get storeRoot() {
      return storeRoot();
    },
    readInventory: (opts) => readInventory(connection.docker, opts),
    watchDocker: (onChange, onError) => watchDockerEvents(connection.docker, onChange, onError),
    // operations (issue 7): global hooks, container label hooks and notifications around the job
    startBackup: async (req, emit) =>
      startOperatedBackup(
        { containers: req.containers, volumes: req.volumes, networks: req.networks, scope: req.scope, full: req.full, remotes: req.remotes },
        { config: { ...cfg(), backup: { ...cfg().backup, store: storeRoot() } }, docker: connection, emit, logger: deps.logger },
        startBackup,
      ),
    listBackups: () => listStoreBackups(storeRoot(), connection.hostName),
    readManifest: (id) => readManifest(dirOf(id)),
    startVerify: async (id, emit) =>
      functionJob('verify', `verify ${id}`, `backup ${id}`, 'file', emit, async ({ signal, progress }) => {
        const report = await verifyBackup(dirOf(id), { signal, progress });
        if (report.problems.length > 0) {
          const first = report.problems.slice(0, 3).map((p) => `${p.path} ${p.problem}`).join('; ');
          throw Object.assign(new Error(`${report.problems.length} problem(s): ${first}`), { code: 'INTEGRITY' });
        }
        return { bytes: report.bytes, detail: `${report.files} files match the manifest` };
      }),
    previewRestore: async (r) => {
      const req = restoreRequest(r);
      const plan = await planRestore(req.backupDir, await readManifest(req.backupDir), req, connection.docker);
      const line = (i: (typeof plan.items)[number]) => `${i.kind} ${i.target}${i.target !== i.source ? ` (from ${i.source})` : ''}${i.detail ? `: ${i.detail}` : ''}`;
      return {
        create: plan.items.filter((i) => i.action === 'create').map(line),
        replace: plan.items.filter((i) => i.action === 'replace').map(line),
        reuse: plan.items.filter((i) => i.action === 'reuse').map(line),
        conflicts: plan.conflicts.map((c) => c.message),
        problems: plan.missingImages.map((p) => p.message),
      };
    },
    startRestore: async (r, emit) =>
      startRestore(restoreRequest(r), {
        docker: connection.docker,
        emit,
        localEngine: isLocalEngine(connection.target),
        volumeMode: connection.target.volumeMode ?? cfg().backup.volumes.mode,
        workerImage: cfg().backup.volumes.worker_image,
      }),
    remoteNames: () => Object.entries(cfg().remotes).filter(([, r]) => r.enabled).map(([n]) => n),
    listRemoteBackups: async (name, signal) => {
      const remote = openRemote(cfg(), name);
      try {
        const { backups } = await listRemoteBackups(remote, signal);
        return backups.reverse().map((b) => ({ remote: name, id: b.id, host: b.host, created: b.time, size: b.size, encrypted: b.encrypted }));
      } finally {
        await remote.close();
      }
    },
    startPull: async (remote, id, emit) =>
      functionJob('pull', `pull ${id} from ${remote}`, undefined, 'download', emit, async ({ signal, jobId }) => {
        const dir = await pullBackup({ ...cfg(), backup: { ...cfg().backup, store: storeRoot() } }, remote, id, { emit, signal, jobId, host: connection.hostName });
        return { detail: `into ${dir}` };
      }),
    close: async () => undefined,
  };
}

/** Follow Docker's event stream; reconnect after an error (only then is a timer armed). */
function watchDockerEvents(docker: Docker, onChange: () => void, onError: (err: Error) => void): () => void {
  let stopped = false;
  let stream: NodeJS.ReadableStream | undefined;
  let retry: NodeJS.Timeout | undefined;
  const destroy = (s: NodeJS.ReadableStream | undefined) => (s as unknown as { destroy?: () => void } | undefined)?.destroy?.();
  const connect = () => {
    if (stopped) return;
    docker.getEvents({ filters: { type: ['container', 'volume', 'network'] } }).then(
      (s) => {
        if (stopped) return destroy(s);
        stream = s;
        s.on('data', () => onChange());
        const again = (err?: Error) => {
          if (stopped) return;
          if (err) onError(err);
          retry = setTimeout(connect, 3000);
        };
        s.on('error', again);
        s.on('end', () => again());
      },
      (err: Error) => {
        onError(err);
        if (!stopped) retry = setTimeout(connect, 3000);
      },
    );
  };
  connect();
  return () => {
    stopped = true;
    if (retry) clearTimeout(retry);
    destroy(stream);
  };
}
