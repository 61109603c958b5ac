/**
 * Authentication messages: sshd, PAM, sudo, su. Categorization follows Filebeat's system/auth
 * module where it has one (ssh_login: Accepted → authentication+session/success, Failed and Invalid
 * user → authentication/failure), and ECS's expected types elsewhere. First matching row wins.
 */
import { defineMessageDecoder, type MessageRule } from './message-rules.js';

const AUTH = ['authentication'] as const;
const INFO = ['info'] as const;
const CLOSED = { category: ['network'], type: ['connection', 'end'] } as const;
// OpenSSH ≥ 7.x names the user and port in disconnect messages; older versions give the address only.
const WHO = String.raw`(?:(?:authenticating |invalid )?user (?<user>\S+) )?`;
const PREAUTH = String.raw`(?: \[preauth\])?$`;

const SSHD_RULES: MessageRule[] = [
  {
    pattern: /^Accepted (?<method>\S+) for (?<user>\S+) from (?<source>\S+) port (?<port>\d+)(?: ssh2)?(?:: (?<signature>.+))?$/,
    action: 'ssh_login', category: ['authentication', 'session'], type: INFO, outcome: 'success',
  },
  {
    // The name of an invalid user may be empty or contain spaces: take everything up to " from <addr> port".
    pattern: /^Failed (?<method>\S+) for (?:invalid user )?(?<user>.*?) from (?<source>\S+) port (?<port>\d+)(?: ssh2)?/,
    action: 'ssh_login', category: AUTH, type: INFO, outcome: 'failure',
  },
  {
    pattern: /^Invalid user (?<user>.*?) from (?<source>\S+)(?: port (?<port>\d+))?$/,
    action: 'ssh_login', category: AUTH, type: INFO, outcome: 'failure',
  },
  {
    pattern: new RegExp(String.raw`^Disconnecting: Too many authentication failures for (?:invalid user )?(?<user>\S+)${PREAUTH}`),
    action: 'ssh_too_many_auth_failures', category: AUTH, type: INFO, outcome: 'failure',
  },
  {
    pattern: new RegExp(String.raw`^Disconnecting ${WHO}(?<source>\S+) port (?<port>\d+): Too many authentication failures${PREAUTH}`),
    action: 'ssh_too_many_auth_failures', category: AUTH, type: INFO, outcome: 'failure',
  },
  {
    pattern: new RegExp(String.raw`^Connection closed by ${WHO}(?<source>\S+)(?: port (?<port>\d+))?${PREAUTH}`),
    action: 'ssh_connection_closed', ...CLOSED,
  },
  {
    pattern: new RegExp(String.raw`^Connection reset by ${WHO}(?<source>\S+)(?: port (?<port>\d+))?${PREAUTH}`),
    action: 'ssh_connection_reset', ...CLOSED,
  },
  {
    pattern: new RegExp(String.raw`^(?:error: )?Received disconnect from (?<source>[^\s:]+|\S+(?= port))(?: port (?<port>\d+))?: ?\d+: .*?${PREAUTH}`),
    action: 'ssh_disconnect', ...CLOSED,
  },
  {
    pattern: new RegExp(String.raw`^Disconnected from ${WHO}(?<source>\S+) port (?<port>\d+)${PREAUTH}`),
    action: 'ssh_disconnect', ...CLOSED,
  },
  {
    pattern: /^Did not receive identification string from (?<source>\S+)(?: port (?<port>\d+))?$/,
    action: 'ssh_dropped_connection', ...CLOSED,
  },
  {
    // sshd's DNS sanity check: the client's name and address do not agree.
    pattern: /^reverse mapping checking getaddrinfo for (?<host>\S+) \[(?<source>[^\]]+)\] failed(?: - POSSIBLE BREAK-IN ATTEMPT!)?$/,
    action: 'ssh_possible_break_in', category: ['network'], type: INFO,
  },
  {
    pattern: /^Address (?<source>\S+) maps to (?<host>[^,\s]+), but this does not map back to the address(?: - POSSIBLE BREAK-IN ATTEMPT!)?$/,
    action: 'ssh_possible_break_in', category: ['network'], type: INFO,
  },
];

// PAM messages come from whichever program loaded the module: sshd, su, login, sudo, cron… With
// rsyslog's old format the module is in the program name (`sshd(pam_unix)`), else in the message.
const PAM = String.raw`^(?:pam_\w+\([^)]*\): )?`;
const PAM_PEER = String.raw`logname=\S* uid=\d* euid=\d* tty=\S* ruser=\S* rhost=(?<source>\S*)(?:\s+user=(?<user>\S+))?\s*$`;

