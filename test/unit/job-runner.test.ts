// The one job runner (src/jobs/job.ts): the job.start/job.end pair, errors as typed results,
// cancel through the caller's signal, pause as a gate, and progress rated and throttled at the
// job's emit. Steps here are plain functions; no Docker.
import { describe, expect, it } from 'vitest';
import { BbackupError } from '../../src/errors.js';
import type { EngineEvent } from '../../src/events.js';
import { startJob, type JobContext, type StepEnd } from '../../src/jobs/job.js';

const collect = () => {
  const events: EngineEvent[] = [];
  return { events, emit: (e: EngineEvent) => void events.push(e), types: () => events.map((e) => e.type) };
};

/** A promise and the function that settles it, for steps that wait for the test. */
const latch = () => {
  let open!: () => void;
  const p = new Promise<void>((r) => (open = r));
  return { p, open };
};

describe('startJob', () => {
  it('sends job.start once (the step`s) and job.end with the summary, and resolves the result', async () => {
    const c = collect();
    const job = startJob<number>(
      {
        kind: 'verify',
        title: 'verify',
        run: async (ctx) => {
          ctx.start('verify 2 backups', 2);
          ctx.start('again', 9);
          return { outcome: 'ok', value: 42, errors: [], summary: 'all good' };
        },
      },
      { emit: c.emit },
    );
    expect(job.id).toMatch(/^verify-[0-9a-f]{8}$/);
    await expect(job.done).resolves.toEqual({ outcome: 'ok', value: 42, errors: [] });
    expect(c.events).toEqual([
      { type: 'job.start', jobId: job.id, kind: 'verify', title: 'verify 2 backups', items: 2 },
      { type: 'job.end', jobId: job.id, outcome: 'ok', summary: 'all good' },
    ]);
  });

  it('a step that throws ends failed with the error`s code under the step`s item; job.start is sent for it', async () => {
    const c = collect();
    const job = startJob(
      {
        kind: 'backup',
        title: 'backup',
        item: 'backup',
        run: () => Promise.reject(new BbackupError('LOCKED', 'the store is locked by pid 7')),
      },
      { emit: c.emit },
    );
    await expect(job.done).resolves.toEqual({
      outcome: 'failed',
      errors: [{ item: 'backup', code: 'LOCKED', message: 'the store is locked by pid 7' }],
    });
    expect(c.types()).toEqual(['job.start', 'job.end']);
    expect(c.events[1]).toMatchObject({ outcome: 'failed', summary: 'the store is locked by pid 7' });
  });

  it('an error that is not ours is INTERNAL, never a free-form code', async () => {
    const job = startJob({
      kind: 'rotate',
      title: 'rotate',
      run: () => Promise.reject(new TypeError('x is undefined')),
    });
    expect((await job.done).errors[0]?.code).toBe('INTERNAL');
  });

  it('a rejecting step rejects done after job.end, with its own error', async () => {
    const c = collect();
    const err = new BbackupError('CONFLICT', 'container web exists');
    const job = startJob(
      { kind: 'restore', title: 'restore', rejects: true, run: () => Promise.reject(err) },
      { emit: c.emit },
    );
    await expect(job.done).rejects.toBe(err);
    expect(c.types()).toEqual(['job.start', 'job.end']);
  });

  it.each([
    [
      'the caller`s signal (SIGINT in the CLI)',
      (job: { cancel(): void }, abort: AbortController) => (void job, abort.abort()),
    ],
    ['cancel()', (job: { cancel(): void }) => job.cancel()],
  ])('%s cancels: the step sees its signal abort and the job ends cancelled', async (_name, stop) => {
    const c = collect();
    const abort = new AbortController();
    const running = latch();
    const job = startJob(
      {
        kind: 'backup',
        title: 'backup',
        rejects: true,
        run: (ctx) =>
          new Promise<StepEnd<void>>((_resolve, reject) => {
            ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason));
            running.open();
          }),
      },
      { emit: c.emit, signal: abort.signal },
    );
    await running.p;
    stop(job, abort);
    // cancelled even though the step rejects: a cancel is an outcome, not an error
    await expect(job.done).resolves.toEqual({
      outcome: 'cancelled',
      errors: [{ item: 'backup', code: 'CANCELLED', message: 'backup cancelled' }],
    });
    expect(c.events.at(-1)).toMatchObject({ type: 'job.end', outcome: 'cancelled' });
  });

  it('pause closes the gate the step waits on; resume opens it; skip without a control cancels', async () => {
    const c = collect();
    let ctx!: JobContext;
    const started = latch();
    const proceed = latch();
    let passedGate = false;
    const job = startJob(
      {
        kind: 'restore',
        title: 'restore',
        run: async (x) => {
          ctx = x;
          started.open();
          await proceed.p;
          await x.gate.wait(x.signal);
          passedGate = true;
          return { outcome: 'ok', errors: [] };
        },
      },
      { emit: c.emit },
    );
    await started.p;
    job.pause();
    expect(job.paused).toBe(true);
    expect(ctx.gate.paused).toBe(true);
    proceed.open();
    await new Promise((r) => setImmediate(r));
    expect(passedGate).toBe(false);
    job.resume();
    await job.done;
    expect(passedGate).toBe(true);
    expect(c.types()).toEqual(['job.paused', 'job.resumed', 'job.start', 'job.end']);

    const one = startJob<void>({
      kind: 'pull',
      title: 'pull',
      run: (x) => new Promise((_r, reject) => x.signal.addEventListener('abort', () => reject(x.signal.reason))),
    });
    one.skip();
    expect((await one.done).outcome).toBe('cancelled');
  });

  it('a step that cannot pause says so and keeps running', async () => {
    const c = collect();
    const go = latch();
    const job = startJob(
      {
        kind: 'verify',
        title: 'verify',
        pausable: false,
        run: async () => (await go.p, { outcome: 'ok', errors: [] }),
      },
      { emit: c.emit },
    );
    job.pause();
    expect(job.paused).toBe(false);
    go.open();
    await job.done;
    expect(c.events[0]).toMatchObject({
      type: 'log',
      level: 'info',
      msg: expect.stringMatching(/verify cannot pause/),
    });
  });

  it('progress gets rate and ETA and is throttled at the job`s emit; the last one is not lost', async () => {
    const c = collect();
    const job = startJob(
      {
        kind: 'upload',
        title: 'upload',
        run: async ({ emit, jobId, start }) => {
          start('upload', 1);
          emit({ type: 'item.start', jobId, item: 'f', kind: 'upload', total: 1000 });
          for (let b = 1; b <= 1000; b++) emit({ type: 'item.progress', jobId, item: 'f', bytes: b, total: 1000 });
          return { outcome: 'ok', errors: [] };
        },
      },
      { emit: c.emit },
    );
    await job.done;
    const progress = c.events.filter((e) => e.type === 'item.progress');
    // a thousand counts in one tick: the first goes through, the rest wait for the interval,
    // and job.end flushes the latest before it
    expect(progress.length).toBeLessThan(10);
    expect(progress.at(-1)).toMatchObject({ bytes: 1000, total: 1000 });
    expect(progress.every((e) => 'rate' in e && 'eta' in e)).toBe(true);
    expect(c.types().at(-1)).toBe('job.end');
  });
});
