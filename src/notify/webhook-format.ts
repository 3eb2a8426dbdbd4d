// Webhook presets: the same RunReport in the shape each service accepts directly, so no relay is
// needed. json is the documented report itself (README "Notifications"); the others carry a short
// message: a title naming what happened (backup, failure, partial, drill, missed) and the errors first.
import { reportSubject, type RunReport } from './report.js';

export type WebhookFormat = 'json' | 'slack' | 'discord' | 'teams' | 'ntfy' | 'gotify';

export interface WebhookRequest {
  body: string;
  headers: Record<string, string>;
}

const MAX_TEXT = 1800; // Discord refuses content over 2000 characters; the others are kept as short

/** Title and text of the message people read. */
export function reportMessage(r: RunReport): { title: string; text: string; bad: boolean } {
  const title = reportSubject(r).replace(/^\[bbackup\] /, '');
  const lines: string[] = [];
  for (const e of r.errors.slice(0, 5)) lines.push(`• ${e.item}: ${e.message.split('\n')[0]}`);
  if (r.errors.length > 5) lines.push(`• … and ${r.errors.length - 5} more`);
  if (r.event === 'drill.finished' && r.drill)
    lines.push(
      `drill ${r.drill.id}: ${r.drill.rto_seconds === null ? 'did not recover' : `recovered in ${r.drill.rto_seconds} s`}, data ${r.drill.rpo_seconds} s old`,
    );
  else if (r.event === 'backup.finished')
    lines.push(
      `backup ${r.backup_id ?? '-'}: ${r.items.ok} of ${r.items.total} items, ${r.sizes.bytes} bytes in ${r.sizes.files} files, ${r.duration} s`,
    );
  lines.push(`host ${r.host} (bbackup on ${r.machine})${r.schedule ? `, schedule ${r.schedule}` : ''}`);
  let text = lines.join('\n');
  if (text.length > MAX_TEXT) text = `${text.slice(0, MAX_TEXT - 1)}…`;
  return { title, text, bad: r.status !== 'ok' };
}

const json = (v: unknown): WebhookRequest => ({
  body: JSON.stringify(v),
  headers: { 'content-type': 'application/json' },
});

export function formatWebhook(format: WebhookFormat, r: RunReport): WebhookRequest {
  if (format === 'json') return json(r);
  const m = reportMessage(r);
  switch (format) {
    case 'slack':
      return json({ text: `*${m.title}*\n${m.text}` });
    case 'discord':
      return json({ content: `**${m.title}**\n${m.text}`.slice(0, 2000), allowed_mentions: { parse: [] } });
    case 'teams':
      // A Teams "Workflows" webhook takes an Adaptive Card in a message envelope.
      return json({
        type: 'message',
        attachments: [
          {
            contentType: 'application/vnd.microsoft.card.adaptive',
            content: {
              $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
              type: 'AdaptiveCard',
              version: '1.4',
              body: [
                {
                  type: 'TextBlock',
                  text: m.title,
                  weight: 'Bolder',
                  size: 'Medium',
                  wrap: true,
                  color: m.bad ? 'Attention' : 'Good',
                },
                { type: 'TextBlock', text: m.text, wrap: true },
              ],
            },
          },
        ],
      });
    case 'ntfy':
      // ntfy takes the message as the body and the rest as headers (a header value must be ASCII).
      return {
        body: m.text,
        headers: {
          'content-type': 'text/plain; charset=utf-8',
          title: m.title.replace(/[^\x20-\x7e]/g, '?'),
          priority: m.bad ? 'high' : 'default',
          tags: m.bad ? 'warning' : 'white_check_mark',
        },
      };
    case 'gotify':
      return json({ title: m.title, message: m.text, priority: m.bad ? 8 : 4 });
  }
}
