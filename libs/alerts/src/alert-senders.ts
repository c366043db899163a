import { createHmac } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { createTransport } from 'nodemailer';
import type { AlertMessage } from './alert-message';

export type WebhookFormat = 'json' | 'slack' | 'discord' | 'ntfy';
export const WEBHOOK_FORMATS: WebhookFormat[] = ['json', 'slack', 'discord', 'ntfy'];

export interface EmailTarget {
  /** smtp://user:pass@host:587 (STARTTLS when offered; ?requireTLS=true demands it) or smtps://…:465. */
  smtpUrl: string;
  from: string;
  to: string[];
}

export interface WebhookTarget {
  url: string;
  secret: string;
  format: WebhookFormat;
}

export const SIGNATURE_HEADER = 'X-StudioVault-Signature';
export const TIMESTAMP_HEADER = 'X-StudioVault-Timestamp';

/** HMAC-SHA256 of the raw body with the channel's secret, as sent in X-StudioVault-Signature. */
export function signBody(secret: string, body: string | Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

const TIMEOUT_MS = 15_000;

/** The body of a webhook in the channel's format: StudioVault JSON (with `text` and `content` for chat receivers), or a chat tool's own. */
export function webhookBody(
  format: WebhookFormat,
  m: AlertMessage,
): { body: string; contentType: string; headers: Record<string, string> } {
  const chat = `${m.summary.replace('[StudioVault] ', '')}\n${m.text}`;
  switch (format) {
    case 'slack':
      return { body: JSON.stringify({ text: chat }), contentType: 'application/json', headers: {} };
    case 'discord':
      return { body: JSON.stringify({ content: chat.slice(0, 2000) }), contentType: 'application/json', headers: {} };
    case 'ntfy':
      return {
        body: m.text,
        contentType: 'text/plain; charset=utf-8',
        headers: {
          Title: m.summary.replace('[StudioVault] ', '').replace(/[^\x20-\x7e]/g, '?'),
          Priority: m.severity === 'critical' ? 'high' : 'default',
          ...(m.link ? { Click: m.link } : {}),
        },
      };
    case 'json':
      return { body: JSON.stringify({ ...m, content: chat.slice(0, 2000) }), contentType: 'application/json', headers: {} };
  }
}

/** The technology of delivery: SMTP through nodemailer, webhooks through fetch. Secrets never appear in the errors thrown. */
@Injectable()
export class AlertSenders {
  async email(t: EmailTarget, m: AlertMessage): Promise<void> {
    const transport = createTransport(t.smtpUrl, {
      connectionTimeout: TIMEOUT_MS,
      greetingTimeout: TIMEOUT_MS,
      socketTimeout: TIMEOUT_MS,
    });
    try {
      await transport.sendMail({ from: t.from, to: t.to, subject: m.summary, text: m.text });
    } catch (err) {
      // The cause is left off on purpose: an SMTP error object may carry the connection options (the password).
      // eslint-disable-next-line preserve-caught-error
      throw new Error(scrub(`SMTP: ${(err as Error).message}`, secretsOfUrl(t.smtpUrl)));
    } finally {
      transport.close();
    }
  }

  async webhook(t: WebhookTarget, m: AlertMessage): Promise<void> {
    const { body, contentType, headers } = webhookBody(t.format, m);
    const timestamp = Math.floor(Date.now() / 1000).toString();
    let res: Response;
    try {
      res = await fetch(t.url, {
        method: 'POST',
        redirect: 'error',
        signal: AbortSignal.timeout(TIMEOUT_MS),
        headers: {
          'Content-Type': contentType,
          'User-Agent': 'StudioVault-Alerts',
          'X-StudioVault-Event': m.event,
          [TIMESTAMP_HEADER]: timestamp,
          [SIGNATURE_HEADER]: signBody(t.secret, body),
          ...headers,
        },
        body,
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      // The cause is left off on purpose: it may name the full URL, whose path can hold the receiver's token.
      // eslint-disable-next-line preserve-caught-error
      throw new Error(`webhook to ${hostOf(t.url)}: ${cause?.code ?? cause?.message ?? (err as Error).message}`);
    }
    if (!res.ok) {
      const text = (await res.text().catch(() => '')).slice(0, 200);
      throw new Error(`webhook to ${hostOf(t.url)}: HTTP ${res.status}${text ? ` ${text}` : ''}`);
    }
    await res.arrayBuffer().catch(() => undefined);
  }
}

/** Scheme, host and port of a URL: what may be shown of a webhook address (its path may hold a token). */
export function hostOf(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}`;
  } catch {
    return '(invalid URL)';
  }
}

function secretsOfUrl(url: string): string[] {
  try {
    const u = new URL(url);
    return [u.password, decodeURIComponent(u.password)].filter((s) => s.length >= 3);
  } catch {
    return [];
  }
}

function scrub(text: string, secrets: string[]): string {
  return secrets.reduce((t, s) => t.split(s).join('**redacted**'), text);
}
