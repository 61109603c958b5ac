import type { Store } from '../store/index.js';
import { hashPassword, randomPassword } from './password.js';

export const FIRST_ADMIN = 'admin';

/**
 * On the first start (no users at all) creates `admin` with a random password and prints it once,
 * through `print` (stdout by default), never through the logger, so it does not end up in log files.
 * Returns whether it created the account.
 */
export async function ensureFirstAdmin(store: Store, print: (text: string) => void = (text) => process.stdout.write(text)): Promise<boolean> {
  if ((await store.users.count()) > 0) return false;
  const password = randomPassword();
  const now = new Date().toISOString();
  const created = await store.users.create({
    username: FIRST_ADMIN, displayName: '管理员 Administrator', role: 'admin', departments: [],
    passwordHash: await hashPassword(password), disabled: false, failedLogins: 0, sessionEpoch: 0, createdAt: now, updatedAt: now,
  });
  // Another process won the race: its password is the one that counts, and it printed it.
  if (!created) return false;
  await store.audit.append({ at: now, actor: 'system', action: 'user.create', target: FIRST_ADMIN, detail: { role: 'admin', firstStart: true } });
  print([
    '',
    '首次启动：已创建管理员账户（密码只显示这一次，请登录后修改）',
    'First start: created the admin account (the password is shown only this once; change it after logging in)',
    `  username: ${FIRST_ADMIN}`,
    `  password: ${password}`,
    '',
  ].join('\n'));
  return true;
}
