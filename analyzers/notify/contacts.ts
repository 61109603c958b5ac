import type { Department } from '../../core/index.js';
import { inDailyRange } from './clock-time.js';
import type { Recipients } from './types.js';

/** A department's contacts plus whoever is on call at `at` (local time of `utcOffset`), without repeats. */
export function departmentRecipients(department: Department | undefined, at: number, utcOffset = '+08:00'): Recipients {
  const emails = new Set(department?.contacts?.emails ?? []);
  const phones = new Set(department?.contacts?.phones ?? []);
  for (const duty of department?.onCall ?? []) {
    if (!inDailyRange(at, duty.from, duty.to, utcOffset)) continue;
    if (duty.email) emails.add(duty.email);
    if (duty.phone) phones.add(duty.phone);
  }
  return { emails: [...emails], phones: [...phones] };
}
