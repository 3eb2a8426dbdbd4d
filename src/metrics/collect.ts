// The Prometheus view of bbackup, read from what the store already holds (manifests, drill
// records, the scheduler's state file), so `bbackup metrics --textfile` from cron and the daemon's
// /metrics say the same. A fresh registry per collection: values are facts read now, never
// counters kept in memory that a restart would reset.
import { join } from 'node:path';
import { Gauge, Registry } from 'prom-client';
import { expandHome } from '../config/locate.js';
import type { Config } from '../config/schema.js';
import { readDrillRecords } from '../drill/record.js';
import { listBackups, listHostFolders } from '../store/catalog.js';
import { fromSafeSegment } from '../store/layout.js';
import type { Manifest } from '../store/manifest.js';
import { readState, statePathFor } from '../schedule/state.js';
import { collectRemoteMetrics } from './remotes.js';

export interface CollectOptions {
  /** set by the daemon: bbackup_daemon_up 1 */
  daemon?: boolean;
}

const seconds = (iso: string | undefined): number | undefined => {
  const t = iso ? Date.parse(iso) : NaN;
  return Number.isFinite(t) ? t / 1000 : undefined;
};

export async function collectMetrics(config: Config, o: CollectOptions = {}): Promise<Registry> {
  const registry = new Registry();
  const g = (name: string, help: string, labelNames: string[] = []) =>
    new Gauge({ name, help, labelNames, registers: [registry] });
  const itemLabels = ['host', 'kind', 'name'];
  const lastSuccess = g(
    'bbackup_item_last_success_timestamp_seconds',
    'end of the newest backup that stored this container or volume',
    itemLabels,
  );
  const lastDuration = g('bbackup_item_last_duration_seconds', 'duration of that backup run', itemLabels);
  const lastBytes = g(
    'bbackup_item_last_bytes',
    'bytes stored for the item in that backup (a volume: its logical size)',
    itemLabels,
  );
  const lastFiles = g(
    'bbackup_item_last_files',
    'files stored for the item in that backup (a volume: its file count)',
    itemLabels,
  );
  const lastResult = g(
    'bbackup_item_last_result',
    '1 when the newest backup that tried this item stored it, 0 when it failed there',
    itemLabels,
  );
  const backups = g('bbackup_backups', 'backups in the local store', ['host']);
  const storeBytes = g('bbackup_last_backup_bytes', 'logical bytes of the newest backup', ['host']);
  const drillTime = g('bbackup_drill_last_timestamp_seconds', 'end of the newest drill that included this container', [
    'host',
    'container',
  ]);
  const drillPassed = g('bbackup_drill_last_passed', '1 when the newest drill of this container passed, else 0', [
    'host',
    'container',
  ]);
  const drillRto = g('bbackup_drill_last_rto_seconds', 'time to recover measured by the newest passed drill', ['host']);
  const drillRpo = g('bbackup_drill_last_rpo_seconds', 'age of the data the newest drill restored', ['host']);
  const daemonUp = g('bbackup_daemon_up', '1 when served by a running bbackup daemon');
  const daemonSeen = g('bbackup_daemon_last_seen_timestamp_seconds', "the daemon's last heartbeat");
  const schedules = g('bbackup_schedules', 'enabled schedules in the config');
  const schedLast = g('bbackup_schedule_last_run_timestamp_seconds', "end of the schedule's last run", ['schedule']);
  const schedOk = g('bbackup_schedule_last_success', "1 when the schedule's last run ended ok", ['schedule']);
  const schedMissed = g('bbackup_schedule_missed_runs', 'runs missed while no daemon was running', ['schedule']);
  const schedSkipped = g('bbackup_schedule_skipped_runs', 'runs skipped because the previous one was still going', [
    'schedule',
  ]);

  const store = expandHome(config.backup.store);
  for (const folder of await listHostFolders(store)) {
    let host: string;
    try {
      host = fromSafeSegment(folder);
    } catch {
      continue;
    }
    const entries = await listBackups(join(store, folder));
    const manifests = entries.map((e) => e.manifest).filter((m): m is Manifest => m !== undefined);
    backups.set({ host }, manifests.length);
    const seen = new Set<string>();
    for (const m of [...manifests].reverse()) {
      const failed = new Set(m.errors.map((e) => `${e.kind}:${e.name}`));
      for (const key of failed) {
        if (seen.has(key)) continue;
        const [kind, name] = key.split(/:(.*)/s) as [string, string];
        if (kind !== 'container' && kind !== 'volume') continue;
        seen.add(key);
        lastResult.set({ host, kind, name }, 0);
      }
      for (const i of m.items) {
        if ((i.kind !== 'container' && i.kind !== 'volume') || seen.has(`${i.kind}:${i.name}`)) continue;
        seen.add(`${i.kind}:${i.name}`);
        const labels = { host, kind: i.kind, name: i.name };
        const end = seconds(m.finished);
        if (end !== undefined) lastSuccess.set(labels, end);
        const start = seconds(m.created);
        if (end !== undefined && start !== undefined) lastDuration.set(labels, Math.max(0, end - start));
        lastBytes.set(labels, i.kind === 'volume' ? i.bytes : i.files.reduce((s, f) => s + f.size, 0));
        lastFiles.set(labels, i.kind === 'volume' ? i.fileCount : i.files.length);
        lastResult.set(labels, 1);
      }
    }
    const newest = manifests.at(-1);
    if (newest)
      storeBytes.set(
        { host },
        newest.items.reduce((s, i) => s + (i.kind === 'volume' ? i.bytes : i.files.reduce((t, f) => t + f.size, 0)), 0),
      );
    const drills = await readDrillRecords(join(store, folder));
    for (const d of drills) {
      for (const c of d.containers) {
        drillTime.set({ host, container: c.name }, seconds(d.finished) ?? 0);
        drillPassed.set({ host, container: c.name }, d.outcome === 'passed' && c.ok ? 1 : 0);
      }
      drillRpo.set({ host }, d.rpo_seconds);
      if (d.rto_seconds !== null) drillRto.set({ host }, d.rto_seconds);
    }
  }

  await collectRemoteMetrics(registry, store);
  daemonUp.set(o.daemon ? 1 : 0);
  schedules.set(Object.values(config.schedule).filter((s) => s.enabled).length);
  const state = await readState(statePathFor(config)).catch(() => undefined);
  const seen = seconds(state?.daemon?.lastSeen);
  if (seen !== undefined) daemonSeen.set(seen);
  for (const [name, e] of Object.entries(state?.schedules ?? {})) {
    const end = seconds(e.lastEnd);
    if (end !== undefined) schedLast.set({ schedule: name }, end);
    if (e.lastStatus) schedOk.set({ schedule: name }, e.lastStatus === 'ok' ? 1 : 0);
    schedMissed.set({ schedule: name }, e.missed ?? 0);
    schedSkipped.set({ schedule: name }, e.skipped ?? 0);
  }
  return registry;
}
