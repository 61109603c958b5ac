import type { ResolvedChannel } from '../secrets.js';
import { buildMessage } from '../message.js';
import type { Dispatch } from '../types.js';
import { sendDingtalk } from './dingtalk.js';
import { sendEmail } from './email.js';
import { sendSms } from './sms.js';
import { sendWebhook } from './webhook.js';
import { sendWecom } from './wecom.js';

export interface SendOptions { consoleUrl?: string | undefined; timeoutMs: number; now?: () => number }

/** Sends one dispatch on its channel; throws SW_ERR_NOTIFY_SEND when the channel refuses or does not answer. */
export async function sendDispatch(channel: ResolvedChannel, dispatch: Dispatch, options: SendOptions): Promise<void> {
  const message = buildMessage(dispatch, options.consoleUrl);
  const now = (options.now ?? Date.now)();
  switch (channel.type) {
    case 'email': return sendEmail(channel, dispatch, message, options.timeoutMs);
    case 'webhook': return sendWebhook(channel, dispatch, message, options.timeoutMs, now);
    case 'wecom': return sendWecom(channel, message, options.timeoutMs);
    case 'dingtalk': return sendDingtalk(channel, message, options.timeoutMs, now);
    case 'sms': return sendSms(channel, message, options.timeoutMs, now, dispatch.recipients?.phones);
  }
}
