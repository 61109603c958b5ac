import { Agent, fetch, type Dispatcher, type Response } from 'undici';
import { NotifyErrors } from '../errors.js';
import { guardedLookup, REFUSED_ADDRESS, REFUSED_CODE } from '../targets.js';

export interface PostResult { status: number; body: string }

/** Connections whose host name resolves to a refused address fail (targets.ts, guardedLookup). */
export function guardedAgent(...args: Parameters<typeof guardedLookup>): Agent {
  return new Agent({ connect: { lookup: guardedLookup(...args) } });
}

const AGENT = guardedAgent();

/** POSTs JSON and fails on a non-2xx answer; the error names the channel, never its URL (it may carry a key). */
export async function postJson(
  channelId: string, url: string, body: string, headers: Record<string, string>, timeoutMs: number, dispatcher: Dispatcher = AGENT,
): Promise<PostResult> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST', body, headers: { 'content-type': 'application/json; charset=utf-8', ...headers }, signal: AbortSignal.timeout(timeoutMs), redirect: 'error',
      dispatcher,
    });
  } catch (error) {
    throw NotifyErrors.send(channelId, `request failed (${failureReason(error as Error)})`);
  }
  const text = (await readCapped(response, REPLY_MAX_BYTES).catch(() => '')).slice(0, 2000);
  if (response.status < 200 || response.status > 299) throw NotifyErrors.send(channelId, `HTTP ${response.status}`);
  return { status: response.status, body: text };
}

/** A robot's reply is a few dozen bytes; more is read no further (an endless answer must not fill memory). */
export const REPLY_MAX_BYTES = 64 * 1024;

/** The answer's first `maxBytes` as text; the rest is not read and the connection is dropped. */
async function readCapped(response: Response, maxBytes: number): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < maxBytes) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    if (size >= maxBytes) await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).subarray(0, maxBytes).toString('utf8');
}

/** The robots answer HTTP 200 with `{ errcode, errmsg }`; anything but errcode 0 is a failure. */
export function checkRobotReply(channelId: string, reply: PostResult): void {
  let parsed: { errcode?: unknown; errmsg?: unknown };
  try {
    parsed = JSON.parse(reply.body) as typeof parsed;
  } catch {
    throw NotifyErrors.send(channelId, 'reply is not JSON');
  }
  if (parsed.errcode !== 0) throw NotifyErrors.send(channelId, `errcode ${String(parsed.errcode)}: ${String(parsed.errmsg ?? '').slice(0, 200)}`);
}

/**
 * Why fetch failed, for the attempt record: the socket's code (ECONNREFUSED, ENOTFOUND), else undici's own
 * reason ("unexpected redirect"), else the error's name (TimeoutError). A reason that quotes a URL is left
 * out: the URL may carry a key.
 */
export function failureReason(error: Error): string {
  const cause = (error as Error & { cause?: { code?: unknown; message?: unknown } }).cause;
  if (cause?.code === REFUSED_CODE) return REFUSED_ADDRESS;
  if (typeof cause?.code === 'string') return cause.code;
  const message = typeof cause?.message === 'string' ? cause.message : '';
  if (message && !message.includes('://')) return message.slice(0, 120);
  return error.name;
}
