import type { NotifyMessage } from '../message.js';
import { NotifyErrors } from '../errors.js';
import { postJson } from './http-post.js';
import { webhookSignature, SIGNATURE_HEADER, TIMESTAMP_HEADER } from './webhook.js';

/**
 * Fills an SMS gateway's JSON template: `{{text}}` the one-line message, `{{phones}}` the list, `{{phone}}` the
 * first number; each is inserted as a JSON value, so a quote in an alert title cannot break the body.
 */
export function fillSmsTemplate(template: string, message: NotifyMessage, phones: readonly string[], channelId: string): string {
  const values: Record<string, unknown> = { text: message.short.slice(0, 300), phones, phone: phones[0] ?? '' };
  const body = template.replace(/\{\{(text|phones|phone)\}\}/g, (_, name: string) => JSON.stringify(values[name]));
  try {
    JSON.parse(body);
  } catch {
    throw NotifyErrors.config(`notify.channels.${channelId}.template does not give JSON once filled`);
  }
  return body;
}

export async function sendSms(
  channel: { id: string; url: string; phones: string[]; template: string; secret?: string | undefined }, message: NotifyMessage, timeoutMs: number, now: number,
  extraPhones: readonly string[] = [],
): Promise<void> {
  const body = fillSmsTemplate(channel.template, message, [...new Set([...channel.phones, ...extraPhones])], channel.id);
  const timestamp = String(Math.floor(now / 1000));
  const headers: Record<string, string> = channel.secret ? { [TIMESTAMP_HEADER]: timestamp, [SIGNATURE_HEADER]: webhookSignature(channel.secret, timestamp, body) } : {};
  await postJson(channel.id, channel.url, body, headers, timeoutMs);
}
