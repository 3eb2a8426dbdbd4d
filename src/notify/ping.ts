// Health-check pings (Healthchecks.io, Uptime Kuma push monitors, Cronitor): a schedule may name a
// URL to hit when its run starts, one when it succeeds, one when it fails (the body carries the
// error text, which Healthchecks shows in its log). A ping is retried and bounded by a timeout,
// and it never fails, delays beyond its timeout, or changes the run it reports on.
import type { Config } from '../config/schema.js';
import { describeError, isAbortError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { redactText, redactUrl, urlSecrets } from '../log/redact.js';

export type PingConfig = NonNullable<Config['schedule'][string]['ping']>;
export type PingKind = 'start' | 'success' | 'failure';

export interface PingOptions {
  logger?: Logger;
  /** first retry delay (default 1000 ms), doubled after each attempt */
  backoffMs?: number;
}

const MAX_BODY = 10_000;

/** true when the endpoint answered 2xx; failures are logged, never thrown. */
export async function sendPing(cfg: PingConfig, kind: PingKind, body: string, o: PingOptions = {}): Promise<boolean> {
  const url = cfg[kind];
  if (!url) return false;
  const shown = redactUrl(url);
  const hide = (t: string) => redactText(t, [url, ...urlSecrets(url)]);
  let delay = o.backoffMs ?? 1000;
  let last = '';
  for (let attempt = 1; attempt <= cfg.retries + 1; attempt++) {
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'text/plain; charset=utf-8', 'user-agent': 'bbackup-ping/1' },
        body: body.slice(0, MAX_BODY),
        signal: AbortSignal.timeout(Math.round(cfg.timeout * 1000)),
      });
      await res.text().catch(() => '');
      if (res.ok) return true;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last =
        isAbortError(err) || (err as Error).name === 'TimeoutError'
          ? `no answer within ${cfg.timeout} s`
          : hide(describeError(err));
    }
    if (attempt <= cfg.retries) {
      await new Promise((r) => setTimeout(r, delay));
      delay *= 2;
    }
  }
  o.logger?.warn(
    `${kind} ping ${shown} failed after ${cfg.retries + 1} attempt(s): ${last} (the run itself is not affected)`,
  );
  return false;
}