const PAM_RULES: MessageRule[] = [
  {
    pattern: new RegExp(`${PAM}authentication failure; ${PAM_PEER}`),
    action: 'pam_authentication', category: AUTH, type: INFO, outcome: 'failure',
  },
  {
    // "PAM 2 more authentication failures; …": sshd summing up the failures of one connection.
    pattern: new RegExp(`${PAM}PAM \\d+ more authentication failures?; ${PAM_PEER}`),
    action: 'pam_authentication', category: AUTH, type: INFO, outcome: 'failure',
  },
  {
    // "by LOGIN(uid=0)" names the login program, not a user.
    pattern: new RegExp(String.raw`${PAM}session opened for user (?<for_user>[^\s(]+)(?:\(uid=\d+\))? by (?:LOGIN|(?<by_user>[^\s(]*))(?:\(uid=\d+\))?$`),
    action: 'session_opened', category: ['session'], type: ['start'], outcome: 'success',
  },
  {
    pattern: new RegExp(`${PAM}session closed for user (?<for_user>[^\\s(]+)`),
    action: 'session_closed', category: ['session'], type: ['end'], outcome: 'success',
  },
  {
    pattern: new RegExp(`${PAM}password changed for (?<target>\\S+)$`),
    action: 'password_changed', category: ['iam'], type: ['user', 'change'], outcome: 'success',
  },
];

// sudo: "alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/ls", with the reason it
// refused between the user and TTY ("user NOT in sudoers ;", "3 incorrect password attempts ;").
const SUDO_TAIL = String.raw`TTY=\S+ ; PWD=(?<cwd>.*?) ; USER=(?<effective>\S+) ;(?: GROUP=\S+ ;)?(?: TSID=\S+ ;)?(?: ENV=.*? ;)? COMMAND=(?<command>.*)$`;

const SUDO_RULES: MessageRule[] = [
  {
    pattern: new RegExp(String.raw`^\s*(?<user>\S+) : (?<error>\d+ incorrect password attempts?) ; ${SUDO_TAIL}`),
    action: 'sudo_command', category: ['authentication', 'process'], type: ['start'], outcome: 'failure',
  },
  {
    pattern: new RegExp(String.raw`^\s*(?<user>\S+) : (?:(?<error>[^;]*?) ; )?${SUDO_TAIL}`),
    action: 'sudo_command', category: ['process'], type: ['start'], outcome: 'success',
  },
];

const SU_RULES: MessageRule[] = [
  { pattern: /^Successful su for (?<effective>\S+) by (?<user>\S+)$/, action: 'su', category: AUTH, type: ['start'], outcome: 'success' },
  { pattern: /^FAILED su for (?<effective>\S+) by (?<user>\S+)$/, action: 'su', category: AUTH, type: ['start'], outcome: 'failure' },
  { pattern: /^\(to (?<effective>\S+)\) (?<user>\S+) on \S+$/, action: 'su', category: AUTH, type: ['start'], outcome: 'success' },
  { pattern: /^FAILED SU \(to (?<effective>\S+)\) (?<user>\S+) on \S+$/, action: 'su', category: AUTH, type: ['start'], outcome: 'failure' },
  // shadow-utils' sulog format: "+ pts/0 alice:root" (success) / "- pts/0 alice:root" (failure).
  { pattern: /^\+ \S+ (?<user>[^:\s]+):(?<effective>\S+)$/, action: 'su', category: AUTH, type: ['start'], outcome: 'success' },
  { pattern: /^- \S+ (?<user>[^:\s]+):(?<effective>\S+)$/, action: 'su', category: AUTH, type: ['start'], outcome: 'failure' },
];

// OpenSSH 9.8 moved the per-connection work (and its log lines) to sshd-session, 10.0 to sshd-auth too.
export const sshdMessages = defineMessageDecoder('sshd', ['sshd', 'sshd-session', 'sshd-auth'], SSHD_RULES);
export const sudoMessages = defineMessageDecoder('sudo', ['sudo'], SUDO_RULES);
export const suMessages = defineMessageDecoder('su', ['su'], SU_RULES);
/** Tried on every message, whatever the program: any of them may load PAM. */
export const pamMessages = defineMessageDecoder('pam', undefined, PAM_RULES);
