import { NotifyErrors } from '../errors.js';

export interface PostResult { status: number; body: string }

/** POSTs JSON and fails on a non-2xx answer; the error names the channel, never its URL (it may carry a key). */
export async function postJson(channelId: string, url: string, body: string, headers: Record<string, string>, timeoutMs: number): Promise<PostResult> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST', body, headers: { 'content-type': 'application/json; charset=utf-8', ...headers }, signal: AbortSignal.timeout(timeoutMs), redirect: 'error',
    });
  } catch (error) {
    const cause = (error as Error & { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
    throw NotifyErrors.send(channelId, `request failed (${cause})`);
  }
  const text = (await response.text().catch(() => '')).slice(0, 2000);
  if (response.status < 200 || response.status > 299) throw NotifyErrors.send(channelId, `HTTP ${response.status}`);
  return { status: response.status, body: text };
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
