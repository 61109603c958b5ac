import { createHmac } from 'node:crypto';
import type { NotifyMessage } from '../message.js';
import { truncateBytes } from '../message.js';
import { checkRobotReply, postJson } from './http-post.js';

/*
 * 钉钉自定义机器人 (DingTalk custom robot).
 * Signing, "自定义机器人安全设置 · 加签" https://open.dingtalk.com/document/robots/customize-robot-security-settings :
 * string to sign = timestamp (ms) + "\n" + secret; HmacSHA256 keyed by the secret; Base64; then URL-encoded;
 * appended to the webhook URL as `&timestamp=…&sign=…` (the timestamp within one hour of DingTalk's clock).
 * Messages, "自定义机器人发送群消息" https://open.dingtalk.com/document/orgapp/custom-robot-access :
 * `{"msgtype":"text","text":{"content":…}}` or `{"msgtype":"markdown","markdown":{"title":…,"text":…}}`;
 * the reply is `{"errcode":0,"errmsg":"ok"}`.
 */
export function dingtalkSign(secret: string, timestamp: number): string {
  return createHmac('sha256', secret).update(`${timestamp}\n${secret}`, 'utf8').digest('base64');
}

export function dingtalkUrl(url: string, secret: string | undefined, timestamp: number): string {
  if (!secret) return url;
  const signed = new URL(url);
  signed.searchParams.set('timestamp', String(timestamp));
  signed.searchParams.set('sign', dingtalkSign(secret, timestamp)); // URLSearchParams does the URL-encoding
  return signed.toString();
}

// DingTalk documents no byte limit for robots; 20,000 bytes keeps a digest well inside what it accepts.
const DINGTALK_MAX_BYTES = 20_000;

export function dingtalkPayload(msgtype: 'markdown' | 'text', message: NotifyMessage): unknown {
  return msgtype === 'markdown'
    ? { msgtype: 'markdown', markdown: { title: message.subject.slice(0, 100), text: truncateBytes(message.markdown, DINGTALK_MAX_BYTES) } }
    : { msgtype: 'text', text: { content: truncateBytes(message.text, DINGTALK_MAX_BYTES) } };
}

export async function sendDingtalk(
  channel: { id: string; url: string; secret?: string | undefined; msgtype: 'markdown' | 'text' }, message: NotifyMessage, timeoutMs: number, now: number,
): Promise<void> {
  const url = dingtalkUrl(channel.url, channel.secret, now);
  checkRobotReply(channel.id, await postJson(channel.id, url, JSON.stringify(dingtalkPayload(channel.msgtype, message)), {}, timeoutMs));
}
