import type { FastifyRequest } from 'fastify';
import { auditDepartments, type ChainedAuditEntry } from '../core/index.js';
import { StoreErrors, type Store, type UserRecord } from '../store/index.js';
import { ROLE_PERMISSIONS, isRole } from './roles.js';
import type { RouteRegistry } from './routes.js';
import type { SessionManager } from './sessions.js';

/** What each API plugin receives. */
export interface ApiOptions {
  store: Store;
  routes: RouteRegistry;
  sessions: SessionManager;
  /** `timeZone`: what a date without an offset in the search box means. */
  timeZone?: string;
}

/**
 * What an action was done to: an id, or an id with the departments of the object (an alert's, a
 * system's, an export's selection). A bare id is city-wide: shown to unscoped users only; so is an
 * entry whose departments include undefined (an object that has none).
 */
export type AuditObject = string | { id?: string; departments: readonly (string | undefined)[] };

/** Appends one state-changing action to the hash-chained console audit trail: who, what, when, from where, whose. */
export function recordAction(
  store: Store,
  request: FastifyRequest,
  action: string,
  object?: AuditObject,
  detail?: Record<string, unknown>,
  actor = request.auth?.user.username ?? 'anonymous',
): Promise<ChainedAuditEntry> {
  const target = typeof object === 'string' ? object : object?.id;
  // One object without a department (an alert of an unknown asset) makes the entry city-wide: filed under the
  // other objects' departments, their scoped reviewers would read its id and the change made to it.
  const departments = typeof object === 'object' && object.departments.every((d) => d !== undefined && d !== '')
    ? auditDepartments(object.departments) : undefined;
  return store.audit.append({
    at: new Date().toISOString(), actor, action, ip: request.ip,
    ...(target !== undefined ? { target } : {}),
    ...(departments ? { departments } : {}),
    ...(detail !== undefined ? { detail } : {}),
  });
}

/** The filters a request actually set: an absent or empty parameter leaves the store's filter off. */
export function setFilters<T extends Record<string, unknown>>(filters: T): T {
  return Object.fromEntries(Object.entries(filters).filter(([, value]) => value !== undefined && value !== '')) as T;
}

/** A user as the API shows it: never the password hash. */
export function publicUser(user: UserRecord) {
  return {
    username: user.username,
    displayName: user.displayName,
    role: user.role,
    departments: user.departments,
    disabled: user.disabled,
    ...(user.lockedUntil && Date.parse(user.lockedUntil) > Date.now() ? { lockedUntil: user.lockedUntil } : {}),
    createdAt: user.createdAt,
    updatedAt: user.updatedAt,
    permissions: isRole(user.role) ? [...ROLE_PERMISSIONS[user.role]] : [],
  };
}

/** What a read found, or 404 naming it: out of the caller's scope reads as absent, as everywhere else. */
export function found<T>(value: T | undefined, what: string, id: string): T {
  if (value === undefined) throw StoreErrors.notFound(what, id);
  return value;
}
