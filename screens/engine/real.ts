// The TUI's engine: the public API of src/ behind the TuiEngine interface. Every job is one of the
// engine's own (src/jobs: backup, restore, verify, pull), run by the same runner as in the CLI.
// Their modules are imported when a job starts, not before the first paint (README "Speed").
import { join } from 'node:path';
import { readIndex } from '../../src/backup/tree-index.js';
import { watchDockerEvents } from '../../src/docker/events.js';
import { BbackupError } from '../../src/errors.js';
import { expandHome } from '../../src/config/locate.js';
import type { Config } from '../../src/config/schema.js';
import { isLocalEngine, type DockerConnection } from '../../src/docker/client.js';
import { readInventory } from '../../src/docker/inventory.js';
import { privilegeLines, type RestoreRequest as EngineRestoreRequest } from '../../src/restore/types.js';
import { backupDir, hostDir } from '../../src/store/layout.js';
import { lastDrillByContainer, readDrillRecords } from '../../src/drill/record.js';
import { listBackups } from '../../src/store/catalog.js';
import { readManifest, type Manifest } from '../../src/store/manifest.js';
import type { Logger } from '../../src/log/logger.js';
import type { BackupRow } from '../state/types.js';
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
    allowPrivileged: r.allowPrivileged ?? false,
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
    startBackup: async (req, emit) => {
      const [{ startOperatedBackup }, { startBackup }] = await Promise.all([
        import('../../src/schedule/run-backup.js'),
        import('../../src/jobs/backup-job.js'),
      ]);
      return startOperatedBackup(
        {
          containers: req.containers,
          volumes: req.volumes,
          networks: req.networks,
          scope: req.scope,
          full: req.full,
          remotes: req.remotes,
        },
        {
          config: { ...cfg(), backup: { ...cfg().backup, store: storeRoot() } },
          docker: connection,
          emit,
          logger: deps.logger,
        },
        startBackup,
      );
    },
    // newest first; a backup whose manifest cannot be read is not listed (verify reports it)
    listBackups: async () =>
      (await listBackups(hostDir(storeRoot(), connection.hostName)))
        .flatMap((e) => (e.manifest ? [backupRowOf(e.manifest)] : []))
        .reverse(),
    lastDrills: async () => lastDrillByContainer(await readDrillRecords(hostDir(storeRoot(), connection.hostName))),
    readManifest: (id) => readManifest(dirOf(id)),
    volumeIndex: (m, volume) => {
      const item = m.items.find((i) => i.kind === 'volume' && i.name === volume);
      const index = item?.kind === 'volume' && item.format === 'tree' ? item.files[0] : undefined;
      if (!index) throw new BbackupError('NOT_FOUND', `backup ${m.id} holds no tree index of volume ${volume}`);
      return readIndex(join(backupDir(storeRoot(), m.host, m.id), index.path));
    },
    freshness: async (containers) =>
      (await import('../../src/schedule/status.js')).freshnessFor(cfg(), containers, {
        store: storeRoot(),
        hostName: connection.hostName,
        configHost: cfg().default_host,
      }),
    volumeEntries: async function* (m, volume) {
      const [{ listVolume }, { volumeItemOf }] = await Promise.all([
        import('../../src/files/listing.js'),
        import('../../src/files/restore-paths.js'),
      ]);
      yield* listVolume(dirOf(m.id), volumeItemOf(m, volume), { hash: false });
    },
    diffVolume: async (m, volume) => {
      const [{ diffVolume }, { liveVolumeFolder, volumeItemOf }] = await Promise.all([
        import('../../src/files/diff.js'),
        import('../../src/files/restore-paths.js'),
      ]);
      const live = await liveVolumeFolder(connection.docker, volume, isLocalEngine(connection.target));
      const out = [];
      for await (const d of diffVolume({ backupDir: dirOf(m.id), item: volumeItemOf(m, volume), live })) out.push(d);
      return out;
    },
    readVolumeFile: async (m, volume, path, max) => {
      const [{ readVolumeFile }, { volumeItemOf }] = await Promise.all([
        import('../../src/files/read-file.js'),
        import('../../src/files/restore-paths.js'),
      ]);
      return readVolumeFile(dirOf(m.id), volumeItemOf(m, volume), path, max);
    },
    restorePaths: async (r) =>
      (await import('../../src/files/restore-paths.js')).restorePaths(
        {
          backupDir: dirOf(r.id),
          manifest: await readManifest(dirOf(r.id)),
          volume: r.volume,
          paths: r.paths,
          ...(r.to ? { to: expandHome(r.to) } : {}),
          inPlace: r.inPlace ?? false,
        },
        { docker: connection.docker, localEngine: isLocalEngine(connection.target), store: storeRoot() },
      ),
    startVerify: async (id, emit) =>
      (await import('../../src/jobs/verify-job.js')).startVerify(storeRoot(), [dirOf(id)], { emit }),
    previewRestore: async (r) => {
      const req = restoreRequest(r);
      const { planRestore } = await import('../../src/restore/plan.js');
      const plan = await planRestore(req.backupDir, await readManifest(req.backupDir), req, connection.docker);
      const line = (i: (typeof plan.items)[number]) =>
        `${i.kind} ${i.target}${i.target !== i.source ? ` (from ${i.source})` : ''}${i.detail ? `: ${i.detail}` : ''}`;
      return {
        create: [
          ...plan.images.map((i) => `image ${i.tags[0] ?? i.id.slice(0, 19)}: loaded from the backup`),
          ...plan.items.filter((i) => i.action === 'create').map(line),
        ],
        replace: plan.items.filter((i) => i.action === 'replace').map(line),
        reuse: plan.items.filter((i) => i.action === 'reuse').map(line),
        conflicts: plan.conflicts.map((c) => c.message),
        problems: plan.missingImages.map((p) => p.message),
        privileges: privilegeLines(plan),
      };
    },
    startRestore: async (r, emit) =>
      (await import('../../src/restore/restore-job.js')).startRestore(restoreRequest(r), {
        docker: connection.docker,
        emit,
        localEngine: isLocalEngine(connection.target),
        volumeMode: connection.target.volumeMode ?? cfg().backup.volumes.mode,
        workerImage: cfg().backup.volumes.worker_image,
        store: storeRoot(),
      }),
    remoteNames: () => enabledRemotes(cfg()),
    listRemoteBackups: async (name, signal) => {
      const [{ openRemote }, { listRemoteBackups }] = await Promise.all([
        import('../../src/remote/open.js'),
        import('../../src/remote/list.js'),
      ]);
      const remote = openRemote(cfg(), name);
      try {
        const { backups } = await listRemoteBackups(remote, signal);
        return backups.reverse().map((b) => ({
          remote: name,
          id: b.id,
          host: b.host,
          created: b.time,
          size: b.size,
          encrypted: b.encrypted,
        }));
      } finally {
        await remote.close();
      }
    },
    remoteStats: async (name, signal) => {
      const { statsOfRemote } = await import('../../src/jobs/remote-stats.js');
      const s = await statsOfRemote(cfg(), name, {
        store: storeRoot(),
        hostDir: hostDir(storeRoot(), connection.hostName),
        signal,
      });
      return {
        backups: s.backups,
        stored: s.stored,
        logical: s.logical,
        dedupRatio: s.dedupRatio,
        wouldAdd: s.wouldAdd,
      };
    },
    startPull: async (remote, id, emit) =>
      (await import('../../src/jobs/pull-job.js')).startPull(cfg(), remote, id, {
        store: storeRoot(),
        host: connection.hostName,
        emit,
      }),
    close: async () => undefined,
  };
}

/** The names of the config's enabled remotes, in config order. */
export function enabledRemotes(config: Config): string[] {
  return Object.entries(config.remotes)
    .filter(([, r]) => r.enabled)
    .map(([n]) => n);
}

/** A backup as a row of the backups screen. */
export function backupRowOf(m: Manifest): BackupRow {
  const count = (k: string) => m.items.filter((i) => i.kind === k).length;
  // Logical size: a volume counts its data (a tree stores only an index file in `files`).
  const bytes = m.items.reduce(
    (a, i) => a + (i.kind === 'volume' ? i.bytes : i.files.reduce((b, f) => b + f.size, 0)),
    0,
  );
  return {
    id: m.id,
    host: m.host,
    created: m.created,
    status: m.status,
    size: bytes,
    items: m.items.filter((i) => i.kind !== 'metadata').length,
    containers: count('container'),
    volumes: count('volume'),
    networks: count('network'),
    encrypted: m.encrypted,
  };
}
