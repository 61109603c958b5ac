import { defineError } from '../../core/index.js';

export const NotifyErrors = {
  config: defineError('SW_ERR_NOTIFY_CONFIG', 500, (problem: string) =>
    `通知配置无效 / invalid notification settings: ${problem}`),
  send: defineError('SW_ERR_NOTIFY_SEND', 502, (channel: string, reason: string) =>
    `通知发送失败 ${channel} / notification to ${channel} failed: ${reason}`),
  testRate: defineError('SW_ERR_NOTIFY_TEST_RATE', 429, (seconds: number, channel: string) =>
    `${seconds} 秒后才能再向 ${channel} 发送测试消息 / try the test message on ${channel} again in ${seconds} s`),
  unknownChannel: defineError('SW_ERR_NOTIFY_UNKNOWN_CHANNEL', 404, (channel: string) =>
    `没有通知渠道 ${channel} / no notification channel ${channel}`),
};
