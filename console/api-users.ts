import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { Store, UserChange, UserRecord } from '../store/index.js';
import { publicUser, recordAction, type ApiOptions } from './api-context.js';
import { ConsoleErrors } from './errors.js';
import { hashPassword } from './password.js';
import { ROLES } from './roles.js';

const Username = z.string().regex(/^[a-z0-9][a-z0-9._-]{1,63}$/, '2–64 个小写字母、数字或 . _ - / 2–64 lower-case letters, digits or . _ -');
const Password = z.string().min(12, '至少 12 个字符 / at least 12 characters').max(256);
const Departments = z.array(z.string().min(1).max(100)).max(200);
const UsernameParams = z.strictObject({ username: z.string().max(64) });

/** Department viewers need a department, and every department named must exist in the inventory. */
async function checkScope(store: Store, role: string, departments: readonly string[]): Promise<void> {
  if (role === 'department_viewer' && departments.length === 0) {
    throw ConsoleErrors.userInvalid('部门查看者至少需要一个部门 / a department_viewer needs at least one department');
  }
  if (departments.length === 0) return;
  const known = new Set((await store.assets.getInventory()).departments.map((d) => d.id));
  const unknown = departments.filter((d) => !known.has(d));
  if (unknown.length) throw ConsoleErrors.userInvalid(`未知部门 / unknown departments: ${unknown.join(', ')}`);
}

/** Admins manage accounts; each change lands in the audit trail, never with a password in it. */
export const usersApi: FastifyPluginAsync<ApiOptions> = async (app, { store, routes, sessions }) => {
  routes.add(app, {
    method: 'GET', url: '/api/users', tag: 'users', access: 'users:admin', summary: '用户列表 / list users',
    handler: async () => ({ items: (await store.users.list()).map(publicUser) }),
  });

  routes.add(app, {
    method: 'POST', url: '/api/users', tag: 'users', access: 'users:admin', summary: '创建用户 / create a user', status: 201,
    body: z.strictObject({
      username: Username, displayName: z.string().min(1).max(100), role: z.enum(ROLES), departments: Departments.default([]), password: Password,
    }),
    handler: async ({ body, request }) => {
      await checkScope(store, body.role, body.departments);
      const now = new Date().toISOString();
      const user: UserRecord = {
        username: body.username, displayName: body.displayName, role: body.role, departments: body.departments,
        passwordHash: await hashPassword(body.password), disabled: false, failedLogins: 0, sessionEpoch: 0, createdAt: now, updatedAt: now,
      };
      if (!(await store.users.create(user))) throw ConsoleErrors.userExists(body.username);
      await recordAction(store, request, 'user.create', body.username, { role: body.role, departments: body.departments });
      return publicUser(user);
    },
  });

  routes.add(app, {
    method: 'PATCH', url: '/api/users/:username', tag: 'users', access: 'users:admin',
    summary: '修改用户：角色、部门、停用、重置密码、解锁 / change role, departments, disabled, reset password, unlock',
    params: UsernameParams,
    body: z.strictObject({
      displayName: z.string().min(1).max(100).optional(), role: z.enum(ROLES).optional(), departments: Departments.optional(),
      disabled: z.boolean().optional(), password: Password.optional(), unlock: z.literal(true).optional(),
    }).refine((b) => Object.keys(b).length > 0, '至少修改一项 / change at least one thing'),
    handler: async ({ params, body, auth, request }) => {
      const user = await store.users.get(params.username);
      if (!user) throw ConsoleErrors.userNotFound(params.username);
      if (user.username === auth.user.username && (body.role !== undefined || body.disabled)) {
        throw ConsoleErrors.userInvalid('不能修改自己的角色或停用自己 / you cannot change your own role or disable yourself');
      }
      const role = body.role ?? user.role;
      const departments = body.departments ?? user.departments;
      if (body.role !== undefined || body.departments !== undefined) await checkScope(store, role, departments);
      const change: UserChange = {
        ...(body.displayName !== undefined ? { displayName: body.displayName } : {}),
        ...(body.role !== undefined ? { role } : {}),
        ...(body.departments !== undefined ? { departments } : {}),
        ...(body.disabled !== undefined ? { disabled: body.disabled } : {}),
        ...(body.password !== undefined || body.unlock ? { failedLogins: 0, lockedUntil: undefined } : {}),
        ...(body.password !== undefined ? { passwordHash: await hashPassword(body.password) } : {}),
        // A new password or a disabled account ends the user's sessions everywhere.
        ...(body.password !== undefined || body.disabled ? { sessionEpoch: user.sessionEpoch + 1 } : {}),
      };
      const updated = await store.users.update(params.username, change);
      if (!updated) throw ConsoleErrors.userNotFound(params.username);
      if (body.password !== undefined || body.disabled) await store.sessions.deleteForUser(params.username);
      const { password, ...shown } = body;
      await recordAction(store, request, 'user.update', params.username, { ...shown, ...(password !== undefined ? { passwordReset: true } : {}) });
      return publicUser(updated);
    },
  });

  routes.add(app, {
    method: 'DELETE', url: '/api/users/:username', tag: 'users', access: 'users:admin', summary: '删除用户 / delete a user', status: 204,
    params: UsernameParams,
    handler: async ({ params, auth, request }) => {
      if (params.username === auth.user.username) throw ConsoleErrors.userInvalid('不能删除自己 / you cannot delete yourself');
      if (!(await store.users.delete(params.username))) throw ConsoleErrors.userNotFound(params.username);
      await sessions.logoutEverywhere(params.username);
      await recordAction(store, request, 'user.delete', params.username);
      return undefined;
    },
  });
};
