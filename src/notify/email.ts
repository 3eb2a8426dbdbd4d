// Email notifier over SMTP (nodemailer). security: starttls = plain connect then STARTTLS, which
// is REQUIRED (a server that does not offer it is an error, never a silent plain-text fallback);
// tls = TLS from the first byte (port 465); none = no encryption at all (a relay on localhost).
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import type { Config } from '../config/schema.js';
import { BbackupError } from '../errors.js';
import { reportSubject, reportText, type RunReport } from './report.js';

export type EmailConfig = NonNullable<Config['notifications']['email']>;

export function transportOptions(cfg: EmailConfig, timeoutMs = 30_000): SMTPTransport.Options {
  return {
    host: cfg.smtp_host,
    port: cfg.smtp_port,
    secure: cfg.security === 'tls',
    requireTLS: cfg.security === 'starttls',
    ignoreTLS: cfg.security === 'none',
    tls: { rejectUnauthorized: cfg.tls_reject_unauthorized },
    auth: cfg.username ? { user: cfg.username, pass: cfg.password ?? '' } : undefined,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  };
}

export async function sendEmail(
  cfg: EmailConfig,
  report: RunReport,
): Promise<{ messageId: string; accepted: string[] }> {
  const { default: nodemailer } = await import('nodemailer'); // loaded on first use, not at start-up
  const transport = nodemailer.createTransport(transportOptions(cfg));
  try {
    const info = await transport.sendMail({
      from: cfg.from,
      to: cfg.to,
      subject: reportSubject(report),
      text: reportText(report),
      headers: { 'X-Bbackup-Event': report.event, 'X-Bbackup-Status': report.status },
    });
    const rejected = (info.rejected ?? []).map(String);
    if (rejected.length > 0 && (info.accepted ?? []).length === 0)
      throw new Error(`every recipient was rejected: ${rejected.join(', ')}`);
    return { messageId: info.messageId, accepted: (info.accepted ?? []).map(String) };
  } catch (err) {
    const e = err as Error & { code?: string; response?: string };
    const detail = e.response ?? e.message;
    throw new BbackupError(
      'REMOTE_IO',
      `email via ${cfg.smtp_host}:${cfg.smtp_port} (${cfg.security}) failed: ${e.code ? `${e.code}: ` : ''}${detail}`,
      { host: cfg.smtp_host },
      { cause: err },
    );
  } finally {
    transport.close();
  }
}
