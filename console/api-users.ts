import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { Store, UserChange, UserRecord } from '../store/index.js';
import { publicUser, recordAction, type ApiOptions } from './api-context.js';
import { ConsoleErrors } from './errors.js';
import { hashPassword } from './password.js';
import { ROLES, scopeOf } from './roles.js';

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

type Actor = Pick<UserRecord, 'username' | 'role' | 'departments'>;

/**
 * Whether `actor` may manage `target` at all. Unscoped admins manage everyone; a scoped admin only
 * non-admin accounts whose departments all lie inside its own (others read as absent, 404).
 */
function manages(actor: Actor, target: Pick<UserRecord, 'role' | 'departments'>): boolean {
  if (!scopeOf(actor)) return true;
  return target.role !== 'admin' && target.departments.length > 0 && target.departments.every((d) => actor.departments.includes(d));
}

/** A scoped admin grants no admin role, no department beyond its own and no unscoped account. */
function checkGrant(actor: Actor, role: string, departments: readonly string[]): void {
  if (!scopeOf(actor)) return;
  if (role === 'admin') throw ConsoleErrors.userForbidden('只有不限部门的管理员能管理管理员 / only an unscoped admin manages admins');
  const beyond = departments.filter((d) => !actor.departments.includes(d));
  if (departments.length === 0 || beyond.length) {
    throw ConsoleErrors.userForbidden(`只能授予自己的部门 / you may grant only your own departments${beyond.length ? `: ${beyond.join(', ')}` : ' (an unscoped account needs an unscoped admin)'}`);
  }
}

/** Admins manage accounts; each change lands in the audit trail, never with a password in it. */
export const usersApi: FastifyPluginAsync<ApiOptions> = async (app, { store, routes, sessions }) => {
  routes.add(app, {
    method: 'GET', url: '/api/users', tag: 'users', access: 'users:admin', summary: '用户列表 / list users',
    // A scoped admin sees itself and the accounts it manages, never another department's.
    handler: async ({ auth }) => ({
      items: (await store.users.list()).filter((u) => u.username === auth.user.username || manages(auth.user, u)).map(publicUser),
    }),
  });

  routes.add(app, {
    method: 'POST', url: '/api/users', tag: 'users', access: 'users:admin', summary: '创建用户 / create a user', status: 201,
    body: z.strictObject({
      username: Username, displayName: z.string().min(1).max(100), role: z.enum(ROLES), departments: Departments.default([]), password: Password,
    }),
    handler: async ({ body, auth, request }) => {
      checkGrant(auth.user, body.role, body.departments);
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
      /** Needed to change one's own password: a session left open is not enough. */
      currentPassword: z.string().min(1).max(1024).optional(),
    }).refine((b) => Object.keys(b).length > 0, '至少修改一项 / change at least one thing'),
    handler: async ({ params, body, auth, request }) => {
      const user = await store.users.get(params.username);
      const self = user?.username === auth.user.username;
      if (!user || (!self && !manages(auth.user, user))) throw ConsoleErrors.userNotFound(params.username);
      // Nobody lifts their own scope or role, nor re-enables or unlocks themselves: that takes another admin.
      if (self && (body.role !== undefined || body.departments !== undefined || body.disabled !== undefined || body.unlock)) {
        throw ConsoleErrors.userInvalid('不能修改自己的角色、部门或停用状态 / you cannot change your own role, departments or disabled flag');
      }
      // Changing your own password takes the current one (a borrowed or stolen session is not enough).
      // A wrong one is 400 like every invalid change (not 401: the session itself is fine), and counts
      // towards this address's login lock, so it cannot be guessed here instead of at login.
      if (self && body.password !== undefined) {
        if (body.currentPassword === undefined) {
          throw ConsoleErrors.userInvalid('修改自己的密码需要当前密码（currentPassword）/ changing your own password needs currentPassword');
        }
        if (!(await sessions.checkOwnPassword(user, body.currentPassword, request.ip))) {
          throw ConsoleErrors.userInvalid('当前密码错误 / currentPassword is wrong');
        }
      }
      const role = body.role ?? user.role;
      const departments = body.departments ?? user.departments;
      if (body.role !== undefined || body.departments !== undefined) {
        checkGrant(auth.user, role, departments);
        await checkScope(store, role, departments);
      }
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
      if (body.password !== undefined || body.unlock) sessions.unlock(params.username);
      const { password, currentPassword: _current, ...shown } = body;
      await recordAction(store, request, 'user.update', params.username, { ...shown, ...(password !== undefined ? { passwordReset: true } : {}) });
      return publicUser(updated);
    },
  });

  routes.add(app, {
    method: 'DELETE', url: '/api/users/:username', tag: 'users', access: 'users:admin', summary: '删除用户 / delete a user', status: 204,
    params: UsernameParams,
    handler: async ({ params, auth, request }) => {
      if (params.username === auth.user.username) throw ConsoleErrors.userInvalid('不能删除自己 / you cannot delete yourself');
      const user = await store.users.get(params.username);
      if (!user || !manages(auth.user, user)) throw ConsoleErrors.userNotFound(params.username);
      if (!(await store.users.delete(params.username))) throw ConsoleErrors.userNotFound(params.username);
      await sessions.logoutEverywhere(params.username);
      await recordAction(store, request, 'user.delete', params.username);
      return undefined;
    },
  });
};
