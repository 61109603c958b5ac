import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { defineMessageDecoder } from '../../../collectors/decoders/message-rules.js';
import { MESSAGE_DECODERS, decodeMessage, programName } from '../../../collectors/decoders/messages.js';
import type { EcsFields } from '../../../collectors/decoders/types.js';
import { decodeSyslogLine } from '../../../collectors/decoders/syslog-line.js';

const FIXTURES = 'test/fixtures/logs';
const context = { utcOffset: '+08:00', now: new Date('2026-11-26T12:00:00Z') };

type Outcome = { kind: 'recognized'; fields: EcsFields } | { kind: 'generic' } | { kind: 'malformed' };

function decodeFileLine(line: string): Outcome {
  const syslog = decodeSyslogLine(line, context);
  if (!syslog.ok) return { kind: 'malformed' };
  const fields = decodeMessage({ message: syslog.fields.message, program: syslog.fields.app });
  return fields ? { kind: 'recognized', fields } : { kind: 'generic' };
}

function readLines(file: string): string[] {
  return readFileSync(`${FIXTURES}/${file}`, 'utf8').split('\n').filter(Boolean);
}

function tally(outcomes: Outcome[]) {
  const count = { recognized: 0, generic: 0, malformed: 0 };
  for (const o of outcomes) count[o.kind] += 1;
  return count;
}

function event(fields: EcsFields | undefined): { action?: string; outcome?: string } | undefined {
  return fields?.event as { action?: string; outcome?: string } | undefined;
}

/** loghub's structured CSV: the template (EventId) each line was assigned by hand-checked log parsing. */
/** Lines whose [action, outcome] differ from what loghub's template id says they are ('generic' when unlisted). */
function mismatches(outcomes: Outcome[], templates: string[], byTemplate: Record<string, [string, string | undefined]>): string[] {
  return outcomes.flatMap((outcome, i) => {
    const want = byTemplate[templates[i]!];
    const got = outcome.kind === 'recognized' ? [event(outcome.fields)?.action, event(outcome.fields)?.outcome] : outcome.kind;
    return JSON.stringify(got) === JSON.stringify(want ?? 'generic') ? [] : [`line ${i + 1} (${templates[i]}): ${JSON.stringify(got)}`];
  });
}

function templateIds(file: string): string[] {
  const rows = parse(readFileSync(`${FIXTURES}/${file}_structured.csv`, 'utf8'), { columns: true }) as { EventId: string }[];
  return rows.map((r) => r.EventId);
}

