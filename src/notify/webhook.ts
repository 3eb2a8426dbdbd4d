// Webhook notifier: the RunReport POSTed in the service's format (webhook-format.ts), retried with exponential back-off. A 2xx answer
// is success; 408, 429 and 5xx answers and network errors/timeouts are retried; other 4xx answers
// mean the request itself is wrong, so retrying would only repeat the mistake.
import type { Config } from '../config/schema.js';
import { BbackupError } from '../errors.js';
import { isAbortError } from '../errors.js';
import { redactText, redactUrl, urlSecrets } from '../log/redact.js';
import type { RunReport } from './report.js';
import { formatWebhook } from './webhook-format.js';

export type WebhookConfig = Config['notifications']['webhooks'][number];

export interface WebhookOptions {
  signal?: AbortSignal;
  /** first back-off delay; doubled after each failed attempt (default 1000 ms) */
  backoffMs?: number;
  /** upper bound of one back-off delay (default 30 s) */
  maxBackoffMs?: number;
  /** called before each retry, for logging */
  onRetry?: (attempt: number, error: string, delayMs: number) => void;
}

export interface WebhookResult {
  attempts: number;
  status: number;
}

const USER_AGENT = 'bbackup-notify/1';

/** The URL as shown anywhere: scheme://host/… (Slack and Discord tokens live in the path, others in the query). */
export const displayUrl = redactUrl;

export async function sendWebhook(
  cfg: WebhookConfig,
  report: RunReport,
  opts: WebhookOptions = {},
): Promise<WebhookResult> {
  const { body, headers } = formatWebhook(cfg.format, report);
  const attempts = cfg.retries + 1;
  let delay = opts.backoffMs ?? 1000;
  let lastError = '';
  let made = 0;
  // A server may echo the URL or its token back in an error page or a redirect.
  const hide = (text: string) => redactText(text, [cfg.url, ...urlSecrets(cfg.url)]);
  for (let attempt = 1; attempt <= attempts; attempt++) {
    opts.signal?.throwIfAborted();
    made = attempt;
    const timeout = AbortSignal.timeout(Math.round(cfg.timeout * 1000));
    const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
    let retryable = true;
    try {
      const res = await fetch(cfg.url, {
        method: 'POST',
        headers: { ...headers, 'user-agent': USER_AGENT, ...cfg.headers },
        body,
        signal,
        redirect: 'follow',
      });
      // Drain the body so the connection can be reused and nothing dangles.
      const text = await res.text().catch(() => '');
      if (res.ok) return { attempts: attempt, status: res.status };
      retryable = res.status === 408 || res.status === 429 || res.status >= 500;
      lastError = `HTTP ${res.status}${text ? `: ${hide(text).slice(0, 200)}` : ''}`;
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      lastError =
        timeout.aborted || isAbortError(err) ? `no answer within ${cfg.timeout} s` : hide(describeFetchError(err));
    }
    if (!retryable || attempt === attempts) break;
    opts.onRetry?.(attempt, lastError, delay);
    await sleep(delay, opts.signal);
    delay = Math.min(delay * 2, opts.maxBackoffMs ?? 30_000);
  }
  throw new BbackupError(
    'REMOTE_IO',
    `webhook ${displayUrl(cfg.url)} failed after ${made} attempt(s)${made < attempts ? ' (not retried: the request itself was refused)' : ''}: ${lastError}`,
    { url: displayUrl(cfg.url) },
  );
}

function describeFetchError(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err as Error).message;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
