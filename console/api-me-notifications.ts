import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { emailAddress, phoneNumber, RULE_LEVELS } from '../core/index.js';
import type { NotificationPrefs } from '../store/index.js';
import { recordAction, type ApiOptions } from './api-context.js';
import { ConsoleErrors } from './errors.js';

const Prefs = z.strictObject({
  email: emailAddress.optional(),
  phone: phoneNumber.optional(),
  /** Alerts below this level are not sent to the user. */
  minLevel: z.enum(RULE_LEVELS).default('high'),
  /** Keeps the addresses, sends nothing. */
  optOut: z.boolean().default(false),
});

const DEFAULT_PREFS: NotificationPrefs = { minLevel: 'high', optOut: false };

/**
 * 我的通知偏好: each user sets where and from which level they are notified, for themselves only.
 * Routes with `toUsers` then add them, within their department scope (analyzers/notify/user-recipients.ts).
 */
export const meNotificationsApi: FastifyPluginAsync<ApiOptions> = async (app, { store, routes }) => {
  routes.add(app, {
    method: 'GET', url: '/api/me/notifications', tag: 'session', access: 'session',
    summary: '我的通知偏好 / my notification preferences', response: Prefs,
    handler: async ({ auth }) => (await store.users.get(auth.user.username))?.notifications ?? DEFAULT_PREFS,
  });

  routes.add(app, {
    method: 'PUT', url: '/api/me/notifications', tag: 'session', access: 'session',
    summary: '设置我的通知偏好（邮箱、手机、最低级别、退订）/ set my notification preferences (email, phone, minimum level, opt-out)',
    body: Prefs, response: Prefs,
    handler: async ({ auth, body, request }) => {
      const prefs: NotificationPrefs = {
        ...(body.email ? { email: body.email } : {}), ...(body.phone ? { phone: body.phone } : {}), minLevel: body.minLevel, optOut: body.optOut,
      };
      const updated = await store.users.update(auth.user.username, { notifications: prefs });
      if (!updated) throw ConsoleErrors.userNotFound(auth.user.username);
      // The trail says what changed, not the addresses themselves.
      await recordAction(store, request, 'user.notifications', auth.user.username, {
        email: prefs.email !== undefined, phone: prefs.phone !== undefined, minLevel: prefs.minLevel, optOut: prefs.optOut,
      });
      return prefs;
    },
  });
};
