// Engine events into TUI state. Mutates in place (the state is the app's one model object) but
// depends on nothing else, so it is tested like a pure function in test/unit/tui-reduce.test.ts.
import { describeEvent } from '../../src/log/logger.js';
import { assertNever } from '../../src/errors.js';
import type { EngineEvent, LogLevel } from '../../src/events.js';
import { MAX_LOG, MAX_NOTICES, MAX_RATES, type ItemView, type JobView, type TuiState } from './types.js';

export function applyEvent(s: TuiState, e: EngineEvent, now: number): void {
  const line = describeEvent(e);
  if (line) addLog(s, line.level, line.msg, now);
  if (e.type === 'log') return;
  if (e.type === 'job.start') {
    s.jobs = s.jobs.filter((j) => j.id !== e.jobId);
    s.jobs.push({
      id: e.jobId,
      kind: e.kind,
      title: e.title,
      itemCount: e.items,
      items: [],
      paused: false,
      started: now,
    });
    return;
  }
  const job = s.jobs.find((j) => j.id === e.jobId) ?? startImplicit(s, e.jobId, now);
  switch (e.type) {
    case 'item.queued':
      upsert(job, e.item, { kind: e.kind, state: 'queued', total: e.total });
      break;
    case 'item.start':
      upsert(job, e.item, { kind: e.kind, state: 'running', total: e.total });
      break;
    case 'item.progress':
      upsert(job, e.item, {
        state: 'running',
        bytes: e.bytes,
        total: e.total ?? item(job, e.item)?.total,
        rate: e.rate,
        eta: e.eta,
        sent: e.sent,
        skipped: e.skipped,
      });
      break;
    case 'item.done':
      upsert(job, e.item, { state: 'done', bytes: e.bytes, rate: undefined, eta: undefined, detail: e.detail });
      break;
    case 'item.failed':
      upsert(job, e.item, { state: 'failed', rate: undefined, eta: undefined, detail: e.error.message });
      break;
    case 'item.skipped':
      upsert(job, e.item, { state: 'skipped', rate: undefined, eta: undefined, detail: e.reason });
      break;
    case 'job.paused':
      job.paused = true;
      break;
    case 'job.resumed':
      job.paused = false;
      break;
    case 'job.end':
      job.ended = now;
      job.paused = false;
      job.outcome = e.outcome;
      job.summary = e.summary;
      job.backupId = e.backupId;
      for (const i of job.items)
        if (i.state === 'running' || i.state === 'queued')
          Object.assign(i, { state: e.outcome === 'ok' ? 'done' : 'skipped', rate: undefined, eta: undefined });
      break;
    default:
      assertNever(e, 'event');
  }
}

/** A warning or error for the error pane (and the log). */
export function addNotice(s: TuiState, level: LogLevel, msg: string, now: number): void {
  s.notices.push({ time: now, level, msg });
  if (s.notices.length > MAX_NOTICES) s.notices.splice(0, s.notices.length - MAX_NOTICES);
}

export function addLog(s: TuiState, level: LogLevel, msg: string, now: number): void {
  s.log.push({ time: now, level, msg });
  if (s.log.length > MAX_LOG) s.log.splice(0, s.log.length - MAX_LOG);
  if (level === 'warn' || level === 'error') addNotice(s, level, msg, now);
}

export function addRateSample(s: TuiState, bytesPerSecond: number): void {
  s.rates.push(Math.max(0, bytesPerSecond));
  if (s.rates.length > MAX_RATES) s.rates.splice(0, s.rates.length - MAX_RATES);
}

export const runningJobs = (s: TuiState): JobView[] => s.jobs.filter((j) => j.ended === undefined);

/** Bytes moved so far by every job: the rate sampler differentiates this. */
export const totalBytes = (s: TuiState): number =>
  s.jobs.reduce((sum, j) => sum + j.items.reduce((a, i) => a + i.bytes, 0), 0);

/** Jobs older than the newest `keep` finished ones are dropped so the pane stays readable. */
export function pruneJobs(s: TuiState, keep = 8): void {
  const ended = s.jobs.filter((j) => j.ended !== undefined);
  if (ended.length <= keep) return;
  const drop = new Set(ended.slice(0, ended.length - keep).map((j) => j.id));
  s.jobs = s.jobs.filter((j) => !drop.has(j.id));
}

function startImplicit(s: TuiState, jobId: string, now: number): JobView {
  // Events of a job whose start we missed (e.g. an upload job started by the engine) still show.
  const job: JobView = {
    id: jobId,
    kind: 'backup',
    title: jobId,
    itemCount: 0,
    items: [],
    paused: false,
    started: now,
  };
  s.jobs.push(job);
  return job;
}

const item = (job: JobView, name: string): ItemView | undefined => job.items.find((i) => i.name === name);

function upsert(job: JobView, name: string, patch: Partial<ItemView>): void {
  const existing = item(job, name);
  if (existing) {
    for (const [k, v] of Object.entries(patch))
      if (v !== undefined || k === 'rate' || k === 'eta') (existing as unknown as Record<string, unknown>)[k] = v;
    return;
  }
  job.items.push({
    name,
    kind: patch.kind ?? 'file',
    state: patch.state ?? 'queued',
    bytes: patch.bytes ?? 0,
    total: patch.total,
    rate: patch.rate,
    eta: patch.eta,
    detail: patch.detail,
  });
}