describe('syslog message decoders', () => {
  it('lists its decoders by name, program-specific ones before those for every program', () => {
    expect(MESSAGE_DECODERS.map((d) => [d.name, d.programs ?? '*'])).toEqual([
      ['sshd', ['sshd', 'sshd-session', 'sshd-auth']],
      ['sudo', ['sudo']],
      ['su', ['su']],
      ['account', ['useradd', 'userdel', 'usermod', 'passwd', 'groupadd', 'groupdel', 'groupmod', 'chpasswd']],
      ['cron', ['cron', 'crond']],
      ['web', ['nginx', 'apache', 'apache2', 'httpd']],
      ['pam', '*'],
    ]);
  });

  it("matches Filebeat's system/auth fields for every line of its test log", () => {
    // Values from filebeat/module/system/auth/test/test.log-expected.json (elastic/beats), placed
    // where ECS puts them: the account useradd creates is user.target (Filebeat: user.name).
    const expected = [
      { event: { action: 'ssh_login', outcome: 'success', category: ['authentication', 'session'], type: ['info'] },
        user: { name: 'vagrant' }, source: { ip: '10.0.2.2', port: 63673 },
        system: { auth: { ssh: { method: 'publickey', signature: 'RSA 39:33:99:e9:a0:dc:f2:33:a3:e5:72:3b:7c:3a:56:84' } } } },
      { event: { action: 'ssh_login', outcome: 'success' }, user: { name: 'vagrant' }, source: { ip: '192.168.33.1', port: 58803 },
        system: { auth: { ssh: { method: 'password' } } } },
      { event: { action: 'ssh_login', outcome: 'failure', category: ['authentication'] }, user: { name: 'test' }, source: { ip: '10.0.2.2' } },
      { event: { action: 'ssh_login', outcome: 'failure' }, user: { name: 'root' }, source: { ip: '216.160.83.57', port: 29160 } },
      { event: { action: 'sudo_command', outcome: 'success', category: ['process'], type: ['start'] },
        user: { name: 'vagrant', effective: { name: 'root' } }, process: { command_line: '/bin/ls', working_directory: '/home/vagrant' } },
      { event: { action: 'ssh_dropped_connection' }, source: { ip: '2.125.160.217' } },
      { event: { action: 'sudo_command', outcome: 'success' }, user: { name: 'vagrant', effective: { name: 'root' } },
        process: { command_line: '/bin/cat /var/log/secure' } },
      { event: { action: 'sudo_command', outcome: 'failure' }, user: { name: 'tsg', effective: { name: 'root' } },
        error: { message: 'user NOT in sudoers' }, process: { command_line: '/bin/ls' } },
      { event: { action: 'group_created', outcome: 'success', category: ['iam'], type: ['group', 'creation'] },
        group: { name: 'apache', id: '48' } },
      { event: { action: 'user_created', outcome: 'success', category: ['iam'], type: ['user', 'creation'] },
        user: { target: { name: 'apache', id: '48' } }, group: { id: '48' },
        system: { auth: { useradd: { home: '/usr/share/httpd', shell: '/sbin/nologin' } } } },
    ];
    const outcomes = readLines('elastic-beats-filebeat-tests/system-auth/test.log').map(decodeFileLine);
    expect(outcomes).toHaveLength(expected.length);
    outcomes.forEach((outcome, i) => expect(outcome, `line ${i + 1}`).toMatchObject({ kind: 'recognized', fields: expected[i] }));
    // Nothing extra is made up: the dropped connection has no user and no outcome.
    expect(outcomes[5]).toEqual({
      kind: 'recognized',
      fields: { event: { action: 'ssh_dropped_connection', category: ['network'], type: ['connection', 'end'] }, source: { ip: '2.125.160.217' } },
    });
  });

  it('recognizes each OpenSSH_2k.log line as its loghub template says', () => {
    // Template → what the line must become; templates not listed stay generic: sshd's debug-level
    // echo of an invalid user without an address (E12), "check pass; user unknown" (E21), "PAM
    // service ignoring max retries" (E18) and a write error without a peer (E11).
    const byTemplate: Record<string, [string, string | undefined]> = {
      E1: ['ssh_login', 'success'],
      E2: ['ssh_connection_closed', undefined],
      E3: ['ssh_dropped_connection', undefined],
      E4: ['ssh_too_many_auth_failures', 'failure'], E5: ['ssh_too_many_auth_failures', 'failure'],
      E6: ['ssh_disconnect', undefined], E7: ['ssh_disconnect', undefined],
      E8: ['ssh_login', 'failure'], E9: ['ssh_login', 'failure'], E10: ['ssh_login', 'failure'],
      E13: ['ssh_login', 'failure'], E14: ['ssh_login', 'failure'],
      E15: ['pam_authentication', 'failure'], E16: ['pam_authentication', 'failure'], E17: ['pam_authentication', 'failure'],
      E19: ['pam_authentication', 'failure'], E20: ['pam_authentication', 'failure'],
      E22: ['session_closed', 'success'], E23: ['session_opened', 'success'],
      E24: ['ssh_disconnect', undefined], E25: ['ssh_disconnect', undefined], E26: ['ssh_disconnect', undefined],
      E27: ['ssh_possible_break_in', undefined],
    };
    const lines = readLines('loghub/OpenSSH/OpenSSH_2k.log');
    const templates = templateIds('loghub/OpenSSH/OpenSSH_2k.log');
    expect(templates).toHaveLength(lines.length);
    const outcomes = lines.map(decodeFileLine);
    expect(mismatches(outcomes, templates, byTemplate)).toEqual([]);
    expect(tally(outcomes)).toEqual({ recognized: 1744, generic: 256, malformed: 0 });

    const actions: Record<string, number> = {};
    for (const o of outcomes) if (o.kind === 'recognized') actions[event(o.fields)!.action!] = (actions[event(o.fields)!.action!] ?? 0) + 1;
    expect(actions).toEqual({
      ssh_login: 638, pam_authentication: 504, ssh_disconnect: 468, ssh_possible_break_in: 85, ssh_connection_closed: 34,
      ssh_dropped_connection: 10, ssh_too_many_auth_failures: 3, session_opened: 1, session_closed: 1,
    });
  });

  it('takes addresses, ports and users from the OpenSSH lines, never inventing them', () => {
    const lines = readLines('loghub/OpenSSH/OpenSSH_2k.log');
    const outcomes = lines.map(decodeFileLine);
    let logins = 0;
    outcomes.forEach((o, i) => {
      if (o.kind !== 'recognized') return;
      const f = o.fields as { source?: { ip?: string; port?: number }; user?: { name?: string } };
      // Every address and port came out of this very line.
      if (f.source?.ip) expect(lines[i], `line ${i + 1}`).toContain(f.source.ip);
      if (f.source?.port) expect(lines[i], `line ${i + 1}`).toContain(` port ${f.source.port}`);
      if (event(o.fields)?.action === 'ssh_login') {
        logins += 1;
        expect(f.source?.ip, `line ${i + 1}`).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
        expect(lines[i]).toContain(` ${f.user?.name} from `);
      }
    });
    expect(logins).toBe(638);
    const pamFailure = lines.find((l) => l.includes('authentication failure;') && !l.includes(' user='))!;
    expect(pamFailure).toContain('rhost=173.234.31.186');
    expect(decodeFileLine(pamFailure)).toEqual({
      kind: 'recognized',
      fields: {
        event: { action: 'pam_authentication', category: ['authentication'], type: ['info'], outcome: 'failure' },
        source: { ip: '173.234.31.186' },
      },
    });
    expect(decodeFileLine(lines[0]!)).toMatchObject({
      fields: { event: { action: 'ssh_possible_break_in' }, source: { ip: '173.234.31.186', domain: 'ns.marryaldkfaczcz.com' } },
    });
  });

  it('recognizes the PAM lines of Linux_2k.log, and leaves kernel, ftpd and the rest generic', () => {
    const byTemplate: Record<string, [string, string]> = {
      E15: ['pam_authentication', 'failure'], E16: ['pam_authentication', 'failure'], E17: ['pam_authentication', 'failure'],
      E18: ['pam_authentication', 'failure'], E19: ['pam_authentication', 'failure'],
      E101: ['session_closed', 'success'], E102: ['session_opened', 'success'], E103: ['session_opened', 'success'],
    };
    const lines = readLines('loghub/Linux/Linux_2k.log');
    const templates = templateIds('loghub/Linux/Linux_2k.log');
    const outcomes = lines.map(decodeFileLine);
    expect(mismatches(outcomes, templates, byTemplate)).toEqual([]);
    expect(tally(outcomes)).toEqual({ recognized: 736, generic: 1264, malformed: 0 });

    const first = lines.findIndex((l) => l.includes('user=root'));
    expect(decodeFileLine(lines[first]!)).toMatchObject({ fields: { user: { name: 'root' }, event: { outcome: 'failure' } } });
    const login = lines.find((l) => l.includes('by LOGIN(uid=0)'))!;
    expect(decodeFileLine(login)).toEqual({
      kind: 'recognized',
      fields: { event: { action: 'session_opened', category: ['session'], type: ['start'], outcome: 'success' }, user: { name: 'root' } },
    });
  });

  it.each<[string, string | undefined, string, EcsFields | undefined]>([
    ['a sudo password failure', 'sudo', 'alice : 3 incorrect password attempts ; TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/passwd root',
      { event: { action: 'sudo_command', category: ['authentication', 'process'], type: ['start'], outcome: 'failure' },
        error: { message: '3 incorrect password attempts' }, user: { name: 'alice', effective: { name: 'root' } },
        process: { working_directory: '/home/alice', command_line: '/usr/bin/passwd root' } }],
    ['sudo with GROUP and ENV', 'sudo', 'ops : TTY=pts/2 ; PWD=/srv ; USER=postgres ; GROUP=postgres ; ENV=PGDATA=/data ; COMMAND=/usr/bin/pg_dump gov',
      { event: { action: 'sudo_command', category: ['process'], type: ['start'], outcome: 'success' },
        user: { name: 'ops', effective: { name: 'postgres' } }, process: { working_directory: '/srv', command_line: '/usr/bin/pg_dump gov' } }],
    ['PAM auth failure of sudo, host name in rhost', 'sudo', 'pam_unix(sudo:auth): authentication failure; logname=alice uid=1000 euid=0 tty=/dev/pts/0 ruser=alice rhost=bastion.gov.local  user=alice',
      { event: { action: 'pam_authentication', category: ['authentication'], type: ['info'], outcome: 'failure' },
        user: { name: 'alice' }, source: { domain: 'bastion.gov.local' } }],
    ['a PAM session opened by another user', 'sudo', 'pam_unix(sudo:session): session opened for user root(uid=0) by alice(uid=1000)',
      { event: { action: 'session_opened', category: ['session'], type: ['start'], outcome: 'success' }, user: { name: 'alice', effective: { name: 'root' } } }],
    ['su success (util-linux)', 'su', '(to root) alice on pts/1',
      { event: { action: 'su', category: ['authentication'], type: ['start'], outcome: 'success' }, user: { name: 'alice', effective: { name: 'root' } } }],
    ['su failure (util-linux)', 'su', 'FAILED SU (to root) mallory on pts/3',
      { event: { action: 'su', category: ['authentication'], type: ['start'], outcome: 'failure' }, user: { name: 'mallory', effective: { name: 'root' } } }],
    ['su failure (shadow-utils)', 'su', 'FAILED su for root by mallory',
      { event: { action: 'su', category: ['authentication'], type: ['start'], outcome: 'failure' }, user: { name: 'mallory', effective: { name: 'root' } } }],
    ['su sulog style', 'su', '- pts/0 mallory:root',
      { event: { action: 'su', category: ['authentication'], type: ['start'], outcome: 'failure' }, user: { name: 'mallory', effective: { name: 'root' } } }],
    ['useradd, modern', 'useradd', 'new user: name=zhangwei, UID=1001, GID=1001, home=/home/zhangwei, shell=/bin/bash, from=/dev/pts/0',
      { event: { action: 'user_created', category: ['iam'], type: ['user', 'creation'], outcome: 'success' },
        user: { target: { name: 'zhangwei', id: '1001' } }, group: { id: '1001' },
        system: { auth: { useradd: { home: '/home/zhangwei', shell: '/bin/bash' } } } }],
    ['userdel', 'userdel', "delete user 'zhangwei'",
      { event: { action: 'user_deleted', category: ['iam'], type: ['user', 'deletion'], outcome: 'success' }, user: { target: { name: 'zhangwei' } } }],
    ['userdel removing the own group', 'userdel', "removed group 'zhangwei' owned by 'zhangwei'",
      { event: { action: 'group_deleted', category: ['iam'], type: ['group', 'deletion'], outcome: 'success' }, group: { name: 'zhangwei' } }],
    ['usermod adding to a group', 'usermod', "add 'zhangwei' to group 'wheel'",
      { event: { action: 'group_member_added', category: ['iam'], type: ['group', 'change'], outcome: 'success' },
        user: { target: { name: 'zhangwei' } }, group: { name: 'wheel' } }],
    ['usermod locking', 'usermod', "lock user 'zhangwei' password",
      { event: { action: 'user_locked', category: ['iam'], type: ['user', 'change'], outcome: 'success' }, user: { target: { name: 'zhangwei' } } }],
    ['passwd through PAM', 'passwd', 'pam_unix(passwd:chauthtok): password changed for zhangwei',
      { event: { action: 'password_changed', category: ['iam'], type: ['user', 'change'], outcome: 'success' }, user: { target: { name: 'zhangwei' } } }],
    ['passwd, shadow-utils', 'passwd', "password for 'zhangwei' changed by 'root'",
      { event: { action: 'password_changed', category: ['iam'], type: ['user', 'change'], outcome: 'success' },
        user: { name: 'root', target: { name: 'zhangwei' } } }],
    ['groupadd', 'groupadd', 'new group: name=audit, GID=1002',
      { event: { action: 'group_created', category: ['iam'], type: ['group', 'creation'], outcome: 'success' }, group: { name: 'audit', id: '1002' } }],
    ['groupdel', 'groupdel', "group 'audit' removed",
      { event: { action: 'group_deleted', category: ['iam'], type: ['group', 'deletion'], outcome: 'success' }, group: { name: 'audit' } }],
    ['groupadd writing /etc/gshadow: one change, one event', 'groupadd', 'group added to /etc/gshadow: name=audit', undefined],
    ['cron (Debian tag)', 'CRON', '(root) CMD (   cd / && run-parts --report /etc/cron.hourly)',
      { event: { action: 'cron_command', category: ['process'], type: ['start'], outcome: 'success' },
        user: { name: 'root' }, process: { command_line: '   cd / && run-parts --report /etc/cron.hourly' } }],
    ['cron PAM session', 'CRON', 'pam_unix(cron:session): session opened for user root by (uid=0)',
      { event: { action: 'session_opened', category: ['session'], type: ['start'], outcome: 'success' }, user: { name: 'root' } }],
    ['OpenSSH ≥ 7 disconnect naming the user', 'sshd', 'Connection closed by authenticating user root 203.0.113.9 port 52144 [preauth]',
      { event: { action: 'ssh_connection_closed', category: ['network'], type: ['connection', 'end'] },
        user: { name: 'root' }, source: { ip: '203.0.113.9', port: 52144 } }],
    ['OpenSSH ≥ 7 too many failures', 'sshd', 'Disconnecting invalid user admin 203.0.113.9 port 52144: Too many authentication failures [preauth]',
      { event: { action: 'ssh_too_many_auth_failures', category: ['authentication'], type: ['info'], outcome: 'failure' },
        user: { name: 'admin' }, source: { ip: '203.0.113.9', port: 52144 } }],
    ['an IPv6 client on OpenSSH 9.8 (sshd-session)', 'sshd-session', 'Accepted password for ops from 2001:db8::7 port 50022 ssh2',
      { event: { action: 'ssh_login', category: ['authentication', 'session'], type: ['info'], outcome: 'success' },
        user: { name: 'ops' }, source: { ip: '2001:db8::7', port: 50022 }, system: { auth: { ssh: { method: 'password' } } } }],
    ['an invalid user with an empty name', 'sshd', 'Failed password for invalid user  from 198.51.100.4 port 2200 ssh2',
      { event: { action: 'ssh_login', category: ['authentication'], type: ['info'], outcome: 'failure' },
        source: { ip: '198.51.100.4', port: 2200 }, system: { auth: { ssh: { method: 'password' } } } }],
    ['sshd text from another program is not an ssh login', 'bash', 'Accepted password for root from 1.2.3.4 port 22 ssh2', undefined],
    ['a message of no known kind', 'sshd', 'Server listening on 0.0.0.0 port 22.', undefined],
  ])('%s', (_what, program, message, expected) => {
    expect(decodeMessage({ program, message })).toEqual(expected);
  });

  it('recognizes PAM messages whatever the program, even without one', () => {
    const message = 'pam_unix(login:auth): authentication failure; logname=LOGIN uid=0 euid=0 tty=tty1 ruser= rhost=  user=root';
    const expected = { event: { action: 'pam_authentication', category: ['authentication'], type: ['info'], outcome: 'failure' }, user: { name: 'root' } };
    expect(decodeMessage({ message, program: 'login' })).toEqual(expected);
    expect(decodeMessage({ message })).toEqual(expected);
  });

  it('reads access lines that nginx sends through syslog, without their own time', () => {
    const fields = decodeMessage({
      program: 'nginx',
      message: '10.1.2.3 - - [26/Nov/2026:10:00:00 +0800] "POST /api/login HTTP/1.1" 401 64 "-" "python-requests/2.31"',
    });
    expect(fields).toEqual({
      event: { category: ['web'], type: ['access'], outcome: 'failure' },
      http: { request: { method: 'POST' }, version: '1.1', response: { status_code: 401, body: { bytes: 64 } } },
      url: { original: '/api/login', path: '/api/login' },
      source: { address: '10.1.2.3', ip: '10.1.2.3' },
      related: { ip: ['10.1.2.3'] },
      user_agent: { original: 'python-requests/2.31' },
    });
  });

  it('opens up "message repeated N times" and normalizes program names', () => {
    expect(decodeMessage({ program: 'sshd', message: 'message repeated 3 times: [ Failed password for root from 5.36.59.76 port 42393 ssh2]' }))
      .toMatchObject({ event: { action: 'ssh_login', outcome: 'failure' }, user: { name: 'root' }, source: { ip: '5.36.59.76', port: 42393 } });
    expect(['sshd(pam_unix)', 'CRON', '/usr/sbin/crond', 'su(pam_unix)', undefined, ''].map(programName))
      .toEqual(['sshd', 'cron', 'crond', 'su', undefined, undefined]);
  });

  it('refuses, when the table loads, a group it has no field for or a type ECS does not expect', () => {
    expect(() => defineMessageDecoder('x', ['x'], [
      { pattern: /^(?<username>\S+)$/, action: 'x', category: ['authentication'], type: ['info'] },
    ])).toThrow(/unknown group <username>/);
    expect(() => defineMessageDecoder('x', ['x'], [
      { pattern: /^(?<user>\S+)$/, action: 'x', category: ['authentication'], type: ['creation'] },
    ])).toThrow(/ECS does not expect event.type "creation" for event.category \[authentication\]/);
  });
});
