import type { Scope, UserRecord } from '../store/index.js';

export const ROLES = ['admin', 'security_officer', 'ops', 'compliance_reviewer', 'department_viewer'] as const;
export type Role = (typeof ROLES)[number];

export const PERMISSIONS = [
  'alerts:read', 'alerts:triage', 'events:read', 'inventory:read', 'inventory:write', 'backup:read', 'backup:run',
  'rules:read', 'rules:write', 'users:admin', 'audit:read', 'evidence:export',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

const READ: Permission[] = ['alerts:read', 'events:read', 'inventory:read', 'backup:read'];

/** What each role may do; department scope narrows the data, never the actions. */
export const ROLE_PERMISSIONS: Record<Role, readonly Permission[]> = {
  admin: PERMISSIONS,
  security_officer: [...READ, 'alerts:triage', 'rules:read', 'rules:write', 'evidence:export'],
  ops: [...READ, 'backup:run', 'rules:read'],
  compliance_reviewer: [...READ, 'rules:read', 'audit:read', 'evidence:export'],
  department_viewer: READ,
};

export const isRole = (role: string): role is Role => (ROLES as readonly string[]).includes(role);

export function can(role: string, permission: Permission): boolean {
  return isRole(role) && ROLE_PERMISSIONS[role].includes(permission);
}

/** The scope handed to every store query: a department viewer sees only its departments; others all unless narrowed. */
export function scopeOf(user: Pick<UserRecord, 'role' | 'departments'>): Scope | undefined {
  if (user.role === 'department_viewer' || user.departments.length > 0) return { departments: [...user.departments] };
  return undefined;
}
