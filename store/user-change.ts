import type { UserRecord, UserUpdate } from './ports.js';

/** Merges a change into a user; a key set to undefined (e.g. `lockedUntil`) is removed. Both adapters use it. */
export function applyUserChange(user: UserRecord, update: UserUpdate, now = new Date().toISOString()): UserRecord {
  const change = typeof update === 'function' ? update(user) : update;
  const next: Record<string, unknown> = { ...user, updatedAt: now };
  for (const [key, value] of Object.entries(change)) {
    if (value === undefined) delete next[key];
    else next[key] = value;
  }
  return next as unknown as UserRecord;
}
