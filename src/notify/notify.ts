// Send one RunReport to every configured notifier whose level asks for it. Never throws: a
// notification that cannot be delivered is logged and returned, it must not turn a good backup
// into a failed run (nor hide the original failure).
import type { Config } from '../config/schema.js';
import { describeError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { redactorFor } from '../log/redact.js';
import { sendEmail } from './email.js';
import { shouldNotify, type RunReport } from './report.js';
import { displayUrl, sendWebhook, type WebhookOptions } from './webhook.js';

export interface Delivery {
  channel: string;
  ok: boolean;
  error?: string;
  attempts?: number;
}

export interface NotifyOptions {
  logger?: Logger;
  signal?: AbortSignal;
  /** every notifier, whatever its level (notify-test) */
  all?: boolean;
  /** tests shorten the webhook back-off */
  webhook?: Pick<WebhookOptions, 'backoffMs' | 'maxBackoffMs'>;
}

export async function notifyRun(config: Config, original: RunReport, opts: NotifyOptions = {}): Promise<Delivery[]> {
  const n = config.notifications;
  // What leaves the host carries no secret of the config (an error may quote a URL, a flag, a password).
  const redact = redactorFor(config);
  const report: RunReport = {
    ...original,
    errors: original.errors.map((e) => ({ ...e, item: redact(e.item), message: redact(e.message) })),
  };
  const log = opts.logger?.child('notify');
  const jobs: Promise<Delivery>[] = [];
  const wants = (level: typeof n.on) => opts.all === true || shouldNotify(level, report);
  if (n.email && n.email.enabled && wants(n.email.on ?? n.on)) {
    const email = n.email;
    const channel = `email ${email.to.join(',')}`;
    jobs.push(
      sendEmail(email, report).then(
        (): Delivery => ({ channel, ok: true }),
        (err): Delivery => ({ channel, ok: false, error: redact(describeError(err)) }),
      ),
    );
  }
  for (const hook of n.webhooks) {
    if (!wants(hook.on ?? n.on)) continue;
    const channel = `webhook ${displayUrl(hook.url)}`;
    jobs.push(
      sendWebhook(hook, report, {
        ...opts.webhook,
        signal: opts.signal,
        onRetry: (attempt, error, delay) =>
          log?.warn(`${channel}: attempt ${attempt} failed (${error}); retrying in ${Math.round(delay / 100) / 10} s`),
      }).then(
        (r): Delivery => ({ channel, ok: true, attempts: r.attempts }),
        // the channel already names the URL
        (err): Delivery => ({ channel, ok: false, error: redact(describeError(err).replace(/^webhook \S+ /, '')) }),
      ),
    );
  }
  const results = await Promise.all(jobs);
  for (const r of results) {
    if (r.ok)
      log?.info(
        `${r.channel}: sent ${report.event} (${report.status})${r.attempts && r.attempts > 1 ? ` after ${r.attempts} attempts` : ''}`,
      );
    else log?.error(`${r.channel}: could not send ${report.event} (${report.status}): ${r.error}`);
  }
  return results;
}
