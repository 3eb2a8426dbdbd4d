// A drill as a job on the one runner (job.ts): run it, keep its record in the store, and tell the
// notifiers. The record and the notification never change the drill's verdict; their failures are
// logged. The restore inside the drill is a job of its own (its events carry its own job id).
import type Docker from 'dockerode';
import type { Config } from '../config/schema.js';
import { describeError } from '../errors.js';
import { writeDrillRecord } from '../drill/record.js';
import { runDrill } from '../drill/run-drill.js';
import type { DrillOptions, DrillReport, DrillRequest } from '../drill/types.js';
import type { Emit } from '../events.js';
import type { Logger } from '../log/logger.js';
import { notifyRun, type Delivery, type NotifyOptions } from '../notify/notify.js';
import { buildReport, type RunReport } from '../notify/report.js';
import { startJob } from './job.js';
import type { JobHandle } from './types.js';

export interface DrillJobDeps extends DrillOptions {
  docker: Docker;
  config: Config;
  /** the host's store folder: the record goes there */
  hostFolder: string;
  emit?: Emit;
  logger?: Logger;
  notify?: Pick<NotifyOptions, 'webhook'>;
}

export interface DrillJobValue {
  report: DrillReport;
  record?: string;
  deliveries: Delivery[];
}

/** The job ends ok when the drill passed, failed when it did not (each error names what), cancelled on cancel. */
export function startDrill(
  req: DrillRequest,
  deps: DrillJobDeps,
  o: { signal?: AbortSignal } = {},
): JobHandle<DrillJobValue> {
  return startJob<DrillJobValue>(
    {
      kind: 'drill',
      title: 'restore drill',
      item: 'drill',
      pausable: false,
      // a drill that could not even start (no manifest, engine gone) is the caller's error to report
      rejects: true,
      run: async (job) => {
        job.start('restore drill', 1);
        const report = await runDrill(deps.docker, req, { ...deps, emit: job.emit, signal: job.signal });
        let record: string | undefined;
        try {
          record = await writeDrillRecord(deps.hostFolder, report);
        } catch (err) {
          deps.logger?.error(
            `drill ${report.id}: could not write its record in ${deps.hostFolder}: ${describeError(err)}`,
          );
        }
        const deliveries = await notifyRun(deps.config, drillRunReport(report), {
          logger: deps.logger,
          ...deps.notify,
        });
        const outcome = report.outcome === 'passed' ? 'ok' : report.outcome;
        return {
          outcome,
          errors: report.errors,
          value: { report, record, deliveries },
          summary: `drill ${report.id} ${report.outcome}`,
          backupId: report.backup_id,
        };
      },
    },
    { emit: deps.emit, signal: o.signal },
  );
}

export function drillRunReport(r: DrillReport): RunReport {
  const ok = r.containers.filter((c) => c.ok).length;
  return buildReport({
    event: 'drill.finished',
    host: r.host,
    backupId: r.backup_id,
    status: r.outcome === 'passed' ? 'ok' : r.outcome,
    schedule: r.schedule ?? undefined,
    started: new Date(r.started),
    finished: new Date(r.finished),
    items: {
      total: r.containers.length + r.volumes.length,
      ok: ok + r.volumes.filter((v) => v.ok).length,
      failed: r.containers.length - ok + r.volumes.filter((v) => !v.ok).length,
    },
    errors: r.errors,
    drill: { id: r.id, rto_seconds: r.rto_seconds, rpo_seconds: r.rpo_seconds },
  });
}
