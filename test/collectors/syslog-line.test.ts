import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeSyslogLine } from '../../collectors/index.js';

const FIXTURES = 'test/fixtures/logs';
const context = { utcOffset: '+08:00', now: new Date('2026-11-26T12:00:00Z') };

describe('syslog line decoder', () => {
  it('decodes RFC 3164 lines as rsyslog writes them, in China Standard Time', () => {
    const decoded = decodeSyslogLine('Feb 21 21:54:44 localhost sshd[3402]: Accepted publickey for vagrant from 10.0.2.2 port 63673 ssh2', context);
    expect(decoded).toEqual({
      ok: true,
      fields: {
        timestamp: '2026-02-21T13:54:44.000Z', host: 'localhost', app: 'sshd', pid: 3402,
        message: 'Accepted publickey for vagrant from 10.0.2.2 port 63673 ssh2',
      },
    });
  });

  it('puts a date after today into last year', () => {
    const decoded = decodeSyslogLine('Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster from 173.234.31.186', context);
    expect(decoded.ok && decoded.fields.timestamp).toBe('2025-12-09T22:55:46.000Z');
  });

  it('reads the priority into facility and severity, and RFC 5424 lines with their own zone', () => {
    const legacy = decodeSyslogLine('<38>Nov  3 08:00:00 web01 sudo: ops : TTY=pts/0 ; COMMAND=/bin/ls', context);
    expect(legacy).toMatchObject({ ok: true, fields: { facility: 4, severity: 6, app: 'sudo', timestamp: '2026-11-03T00:00:00.000Z' } });
    const modern = decodeSyslogLine('<165>1 2026-08-24T05:14:15.003+08:00 db01.gov.local mysqld 811 ID47 [exampleSDID@32473 iut="3"] connection refused', context);
    expect(modern).toEqual({
      ok: true,
      fields: { timestamp: '2026-08-23T21:14:15.003Z', host: 'db01.gov.local', app: 'mysqld', pid: 811, message: 'connection refused', facility: 20, severity: 5 },
    });
  });

  it('says why a line is not syslog instead of guessing', () => {
    expect(decodeSyslogLine('just some text', context)).toEqual({ ok: false, reason: 'not a syslog line (RFC 3164 or RFC 5424)' });
    expect(decodeSyslogLine('Foo 12 10:00:00 host app: x', context)).toMatchObject({ ok: false });
    expect(decodeSyslogLine('<34>1 yesterday host app - - - msg', context)).toMatchObject({ ok: false, reason: expect.stringContaining('timestamp') });
  });

  it.each(['loghub/Linux/Linux_2k.log', 'loghub/OpenSSH/OpenSSH_2k.log', 'elastic-beats-filebeat-tests/system-auth/test.log'])(
    'decodes every line of the public sample %s',
    (file) => {
      const lines = readFileSync(`${FIXTURES}/${file}`, 'utf8').split('\n').filter(Boolean);
      const failed = lines.filter((line) => !decodeSyslogLine(line, context).ok);
      expect(failed).toEqual([]);
      const first = decodeSyslogLine(lines[0]!, context);
      expect(first.ok && first.fields.host).toMatch(/^(combo|LabSZ|localhost)$/);
    },
  );
});
