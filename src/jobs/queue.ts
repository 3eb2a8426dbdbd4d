// A small work queue for one job: a concurrency limit, the job's pause gate (nothing new starts
// while paused; running work is suspended through Suspendables), skip of a running item and cancel
// of everything. Each task gets its own AbortSignal, a child of the job's, so skip aborts one task.
import { BbackupError } from '../errors.js';
import { PauseGate } from '../pause-gate.js';
import type { Suspendable } from '../backup/volume-readers/types.js';
import { SkipSignal } from './job.js';

export interface TaskContext {
  signal: AbortSignal;
  gate: PauseGate;
  suspendable(s: Suspendable): () => void;
}

export interface Task {
  /** unique item name, e.g. "volume pgdata" */
  item: string;
  run(ctx: TaskContext): Promise<void>;
}

export type TaskOutcome =
  | { item: string; status: 'done' }
  | { item: string; status: 'skipped' }
  | { item: string; status: 'failed'; error: unknown }
  | { item: string; status: 'cancelled' };

export class WorkQueue {
  private readonly running = new Map<string, { abort: AbortController; suspendables: Set<Suspendable> }>();
  private readonly skipped = new Set<string>();

  constructor(
    private readonly signal: AbortSignal,
    private readonly concurrency: number,
    /** the job's gate (job.ts); its own when the queue runs alone */
    readonly gate = new PauseGate(),
  ) {
    if (concurrency < 1) throw new BbackupError('USAGE', 'concurrency must be at least 1');
  }

  get paused(): boolean {
    return this.gate.paused;
  }

  /** Close the gate and suspend what runs. */
  async pause(): Promise<void> {
    this.gate.close();
    await Promise.all(
      [...this.running.values()].flatMap((r) =>
        [...r.suspendables].map((s) => Promise.resolve(s.suspend()).catch(() => undefined)),
      ),
    );
  }

  async resume(): Promise<void> {
    await Promise.all(
      [...this.running.values()].flatMap((r) =>
        [...r.suspendables].map((s) => Promise.resolve(s.resume()).catch(() => undefined)),
      ),
    );
    this.gate.open();
  }

  /** Skip a running item (default: every running item) or mark a queued one to be skipped. */
  skip(item?: string): void {
    const targets = item ? [item] : [...this.running.keys()];
    for (const t of targets) {
      this.skipped.add(t);
      const r = this.running.get(t);
      if (r) {
        // A suspended process must run again to see its kill.
        if (this.gate.paused) for (const s of r.suspendables) void Promise.resolve(s.resume()).catch(() => undefined);
        r.abort.abort(new SkipSignal(t));
      }
    }
  }

  /** Run every task, at most `concurrency` at once, in order; never rejects. */
  async runAll(
    tasks: Task[],
    onOutcome: (o: TaskOutcome) => void,
    onStart?: (item: string) => void,
  ): Promise<TaskOutcome[]> {
    const outcomes: TaskOutcome[] = [];
    let next = 0;
    const worker = async () => {
      while (next < tasks.length) {
        const task = tasks[next++]!;
        const o = await this.runOne(task, onStart);
        outcomes.push(o);
        onOutcome(o);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, tasks.length) }, worker));
    return outcomes;
  }

  private async runOne(task: Task, onStart?: (item: string) => void): Promise<TaskOutcome> {
    const { item } = task;
    try {
      await this.gate.wait(this.signal);
    } catch {
      return { item, status: 'cancelled' };
    }
    if (this.skipped.has(item)) return { item, status: 'skipped' };
    const abort = new AbortController();
    const onJobAbort = () => abort.abort(this.signal.reason);
    this.signal.addEventListener('abort', onJobAbort, { once: true });
    const suspendables = new Set<Suspendable>();
    this.running.set(item, { abort, suspendables });
    onStart?.(item);
    try {
      await task.run({
        signal: abort.signal,
        gate: this.gate,
        suspendable: (s) => {
          suspendables.add(s);
          if (this.gate.paused) void Promise.resolve(s.suspend()).catch(() => undefined);
          return () => suspendables.delete(s);
        },
      });
      if (this.signal.aborted) return { item, status: 'cancelled' };
      return { item, status: 'done' };
    } catch (error) {
      if (this.signal.aborted) return { item, status: 'cancelled' };
      if (abort.signal.aborted && abort.signal.reason instanceof SkipSignal) return { item, status: 'skipped' };
      return { item, status: 'failed', error };
    } finally {
      this.signal.removeEventListener('abort', onJobAbort);
      this.running.delete(item);
    }
  }
}
