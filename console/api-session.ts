import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { recordAction, publicUser, type ApiOptions } from './api-context.js';
import { UNKNOWN_USER, unknownUserLabel } from './login-fingerprint.js';
import { DEFAULT_TIME_ZONE, ShouwangError } from '../core/index.js';

const UserView = z.object({
  username: z.string(), displayName: z.string(), role: z.string(), departments: z.array(z.string()), disabled: z.boolean(),
  permissions: z.array(z.string()), lockedUntil: z.string().optional(), createdAt: z.string(), updatedAt: z.string(),
});
/** `timeZone`: the browser shows every time and reads every date it is given in this zone, whatever its own. */
const SessionView = z.object({ user: UserView, csrfToken: z.string(), expiresAt: z.string(), timeZone: z.string() });

/** Login, logout, logout everywhere, who am I, and the API document. */
export const sessionApi: FastifyPluginAsync<ApiOptions & { timeZone?: string; fingerprintKey: Buffer }> = async (
  app, { store, routes, sessions, timeZone = DEFAULT_TIME_ZONE, fingerprintKey },
) => {
  routes.add(app, {
    method: 'POST', url: '/api/session', tag: 'session', access: 'public',
    summary: '登录 / log in: sets the sw_session cookie and returns the CSRF token',
    body: z.strictObject({ username: z.string().min(1).max(64), password: z.string().min(1).max(1024) }),
    response: SessionView,
    handler: async ({ body, request, reply }) => {
      try {
        const { id, session, user } = await sessions.login(body.username, body.password, request.ip);
        sessions.setCookie(reply, id);
        await recordAction(store, request, 'session.login', body.username, undefined, body.username);
        return { user: publicUser(user), csrfToken: session.csrfToken, expiresAt: session.expiresAt, timeZone };
      } catch (error) {
        if (error instanceof ShouwangError && error.statusCode === 401) {
          // A name no user has may be a password typed in the wrong field: only a keyed fingerprint of it is kept.
          const known = (await store.users.get(body.username)) !== undefined;
          const who = known ? body.username : unknownUserLabel(fingerprintKey, body.username);
          await recordAction(store, request, 'session.login_failed', who, undefined, known ? body.username : UNKNOWN_USER);
        }
        throw error;
      }
    },
  });

  routes.add(app, {
    method: 'GET', url: '/api/session', tag: 'session', access: 'session',
    summary: '当前会话 / the current session and its CSRF token', response: SessionView,
    handler: async ({ auth }) => ({ user: publicUser(auth.user), csrfToken: auth.session.csrfToken, expiresAt: auth.session.expiresAt, timeZone }),
  });

  routes.add(app, {
    method: 'DELETE', url: '/api/session', tag: 'session', access: 'session', summary: '退出登录 / log out', status: 204,
    handler: async ({ auth, request, reply }) => {
      await sessions.logout(auth);
      sessions.clearCookie(reply);
      await recordAction(store, request, 'session.logout', auth.user.username);
      return undefined;
    },
  });

  routes.add(app, {
    method: 'POST', url: '/api/session/logout-all', tag: 'session', access: 'session',
    summary: '在所有设备上退出 / log out everywhere', status: 204,
    handler: async ({ auth, request, reply }) => {
      await sessions.logoutEverywhere(auth.user.username);
      sessions.clearCookie(reply);
      await recordAction(store, request, 'session.logout_all', auth.user.username);
      return undefined;
    },
  });

  routes.add(app, {
    method: 'GET', url: '/api/me', tag: 'session', access: 'session', summary: '我的账户与权限 / my account and permissions',
    response: UserView, handler: async ({ auth }) => publicUser(auth.user),
  });

  routes.add(app, {
    method: 'GET', url: '/api/docs', tag: 'session', access: 'session', summary: 'OpenAPI 文档 / this API as OpenAPI 3.1',
    handler: async () => routes.openApi(),
  });
};
