import { describe, expect, it } from 'vitest';
import { compileLogLinePrefix } from '../../../collectors/decoders/pg-log-prefix.js';
import { createPgauditDecoder, decodePgauditCsv, postgresLogRecords } from '../../../collectors/decoders/pgaudit.js';
import { seededRandom } from '../../../core/index.js';

const message = 'LOG:  statement: select 1';

describe('log_line_prefix compiler', () => {
  // Each escape as PostgreSQL prints it (docs, "log_line_prefix"), and the value it is read into.
  it.each([
    ['%m', '2026-12-01 09:15:02.123 CST', { time: '2026-12-01 09:15:02.123 CST' }],
    ['%t', '2026-12-01 09:15:02 UTC', { time: '2026-12-01 09:15:02 UTC' }],
    ['%n', '1796087702.123', { time: '1796087702.123' }],
    ['%p', '4242', { pid: '4242' }],
    ['%P', '4240', { leaderPid: '4240' }],
    ['%u', 'app_user', { user: 'app_user' }],
    ['%d', 'hr', { database: 'hr' }],
    ['%h', '10.40.1.11', { client: '10.40.1.11' }],
    ['%r', '10.40.1.11(53412)', { client: '10.40.1.11', clientPort: '53412' }],
    ['%r', '[local]', { client: '[local]' }],
    ['%a', 'pgAdmin 4 - DB:hr', { application: 'pgAdmin 4 - DB:hr' }],
    ['%c', '6b08737e.6df', { session: '6b08737e.6df' }],
    ['%l', '17', { lineNumber: '17' }],
    ['%s', '2026-12-01 09:00:00 CST', { sessionStart: '2026-12-01 09:00:00 CST' }],
    ['%v', '3/2', { vxid: '3/2' }],
    ['%x', '7531', { xid: '7531' }],
    ['%e', '42601', { sqlstate: '42601' }],
    ['%i', 'CREATE TABLE', { commandTag: 'CREATE TABLE' }],
    ['%b', 'client backend', { backendType: 'client backend' }],
    ['%Q', '-6420339447473432187', { queryId: '-6420339447473432187' }],
    ['%%', '%', {}],
  ])('reads %s', (escape, printed, values) => {
    const prefix = compileLogLinePrefix(`<${escape}> `);
    expect(prefix.parse(`<${printed}> ${message}`)).toEqual({ ...values, level: 'LOG', message: 'statement: select 1' });
  });

  it('reads the prefix many departments use, ending in %h: the client goes to client, not into the database name', () => {
    const prefix = compileLogLinePrefix('%m [%p] %u@%d %h ');
    expect(prefix.parse(`2026-12-01 09:15:02.123 CST [88] app@hr 10.40.1.11 ${message}`)).toMatchObject({
      time: '2026-12-01 09:15:02.123 CST', pid: '88', user: 'app', database: 'hr', client: '10.40.1.11', level: 'LOG',
    });
    // A sessionless process prints the empty values.
    expect(prefix.parse(`2026-12-01 09:15:02.123 CST [1] @  LOG:  checkpoint starting: time`)).toMatchObject({ pid: '1', user: '', database: '', client: '' });
  });

  it('cuts at %q for processes without a session, pads %-10u, reads a value printed twice once, skips unknown escapes', () => {
    const prefix = compileLogLinePrefix('%t [%p] %q%-10u %d %m %z|');
    expect(prefix.parse(`2026-12-01 09:15:02 UTC [1] ${message}`)).toEqual({ time: '2026-12-01 09:15:02 UTC', pid: '1', level: 'LOG', message: 'statement: select 1' });
    expect(prefix.parse(`2026-12-01 09:15:02 UTC [2] app        hr 2026-12-01 09:15:02.5 UTC |${message}`)).toMatchObject({ user: 'app', database: 'hr', time: '2026-12-01 09:15:02 UTC' });
  });

  it('reads the DETAIL/STATEMENT levels and a message over several lines; rejects other prefixes fast', () => {
    const prefix = compileLogLinePrefix('%m [%p] ');
    expect(prefix.parse('2026-12-01 09:15:02.123 UTC [9] STATEMENT:  selec 1')).toMatchObject({ level: 'STATEMENT', message: 'selec 1' });
    expect(prefix.parse('2026-12-01 09:15:02.123 UTC [9] LOG:  a\nb')).toMatchObject({ message: 'a\nb' });
    expect(prefix.parse('garbage')).toBeUndefined();
    expect(prefix.parse(`2026-12-01 09:15:02.123 UTC [x] ${message}`)).toBeUndefined();
    // Many name fields and a long line that never reaches a level: bounded backtracking, it still answers.
    const names = compileLogLinePrefix('%u %d %a %i %b %h ');
    expect(names.parse(`${'a '.repeat(2000)}no level here`)).toBeUndefined();
  });
});

/** A fixed seed gives the same run every time. */
const random = seededRandom;

describe('PostgreSQL decoders under attack (fixed seed)', () => {
  const prefix = '%m %c %l %s %v %x %i|%b|%Q %e %a|%r %u@%d ';
  const decode = createPgauditDecoder({ logLinePrefix: prefix });
  const context = { utcOffset: '+08:00', now: new Date('2026-12-01T00:00:00Z') };
  const valid = [
    '2026-11-26 10:00:00.000 UTC 6b08737e.6df 4 2026-11-26 09:59:00 UTC 3/2 7531 INSERT|client backend|-642 42601 psql|10.0.0.9(4000) app@hr ERROR:  syntax error',
    '\t  continued',
    '2026-11-26 10:00:00.000 UTC 6b08737e.6df 5 2026-11-26 09:59:00 UTC 3/2 7531 INSERT|client backend|-642 42601 psql|10.0.0.9(4000) app@hr STATEMENT:  selec "x, y',
  ].join('\n');

  it('never throws on truncations, byte flips and random text; a record either decodes or says why', () => {
    const next = random(20261201);
    const inputs: string[] = [];
    for (let cut = 0; cut <= valid.length; cut += 3) inputs.push(valid.slice(0, cut));
    for (let i = 0; i < 2000; i++) {
      const chars = [...valid];
      for (let k = 0; k < 1 + Math.floor(next() * 4); k++) chars[Math.floor(next() * chars.length)] = String.fromCharCode(Math.floor(next() * 0x3000));
      inputs.push(chars.join(''));
      inputs.push(Array.from({ length: Math.floor(next() * 200) }, () => String.fromCharCode(Math.floor(next() * 0x110))).join(''));
    }
    for (const input of inputs) {
      for (const result of [decode(input, context), decodePgauditCsv(input, context)]) {
        expect(result.ok || result.reason.length > 0).toBe(true);
      }
      for (const record of postgresLogRecords(input.split('\n'), 'stderr', prefix)) expect(typeof record).toBe('string');
    }
  });

  it('a hostile user name or a huge line does not stall the prefix regex', () => {
    const hostileName = `${'@ '.repeat(30_000)}x`;
    expect(decode(`2026-11-26 10:00:00.000 UTC ${hostileName}`, context).ok).toBe(false);
    const debian = createPgauditDecoder();
    expect(debian(`2026-11-26 10:00:00.000 CST [5] ${'a@'.repeat(100_000)} LOG`, context).ok).toBe(false);
    const huge = `2026-11-26 10:00:00.000 CST [5] app@hr LOG:  AUDIT: SESSION,1,1,READ,SELECT,,,"${'x'.repeat(1 << 20)}",<none>`;
    expect(debian(huge, context)).toMatchObject({ ok: true, fields: { db: { statement_truncated: true } } });
  });
});
