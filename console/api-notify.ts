import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { Config } from '../core/index.js';
import { recordAction, type ApiOptions } from './api-context.js';
import { ConsoleErrors } from './errors.js';
import { scopeOf } from './roles.js';

export interface NotifyDeps {
  /** `notify` as configured (secrets in it are never sent out). */
  config: Config['notify'];
  /** "Send test message"; throws SW_ERR_NOTIFY_SEND / SW_ERR_NOTIFY_UNKNOWN_CHANNEL. */
  sendTest(channelId: string, actor: string): Promise<{ latencyMs: number }>;
}

export interface NotifyApiOptions extends ApiOptions {
  notify: NotifyDeps;
}

/** Where a channel sends, without what would let someone else send there: no query (robot keys), no user info, no secrets. */
function publicChannel(channel: Config['notify']['channels'][number]) {
  const where = (url: unknown) => {
    if (typeof url !== 'string') return '（来自文件或环境变量 / from a file or variable）';
    try {
      const parsed = new URL(url);
      // Many webhooks carry their token in the path (Feishu /hook/<token>, Slack /services/…): long segments are masked.
      const path = parsed.pathname.split('/').map((segment) => (segment.length >= 16 ? '***' : segment)).join('/');
      return `${parsed.protocol}//${parsed.host}${path}`;
    } catch {
      return '—';
    }
  };
  const base = { id: channel.id, type: channel.type };
  switch (channel.type) {
    case 'email':
      return { ...base, target: `${channel.host}:${channel.port} (${channel.security})`, from: channel.from, to: channel.to, secretSet: channel.password !== undefined };
    case 'sms':
      return { ...base, target: where(channel.url), phones: channel.phones.length, secretSet: channel.secret !== undefined };
    case 'webhook': case 'dingtalk':
      return { ...base, target: where(channel.url), secretSet: channel.secret !== undefined };
    case 'wecom':
      return { ...base, target: where(channel.url), secretSet: true };
  }
}

/**
 * 通知: channels and routes for admins, and "send test message". Secrets are write-only: they live in the
 * config file (or the files and variables it names) and are never sent to the browser.
 */
export const notifyApi: FastifyPluginAsync<NotifyApiOptions> = async (app, { store, routes, notify }) => {
  routes.add(app, {
    method: 'GET', url: '/api/notify', tag: 'notify', access: 'users:admin',
    summary: '通知渠道与路由（不含密钥）/ notification channels and routes (no secrets)',
    handler: async ({ auth }) => {
      if (scopeOf(auth.user)) throw ConsoleErrors.forbidden('notify (an unscoped admin)');
      const { channels, routes: routeList, ...settings } = notify.config;
      return { channels: channels.map(publicChannel), routes: routeList, settings };
    },
  });

  routes.add(app, {
    method: 'POST', url: '/api/notify/channels/:id/test', tag: 'notify', access: 'users:admin',
    summary: '发送测试消息 / send a test message on a channel',
    params: z.strictObject({ id: z.string().min(1).max(100) }),
    handler: async ({ auth, params, request }) => {
      if (scopeOf(auth.user)) throw ConsoleErrors.forbidden('notify (an unscoped admin)');
      try {
        const { latencyMs } = await notify.sendTest(params.id, auth.user.username);
        await recordAction(store, request, 'notify.test', params.id, { outcome: 'delivered' });
        return { ok: true, latencyMs };
      } catch (error) {
        await recordAction(store, request, 'notify.test', params.id, { outcome: 'failed' });
        throw error;
      }
    },
  });
};
