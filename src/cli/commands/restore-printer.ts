// Text lines for a restore's engine events: one line per finished item, a final summary. Progress
// events are left to the TUI (a restore's items are few; the volume lines carry their size).
import type { Writable } from 'node:stream';
import type { Emit } from '../../events.js';
import { formatBytes } from '../output.js';

export function restorePrinter(out: Writable): Emit {
  return (e) => {
    switch (e.type) {
      case 'item.done':
        if (e.item !== 'verify backup' || e.bytes > 0) out.write(`  ok      ${e.item}${e.bytes ? ` (${formatBytes(e.bytes)})` : ''}${e.detail ? `: ${e.detail}` : ''}\n`);
        break;
      case 'item.failed':
        out.write(`  FAILED  ${e.item}: ${e.error.message}\n`);
        break;
      case 'item.skipped':
        out.write(`  skipped ${e.item}: ${e.reason}\n`);
        break;
      case 'job.end':
        out.write(`restore ${e.outcome}${e.summary ? `: ${e.summary}` : ''}\n`);
        break;
      case 'log':
        if (e.level === 'warn' || e.level === 'error') out.write(`  ${e.level}: ${e.msg}\n`);
        break;
      case 'job.start':
      case 'item.queued':
      case 'item.start':
      case 'item.progress':
      case 'job.paused':
      case 'job.resumed':
        break;
    }
  };
}
