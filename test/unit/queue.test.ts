import { describe, expect, it } from 'vitest';
import { PauseGate } from '../../src/pause-gate.js';
import { WorkQueue, type Task, type TaskOutcome } from '../../src/jobs/queue.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A task that runs until released or aborted, recording what happened. */
function controllable(item: string, log: string[]) {
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  const task: Task = {
    item,
    run: async (ctx) => {
      log.push(`start ${item}`);
      ctx.suspendable({
        suspend: () => void log.push(`suspend ${item}`),
        resume: () => void log.push(`resume ${item}`),
      });
      await new Promise<void>((resolve, reject) => {
        ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true });
        void released.then(resolve);
      });
      log.push(`end ${item}`);
    },
  };
  return { task, release };
}

describe('PauseGate', () => {
  it('passes when open, holds while closed, rejects on abort', async () => {
    const gate = new PauseGate();
    const ac = new AbortController();
    await gate.wait(ac.signal);
    gate.close();
    let passed = false;
    const waiting = gate.wait(ac.signal).then(() => (passed = true));
    await sleep(10);
    expect(passed).toBe(false);
    gate.open();
    await waiting;
    expect(passed).toBe(true);
    gate.close();
    const held = gate.wait(ac.signal);
    ac.abort(new Error('cancelled'));
    await expect(held).rejects.toThrow('cancelled');
  });
});

describe('WorkQueue', () => {
  it('runs at most `concurrency` tasks at once, in order', async () => {
    const ac = new AbortController();
    const q = new WorkQueue(ac.signal, 2);
    let running = 0;
    let peak = 0;
    const order: string[] = [];
    const tasks: Task[] = ['a', 'b', 'c', 'd', 'e'].map((item) => ({
      item,
      run: async () => {
        order.push(item);
        peak = Math.max(peak, ++running);
        await sleep(15);
        running--;
      },
    }));
    const outcomes = await q.runAll(tasks, () => undefined);
    expect(peak).toBe(2);
    expect(order).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(outcomes.every((o) => o.status === 'done')).toBe(true);
  });

  it('pause suspends running work and starts nothing new; resume continues', async () => {
    const ac = new AbortController();
    const q = new WorkQueue(ac.signal, 1);
    const log: string[] = [];
    const a = controllable('a', log);
    const b = controllable('b', log);
    const run = q.runAll([a.task, b.task], () => undefined);
    await sleep(5);
    await q.pause();
    a.release();
    await sleep(20);
    expect(log).toEqual(['start a', 'suspend a', 'end a']);
    await q.resume();
    await sleep(5);
    b.release();
    await run;
    expect(log).toEqual(['start a', 'suspend a', 'end a', 'start b', 'end b']);
  });

  it('skip aborts only the running item and reports it skipped; a queued item can be skipped ahead', async () => {
    const ac = new AbortController();
    const q = new WorkQueue(ac.signal, 1);
    const log: string[] = [];
    const a = controllable('a', log);
    const b = controllable('b', log);
    const c = controllable('c', log);
    const seen: TaskOutcome[] = [];
    const run = q.runAll([a.task, b.task, c.task], (o) => seen.push(o));
    await sleep(5);
    q.skip('c');
    q.skip();
    await sleep(5);
    b.release();
    await run;
    expect(seen.map((o) => `${o.item}:${o.status}`)).toEqual(['a:skipped', 'b:done', 'c:skipped']);
    expect(log).toEqual(['start a', 'start b', 'end b']);
  });

  it('cancel aborts running work and leaves the rest unstarted, even while paused', async () => {
    const ac = new AbortController();
    const q = new WorkQueue(ac.signal, 1);
    const log: string[] = [];
    const a = controllable('a', log);
    const b = controllable('b', log);
    const run = q.runAll([a.task, b.task], () => undefined);
    await sleep(5);
    await q.pause();
    ac.abort(new Error('cancel'));
    const outcomes = await run;
    expect(outcomes.map((o) => `${o.item}:${o.status}`)).toEqual(['a:cancelled', 'b:cancelled']);
    expect(log).toEqual(['start a', 'suspend a']);
  });

  it('a failing task is reported with its error and the others go on', async () => {
    const ac = new AbortController();
    const q = new WorkQueue(ac.signal, 2);
    const outcomes = await q.runAll(
      [
        { item: 'bad', run: async () => Promise.reject(new Error('boom')) },
        { item: 'good', run: async () => undefined },
      ],
      () => undefined,
    );
    expect(outcomes).toContainEqual({ item: 'bad', status: 'failed', error: new Error('boom') });
    expect(outcomes).toContainEqual({ item: 'good', status: 'done' });
  });
});
