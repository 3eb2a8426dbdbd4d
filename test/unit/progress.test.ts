import { describe, expect, it } from 'vitest';
import type { EngineEvent } from '../../src/events.js';
import { byteCounter, etaSeconds, RateMeter, throttleProgress, withRates } from '../../src/jobs/progress.js';
import { progressBar, renderProgressLine } from '../../src/cli/printers/progress-line.js';

const clock = (start = 0) => {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
};

describe('RateMeter', () => {
  it('settles on a steady rate and smooths a spike', () => {
    const c = clock();
    const m = new RateMeter(c.now, 2000);
    let bytes = 0;
    for (let i = 0; i < 50; i++) {
      c.advance(100);
      bytes += 10_000_000;
      m.update(bytes);
    }
    expect(m.rate).toBeCloseTo(100_000_000, -6);
    c.advance(100);
    m.update(bytes + 100_000_000); // 10x burst for one tick
    expect(m.rate!).toBeLessThan(200_000_000);
    expect(m.rate!).toBeGreaterThan(100_000_000);
  });

  it('ignores updates closer than 50 ms', () => {
    const c = clock();
    const m = new RateMeter(c.now);
    c.advance(10);
    expect(m.update(1000)).toBeUndefined();
  });

  it.each([
    [50, 100, 10, 5],
    [50, undefined, 10, undefined],
    [50, 100, 0, undefined],
    [120, 100, 10, 0],
  ])('eta(%s of %s at %s/s) = %s', (bytes, total, rate, eta) => {
    expect(etaSeconds(bytes, total, rate)).toBe(eta);
  });

  it('withRates adds rate and eta to counted bytes, per item from its start', () => {
    const c = clock();
    const events: EngineEvent[] = [];
    const emit = withRates((e) => events.push(e), c.now);
    emit({ type: 'item.start', jobId: 'j', item: 'volume v', kind: 'volume', total: 1000 });
    c.advance(1000);
    const counter = byteCounter(emit, 'j', 'volume v', 1000);
    counter.add(200);
    counter.add(300);
    expect(counter.bytes).toBe(500);
    expect(events.slice(1)).toEqual([
      { type: 'item.progress', jobId: 'j', item: 'volume v', bytes: 200, total: 1000, rate: 200, eta: 4 },
      // within 50 ms of the last sample: the rate stands, the ETA follows the bytes
      { type: 'item.progress', jobId: 'j', item: 'volume v', bytes: 500, total: 1000, rate: 200, eta: 2.5 },
    ]);
  });
});

describe('throttleProgress', () => {
  const p = (item: string, bytes: number): EngineEvent => ({ type: 'item.progress', jobId: 'j', item, bytes });

  it('passes at most one progress per item per interval, keeps the latest, never drops other events', async () => {
    const c = clock(1000);
    const out: EngineEvent[] = [];
    const t = throttleProgress((e) => out.push(e), 100, c.now);
    t.emit(p('a', 1));
    t.emit(p('a', 2));
    t.emit(p('b', 1));
    t.emit(p('a', 3));
    expect(out.map((e) => (e.type === 'item.progress' ? `${e.item}${e.bytes}` : e.type))).toEqual(['a1', 'b1']);
    c.advance(100);
    await new Promise((r) => setTimeout(r, 120));
    expect(out.map((e) => (e.type === 'item.progress' ? `${e.item}${e.bytes}` : e.type))).toEqual(['a1', 'b1', 'a3']);
    t.emit(p('a', 4));
    t.emit({ type: 'item.done', jobId: 'j', item: 'a', bytes: 5 });
    t.emit({ type: 'item.failed', jobId: 'j', item: 'b', error: { code: 'TOOL_FAILED', message: 'y' } });
    t.emit({ type: 'job.end', jobId: 'j', outcome: 'partial' });
    expect(out.slice(3).map((e) => e.type)).toEqual(['item.done', 'item.failed', 'job.end']);
    t.close();
  });
});

describe('progress line', () => {
  it('draws a bar with percent, amounts, rate and ETA within the width', () => {
    const line = renderProgressLine(
      { item: 'volume pgdata', bytes: 512 * 1024 * 1024, total: 1024 * 1024 * 1024, rate: 48.2 * 1024 * 1024, eta: 12 },
      100,
    );
    expect(line).toMatch(/^volume pgdata\s+█+░+  50%  512 MB \/ 1.0 GB  48.2 MB\/s  ETA 0:12$/);
    expect(line.length).toBeLessThanOrEqual(100);
  });
  it('without a total shows bytes only', () => {
    expect(renderProgressLine({ item: 'volume x', bytes: 2048 }, 80)).toMatch(/^volume x\s+ 2.0 KB$/);
  });
  it.each([
    [0, '░░░░'],
    [0.5, '██░░'],
    [1.7, '████'],
  ])('bar(%s)', (f, bar) => expect(progressBar(f, 4)).toBe(bar));
});
