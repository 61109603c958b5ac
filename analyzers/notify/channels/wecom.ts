import type { NotifyMessage } from '../message.js';
import { truncateBytes } from '../message.js';
import { checkRobotReply, postJson } from './http-post.js';

/*
 * 企业微信群机器人 (WeCom group robot), "群机器人配置说明"
 * https://developer.work.weixin.qq.com/document/path/91770 :
 * POST the webhook URL (…/cgi-bin/webhook/send?key=…) with `{"msgtype":"markdown","markdown":{"content":…}}`
 * (content at most 4096 bytes, UTF-8) or `{"msgtype":"text","text":{"content":…}}` (at most 2048 bytes);
 * the reply is `{"errcode":0,"errmsg":"ok"}`.
 */
export const WECOM_MARKDOWN_MAX_BYTES = 4096;
export const WECOM_TEXT_MAX_BYTES = 2048;

export function wecomPayload(msgtype: 'markdown' | 'text', message: NotifyMessage): unknown {
  return msgtype === 'markdown'
    ? { msgtype: 'markdown', markdown: { content: truncateBytes(message.markdown, WECOM_MARKDOWN_MAX_BYTES) } }
    : { msgtype: 'text', text: { content: truncateBytes(message.text, WECOM_TEXT_MAX_BYTES) } };
}

export async function sendWecom(channel: { id: string; url: string; msgtype: 'markdown' | 'text' }, message: NotifyMessage, timeoutMs: number): Promise<void> {
  checkRobotReply(channel.id, await postJson(channel.id, channel.url, JSON.stringify(wecomPayload(channel.msgtype, message)), {}, timeoutMs));
}
