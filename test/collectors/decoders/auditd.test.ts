import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeAuditd } from '../../../collectors/decoders/auditd.js';
import type { RecordDecoder } from '../../../collectors/decoders/types.js';

const FIXTURES = 'test/fixtures/logs/elastic-beats-filebeat-tests/auditd';
// It fits the record-decoder slot (checked by the type checker).
export const RECORD_DECODER: RecordDecoder = decodeAuditd;

function readLines(file: string): string[] {
  return readFileSync(`${FIXTURES}/${file}`, 'utf8').split('\n').filter(Boolean);
}

describe('auditd record decoder', () => {
  it("matches Filebeat's auditd fields for every line of its test log, hex values decoded", () => {
    // Values as in filebeat/module/auditd/log/test/test.log-expected.json (elastic/beats); hex decoded
    // independently (Python bytes.fromhex) for exe, cmd and proctitle.
    const expected = [
      { '@timestamp': '2017-01-31T20:17:14.891Z', event: { action: 'mac_ipsec_event', sequence: 18877201, outcome: 'success' },
        source: { ip: '192.168.2.0' }, auditd: { data: { op: 'SPD-delete', src_prefixlen: '24', dst: '192.168.0.0' } } },
      { '@timestamp': '2017-01-31T20:17:14.891Z', event: { action: 'syscall', outcome: 'success' },
        process: { executable: '/usr/libexec/strongswan/charon (deleted)', name: 'charon', pid: 1281, parent: { pid: 1240 }, exit_code: 184 },
        user: { id: '0' } },
      { '@timestamp': '2017-03-14T19:20:56.192Z', event: { action: 'user_cmd', outcome: 'success', category: ['process'], type: ['start'] },
        process: { pid: 4151, working_directory: '/', command_line: '/usr/lib64/nagios/plugins/check_asterisk_sip_peers -p 202' },
        user: { id: '497', audit: { id: '700' } } },
      { '@timestamp': '2016-12-07T02:17:21.515Z', event: { action: 'crypto_session', outcome: 'success' },
        source: { ip: '96.241.146.97' }, process: { executable: '/usr/sbin/sshd', pid: 1298 },
        auditd: { data: { op: 'start', direction: 'from-server', cipher: 'chacha20-poly1305@openssh.com', rport: '63927', laddr: '10.142.0.2' } } },
      { '@timestamp': '2017-04-11T15:21:03.550Z', event: { action: 'tty' }, process: { name: 'bash', pid: 27930 },
        auditd: { data: { major: '136', data: expect.stringMatching(/^eh\^\?\^\?echo test\^Mvim \/etc\/pam\.d\/password-auth-ac\^M.*sudo su\^M$/) } } },
      { '@timestamp': '2016-01-03T00:37:51.394Z', event: { action: 'proctitle', sequence: 194438 }, process: { title: 'bash' } },
      { '@timestamp': '2016-01-03T00:37:51.394Z', event: { action: 'proctitle', sequence: 194440 }, process: { title: 'sshd: burn [priv]' } },
      { '@timestamp': '2019-11-15T19:01:24.309Z', event: { action: 'software_update', outcome: 'success', category: ['package'], type: ['installation'] },
        process: { executable: '/usr/bin/python2.7', name: 'yum', pid: 3157 }, user: { id: '0', audit: { id: '1000' } },
        auditd: { data: { sw: 'gcc-4.8.5-39.el7.x86_64', sw_type: 'rpm', root_dir: '/' } } },
      { '@timestamp': '2019-11-15T19:00:56.144Z', event: { action: 'system_boot', outcome: 'success', category: ['host'], type: ['start'] },
        process: { executable: '/usr/lib/systemd/systemd-update-utmp', name: 'systemd-update-utmp', pid: 678 } },
      { '@timestamp': '2019-11-15T19:01:57.054Z', event: { action: 'system_shutdown', outcome: 'success', category: ['host'], type: ['end'] } },
      { '@timestamp': '2020-02-10T21:59:44.206Z', event: { action: 'execve', category: ['process'], type: ['start'] },
        process: { args: ['top'], command_line: 'top' } },
      // The enriched format writes names: uid=vagrant auid=vagrant.
      { '@timestamp': '2020-02-10T21:59:44.206Z', event: { action: 'syscall', outcome: 'success' },
        user: { name: 'vagrant', audit: { name: 'vagrant' } }, process: { executable: '/usr/bin/top', name: 'top', pid: 2614, exit_code: 0 } },
      { '@timestamp': '2020-02-10T21:59:44.206Z', event: { action: 'kern_module', category: ['driver'], type: ['info'] }, auditd: { data: { name: 'mymodule' } } },
      { '@timestamp': '2017-12-17T10:44:41.075Z', event: { action: 'virt_control', outcome: 'success' },
        process: { executable: '/usr/bin/dockerd-current' }, auditd: { data: { user: 'root', reason: 'api', op: 'create' } } },
      { '@timestamp': '2016-12-16T15:45:43.572Z', event: { action: 'virt_machine_id', outcome: 'success' },
        auditd: { data: { virt: 'kvm', vm: 'rhel-work3', 'vm-ctx': 'system_u:system_r:svirt_t:s0:c444,c977' } } },
    ];
    const results = readLines('test.log').map((line) => decodeAuditd(line));
    expect(results).toHaveLength(expected.length);
    results.forEach((result, i) => expect(result, `line ${i + 1}`).toMatchObject({ ok: true, fields: expected[i] }));
    // Placeholders (?, (null), empty) are left out; the unset auid (4294967295) names no one.
    const crypto = results[3]!.ok ? results[3]!.fields : {};
    expect(crypto).not.toHaveProperty('auditd.data.mac');
    expect(crypto).not.toHaveProperty('auditd.data.hostname');
    expect(crypto).not.toHaveProperty('user.audit');
    expect(results[1]!.ok && results[1]!.fields).not.toHaveProperty('auditd.data.key');
  });

  it('reads the useradd trail with the account, address and outcome', () => {
    const results = readLines('useradd.log').map((line) => decodeAuditd(line));
    const base = { source: { ip: '127.0.0.1' }, user: { id: '0', audit: { id: '1000' } }, event: { outcome: 'success' } };
    const expected = [
      { '@timestamp': '2021-01-17T17:12:33.686Z', event: { action: 'add_group', sequence: 584, category: ['iam'], type: ['group', 'creation'] },
        process: { executable: '/usr/sbin/groupadd', pid: 2940 }, auditd: { data: { op: 'adding group to /etc/group', id: '1004', terminal: 'pts/2' } } },
      { event: { action: 'add_group', sequence: 586 }, auditd: { data: { op: 'adding group to /etc/gshadow' } } },
      { event: { action: 'add_group', sequence: 587 }, auditd: { data: { id: '1004' } } },
      { '@timestamp': '2021-01-17T17:12:33.730Z', event: { action: 'add_user', category: ['iam'], type: ['user', 'creation'] },
        process: { executable: '/usr/sbin/useradd', pid: 2945 }, auditd: { data: { op: 'adding user' } } },
      // The outer uid=0 is the process; the uid=1004 inside msg does not overwrite it.
      { event: { action: 'user_acct', category: ['authentication'], type: ['info'] }, process: { executable: '/sbin/pam_tally2' }, auditd: { data: { reset: '0' } } },
      { event: { action: 'user_chauthtok', category: ['iam'], type: ['user', 'change'] }, user: { name: 'charlie' }, process: { executable: '/usr/bin/passwd' } },
      { event: { action: 'user_auth', category: ['authentication'], type: ['info'] }, user: { name: 'root' }, process: { executable: '/usr/bin/chfn' } },
      { event: { action: 'user_acct' }, user: { name: 'root' }, auditd: { data: { op: 'PAM:accounting' } } },
    ];
    expect(results).toHaveLength(expected.length);
    results.forEach((result, i) => {
      expect(result, `line ${i + 1}`).toMatchObject({ ok: true, fields: base });
      expect(result, `line ${i + 1}`).toMatchObject({ ok: true, fields: expected[i] });
    });
    expect(results[2]!.ok && results[2]!.fields).not.toHaveProperty('auditd.data.op');
  });

  it('decodes a failed login with its time, account, address and outcome', () => {
    const line = `type=USER_LOGIN msg=audit(1485984135.123:456): pid=2301 uid=0 auid=4294967295 ses=4294967295 msg='op=login acct="root" exe="/usr/sbin/sshd" hostname=? addr=10.0.0.1 terminal=sshd res=failed'`;
    expect(decodeAuditd(line)).toEqual({
      ok: true,
      fields: {
        '@timestamp': '2017-02-01T21:22:15.123Z',
        event: { action: 'user_login', sequence: 456, category: ['authentication'], type: ['start'], outcome: 'failure' },
        user: { name: 'root', id: '0' },
        source: { ip: '10.0.0.1' },
        process: { executable: '/usr/sbin/sshd', pid: 2301 },
        auditd: { data: { pid: '2301', uid: '0', auid: '4294967295', ses: '4294967295', op: 'login', acct: 'root', exe: '/usr/sbin/sshd', addr: '10.0.0.1', terminal: 'sshd', res: 'failed' } },
      },
    });
  });

  it('decodes hex-encoded accounts and arguments (UTF-8 included), but not bare words that only look like hex', () => {
    // acct "张伟 x" needs encoding (non-ASCII, a space): auditd writes its UTF-8 bytes in upper-case hex.
    const acct = Buffer.from('张伟 x', 'utf8').toString('hex').toUpperCase();
    const login = decodeAuditd(`node=gov-web01 type=USER_LOGIN msg=audit(1700000000.000:1): pid=1 uid=0 auid=1001 ses=2 msg='op=login acct=${acct} exe="/usr/sbin/sshd" hostname=? addr=2001:db8::9 terminal=ssh res=success'`);
    expect(login).toMatchObject({
      ok: true,
      fields: { host: { name: 'gov-web01' }, user: { name: '张伟 x', audit: { id: '1001' } }, source: { ip: '2001:db8::9' }, event: { outcome: 'success' } },
    });
    const execve = decodeAuditd('type=EXECVE msg=audit(1700000000.000:2): argc=3 a0="sh" a1="-c" a2=6563686F202268692220263E2F6465762F746370');
    expect(execve).toMatchObject({ ok: true, fields: { process: { args: ['sh', '-c', 'echo "hi" &>/dev/tcp'], command_line: 'sh -c echo "hi" &>/dev/tcp' } } });
    // comm=4142 would be "AB", which auditd never encodes: so it is a name that looks like hex.
    expect(decodeAuditd('type=SYSCALL msg=audit(1700000000.000:3): comm=4142 exe=/usr/bin/top success=no')).toMatchObject({
      ok: true, fields: { process: { name: '4142', executable: '/usr/bin/top' }, event: { outcome: 'failure' } },
    });
    // proctitle is argv joined by NUL.
    const title = Buffer.from('/bin/bash\0-c\0id', 'utf8').toString('hex').toUpperCase();
    expect(decodeAuditd(`type=PROCTITLE msg=audit(1700000000.000:4): proctitle=${title}`)).toMatchObject({ ok: true, fields: { process: { title: '/bin/bash -c id' } } });
  });

  it('says why a line is not an auditd record, and never throws on a cut-off one', () => {
    expect(decodeAuditd('hello')).toEqual({ ok: false, reason: 'not an auditd record (type=… msg=audit(…))' });
    expect(decodeAuditd('type=USER_LOGIN msg=audit(abc:1): pid=1')).toMatchObject({ ok: false });
    expect(decodeAuditd(`type=USER_LOGIN msg=audit(1485984135.123:456): pid=2301 uid=0 msg='op=login acct="ro`)).toMatchObject({
      ok: true, fields: { event: { action: 'user_login' }, process: { pid: 2301 } },
    });
  });
});
