import type { Alert } from '../../core/index.js';
import type { UserRecord } from '../../store/index.js';
import { levelRank } from './routing.js';
import type { Recipients } from './types.js';

/** What routing needs of a user: scope, state and preferences (no password hash travels further). */
export type Subscriber = Pick<UserRecord, 'username' | 'departments' | 'disabled' | 'notifications'> & Partial<Pick<UserRecord, 'role'>>;

/** The console's scope rule (console/roles.ts scopeOf): a department viewer is scoped even with no department (it sees nothing). */
const isScoped = (user: Subscriber) => user.role === 'department_viewer' || user.departments.length > 0;

/**
 * The users who asked for this alert: preferences set, not opted out, not disabled, the alert at or above
 * their level, and the alert inside their department scope. A scoped user never gets an alert without a
 * department or of another department; only unscoped users (all departments) get those.
 */
export function userRecipients(users: readonly Subscriber[], alert: Alert): Recipients {
  const emails = new Set<string>();
  const phones = new Set<string>();
  for (const user of users) {
    const prefs = user.notifications;
    if (!prefs || prefs.optOut || user.disabled) continue;
    if (levelRank(alert.rule.level) < levelRank(prefs.minLevel)) continue;
    if (isScoped(user) && !(alert.department && user.departments.includes(alert.department))) continue;
    if (prefs.email) emails.add(prefs.email);
    if (prefs.phone) phones.add(prefs.phone);
  }
  return { emails: [...emails], phones: [...phones] };
}

/** Department contacts (`toDepartment`) and subscribed users (`toUsers`) of a route, merged without repeats. */
export function routeRecipients(
  route: { toDepartment?: boolean | undefined; toUsers?: boolean | undefined }, alert: Alert, at: number,
  contactsOf: ((department: string | undefined, at: number) => Recipients) | undefined,
  usersOf: (() => readonly Subscriber[]) | undefined,
): Recipients | undefined {
  const parts: Recipients[] = [];
  if (route.toDepartment && contactsOf) parts.push(contactsOf(alert.department, at));
  if (route.toUsers && usersOf) parts.push(userRecipients(usersOf(), alert));
  if (parts.length === 0) return undefined;
  return { emails: [...new Set(parts.flatMap((p) => p.emails))], phones: [...new Set(parts.flatMap((p) => p.phones))] };
}

/**
 * The subscribers as last read from the user store, re-read every `everyMs` (routing is synchronous and
 * must not wait on the store per alert): a preference changed in the console counts within that time.
 */
export async function watchSubscribers(list: () => Promise<readonly Subscriber[]>, everyMs: number, onError: (error: unknown) => void) {
  let current: readonly Subscriber[] = [];
  const read = async () => {
    try {
      current = (await list()).filter((user) => user.notifications && !user.notifications.optOut)
        .map(({ username, role, departments, disabled, notifications }) => ({ username, role, departments, disabled, notifications }));
    } catch (error) {
      onError(error); // the last list stays in use
    }
  };
  await read();
  const timer = setInterval(() => void read(), everyMs);
  timer.unref();
  return { current: () => current, close: () => clearInterval(timer) };
}
