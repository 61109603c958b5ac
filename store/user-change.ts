import type { UserChange, UserRecord } from './ports.js';

/** Merges a change into a user; a key set to undefined (e.g. `lockedUntil`) is removed. Both adapters use it. */
export function applyUserChange(user: UserRecord, change: UserChange, now = new Date().toISOString()): UserRecord {
  const next: Record<string, unknown> = { ...user, updatedAt: now };
  for (const [key, value] of Object.entries(change)) {
    if (value === undefined) delete next[key];
    else next[key] = value;
  }
  return next as unknown as UserRecord;
}
