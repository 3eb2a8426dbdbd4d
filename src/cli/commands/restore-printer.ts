// What a restore adds to the shared text printer (src/cli/printers/text.ts, which prints items and
// live bars): warnings (e.g. "removing existing container X (--force)") and the final summary.
import type { Writable } from 'node:stream';
import { assertNever } from '../../errors.js';
import type { Emit } from '../../events.js';

export function restorePrinter(out: Writable): Emit {
  return (e) => {
    switch (e.type) {
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
      case 'item.done':
      case 'item.failed':
      case 'item.skipped':
      case 'job.paused':
      case 'job.resumed':
        break;
      default:
        assertNever(e, 'event');
    }
  };
}
