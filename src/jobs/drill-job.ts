// A drill as a job: run it, keep its record in the store, and tell the notifiers. The record and
// the notification never change the drill's verdict; their failures are logged and returned.
import type Docker from 'dockerode';
import type { Config } from '../config/schema.js';
import { describeError } from '../errors.js';
import type { Emit } from '../events.js';
import { writeDrillRecord } from '../drill/record.js';
import { runDrill } from '../drill/run-drill.js';
import type { DrillOptions, DrillReport, DrillRequest } from '../drill/types.js';
import type { Logger } from '../log/logger.js';
import { notifyRun, type Delivery, type NotifyOptions } from '../notify/notify.js';
import { buildReport } from '../notify/report.js';

export interface DrillJobDeps extends DrillOptions {
  docker: Docker;
  config: Config;
  /** the host's store folder: the record goes there */
  hostFolder: string;
  emit?: Emit;
  logger?: Logger;
  signal: AbortSignal;
  notify?: Pick<NotifyOptions, 'webhook'>;
}

export interface DrillJobResult {
  report: DrillReport;
  record?: string;
  deliveries: Delivery[];
}

export async function runDrillJob(req: DrillRequest, deps: DrillJobDeps): Promise<DrillJobResult> {
  const report = await runDrill(deps.docker, req, deps);
  let record: string | undefined;
  try {
    record = await writeDrillRecord(deps.hostFolder, report);
  } catch (err) {
    deps.logger?.error(`drill ${report.id}: could not write its record in ${deps.hostFolder}: ${describeError(err)}`);
  }
  const deliveries = await notifyRun(deps.config, drillRunReport(report), { logger: deps.logger, ...deps.notify });
  return { report, record, deliveries };
}

export function drillRunReport(r: DrillReport) {
  const ok = r.containers.filter((c) => c.ok).length;
  return buildReport({
    event: 'drill.finished',
    host: r.host,
    backupId: r.backup_id,
    status: r.outcome === 'passed' ? 'ok' : r.outcome,
    schedule: r.schedule ?? undefined,
    started: new Date(r.started),
    finished: new Date(r.finished),
    items: { total: r.containers.length + r.volumes.length, ok: ok + r.volumes.filter((v) => v.ok).length, failed: r.containers.length - ok + r.volumes.filter((v) => !v.ok).length },
    errors: r.errors,
    drill: { id: r.id, rto_seconds: r.rto_seconds, rpo_seconds: r.rpo_seconds },
  });
}
