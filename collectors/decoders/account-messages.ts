/**
 * Account and group management (shadow-utils: useradd, userdel, usermod, passwd, groupadd, groupdel)
 * and cron. The account a change is about is ECS `user.target.name`; syslog does not say who ran the
 * tool (auditd does, see auditd.ts). Where shadow-utils writes one change to several files (/etc/group,
 * /etc/gshadow…) only the summary line is recognized, so one change is one event.
 */
import { defineMessageDecoder, type MessageRule } from './message-rules.js';

const IAM = ['iam'] as const;

const ACCOUNT_RULES: MessageRule[] = [
  {
    pattern: /^new user: name=(?<target>[^,]+), UID=(?<target_id>\d+), GID=(?<group_id>\d+), home=(?<home>[^,]*), shell=(?<shell>[^,]*)(?:, from=\S+)?$/,
    action: 'user_created', category: IAM, type: ['user', 'creation'], outcome: 'success',
  },
  {
    pattern: /^new group: name=(?<group>[^,]+), GID=(?<group_id>\d+)$/,
    action: 'group_created', category: IAM, type: ['group', 'creation'], outcome: 'success',
  },
  {
    pattern: /^delete user '(?<target>[^']+)'$/,
    action: 'user_deleted', category: IAM, type: ['user', 'deletion'], outcome: 'success',
  },
  {
    // userdel removing the user's own group.
    pattern: /^removed group '(?<group>[^']+)' owned by '[^']+'$/,
    action: 'group_deleted', category: IAM, type: ['group', 'deletion'], outcome: 'success',
  },
  {
    pattern: /^group '(?<group>[^']+)' removed$/,
    action: 'group_deleted', category: IAM, type: ['group', 'deletion'], outcome: 'success',
  },
  {
    pattern: /^add '(?<target>[^']+)' to group '(?<group>[^']+)'$/,
    action: 'group_member_added', category: IAM, type: ['group', 'change'], outcome: 'success',
  },
  {
    pattern: /^delete '(?<target>[^']+)' from group '(?<group>[^']+)'$/,
    action: 'group_member_removed', category: IAM, type: ['group', 'change'], outcome: 'success',
  },
  {
    pattern: /^change user '(?<target>[^']+)' password$/,
    action: 'password_changed', category: IAM, type: ['user', 'change'], outcome: 'success',
  },
  {
    pattern: /^password for '(?<target>[^']+)' changed by '(?<user>[^']+)'$/,
    action: 'password_changed', category: IAM, type: ['user', 'change'], outcome: 'success',
  },
  {
    pattern: /^lock user '(?<target>[^']+)' password$/,
    action: 'user_locked', category: IAM, type: ['user', 'change'], outcome: 'success',
  },
  {
    pattern: /^unlock user '(?<target>[^']+)' password$/,
    action: 'user_unlocked', category: IAM, type: ['user', 'change'], outcome: 'success',
  },
];

const CRON_RULES: MessageRule[] = [
  {
    pattern: /^\((?<user>[^)]+)\) CMD \((?<command>.*)\)$/,
    action: 'cron_command', category: ['process'], type: ['start'], outcome: 'success',
  },
];

export const accountMessages = defineMessageDecoder(
  'account',
  ['useradd', 'userdel', 'usermod', 'passwd', 'groupadd', 'groupdel', 'groupmod', 'chpasswd'],
  ACCOUNT_RULES,
);
export const cronMessages = defineMessageDecoder('cron', ['cron', 'crond'], CRON_RULES);
