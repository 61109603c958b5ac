import { createHmac } from 'node:crypto';
import type { Dispatch } from '../types.js';
import type { NotifyMessage } from '../message.js';
import { postJson } from './http-post.js';

export const SIGNATURE_HEADER = 'x-shouwang-signature';
export const TIMESTAMP_HEADER = 'x-shouwang-timestamp';
export const IDEMPOTENCY_HEADER = 'idempotency-key';

/** `sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`: the timestamp is signed too, so an old request cannot be replayed as new. */
export function webhookSignature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export function webhookBody(dispatch: Dispatch, message: NotifyMessage): string {
  return JSON.stringify({
    key: dispatch.key, kind: dispatch.kind, step: dispatch.step, route: dispatch.routeId, count: dispatch.count,
    subject: message.subject, text: message.text, alerts: dispatch.alerts,
  });
}

export async function sendWebhook(
  channel: { id: string; url: string; secret?: string | undefined }, dispatch: Dispatch, message: NotifyMessage, timeoutMs: number, now: number,
): Promise<void> {
  const body = webhookBody(dispatch, message);
  const timestamp = String(Math.floor(now / 1000));
  const headers: Record<string, string> = { [IDEMPOTENCY_HEADER]: dispatch.key, [TIMESTAMP_HEADER]: timestamp };
  if (channel.secret) headers[SIGNATURE_HEADER] = webhookSignature(channel.secret, timestamp, body);
  await postJson(channel.id, channel.url, body, headers, timeoutMs);
}
