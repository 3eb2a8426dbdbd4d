// The CLI's human view of engine events. On a terminal: live progress bars for running items,
// redrawn in place, with finished items printed above them. Elsewhere (cron, pipes): one plain
// line per finished item, or nothing with --quiet. Progress events arrive already throttled.
import { assertNever } from '../../errors.js';
import type { Emit, EngineEvent } from '../../events.js';
import { formatBytes } from '../../format/units.js';
import { renderProgressLine, type ProgressState } from './progress-line.js';

export interface TextPrinterOptions {
  out: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  /** draw live bars (a terminal) */
  live: boolean;
  quiet: boolean;
}

export interface TextPrinter {
  emit: Emit;
  /** erase the live block (before the final summary) */
  close(): void;
}

export function textPrinter(opts: TextPrinterOptions): TextPrinter {
  const running = new Map<string, ProgressState>();
  let drawn = 0;
  const columns = () => opts.out.columns ?? 80;
  const erase = () => {
    if (drawn > 0) opts.out.write(`\x1b[${drawn}A\x1b[0J`);
    drawn = 0;
  };
  const draw = () => {
    if (!opts.live) return;
    erase();
    const lines = [...running.values()].map((s) => renderProgressLine(s, columns()));
    if (lines.length > 0) opts.out.write(`${lines.join('\n')}\n`);
    drawn = lines.length;
  };
  const line = (text: string) => {
    if (opts.quiet) return;
    if (opts.live) erase();
    opts.out.write(`${text}\n`);
    draw();
  };
  const emit = (e: EngineEvent) => {
    switch (e.type) {
      case 'job.start':
        line(e.title);
        break;
      case 'item.start':
        running.set(e.item, { item: e.item, bytes: 0, total: e.total });
        draw();
        break;
      case 'item.progress':
        running.set(e.item, { item: e.item, bytes: e.bytes, total: e.total, rate: e.rate, eta: e.eta });
        draw();
        break;
      case 'item.done':
        running.delete(e.item);
        line(`  ok       ${e.item}${e.bytes ? `  ${formatBytes(e.bytes)}` : ''}${e.detail ? `  ${e.detail}` : ''}`);
        break;
      case 'item.failed':
        running.delete(e.item);
        line(`  FAILED   ${e.item}: ${e.error.message}`);
        break;
      case 'item.skipped':
        running.delete(e.item);
        line(`  skipped  ${e.item}: ${e.reason}`);
        break;
      case 'job.paused':
        line('  paused');
        break;
      case 'job.resumed':
        line('  resumed');
        break;
      case 'job.end':
        running.clear();
        erase();
        break;
      case 'item.queued':
      case 'log':
        break;
      default:
        assertNever(e, 'event');
    }
  };
  return { emit, close: erase };
}
