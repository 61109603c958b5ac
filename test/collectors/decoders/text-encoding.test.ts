import { describe, expect, it } from 'vitest';
import { decodeMessage } from '../../../collectors/decoders/messages.js';
import { createTextDecoder } from '../../../collectors/decoders/text-encoding.js';
import { decodeSyslogLine } from '../../../collectors/decoders/syslog-line.js';

// Byte tables from GB 18030 (cross-checked with CPython's gbk/gb18030 codecs), not from the decoder
// under test: 登录失败 "login failed", 用户 "user".
const GBK_LOGIN_FAILED = [0xb5, 0xc7, 0xc2, 0xbc, 0xca, 0xa7, 0xb0, 0xdc];
const GBK_USER = [0xd3, 0xc3, 0xbb, 0xa7];
const ascii = (text: string) => [...Buffer.from(text, 'latin1')];
const context = { utcOffset: '+08:00', now: new Date('2026-11-26T12:00:00Z') };

describe('source text decoding', () => {
  it('decodes a GBK syslog line that then reads as any other', () => {
    const bytes = Uint8Array.from([
      ...ascii('Nov 26 09:15:02 oa-app01 oa[4242]: '), ...GBK_USER, ...ascii(' zhangwei '), ...GBK_LOGIN_FAILED, ...ascii(' from 10.8.1.20'),
    ]);
    const decode = createTextDecoder('gbk');
    expect(decode(bytes)).toEqual({ text: 'Nov 26 09:15:02 oa-app01 oa[4242]: 用户 zhangwei 登录失败 from 10.8.1.20', invalid: false });
    const syslog = decodeSyslogLine(decode(bytes).text, context);
    expect(syslog).toMatchObject({ ok: true, fields: { app: 'oa', message: '用户 zhangwei 登录失败 from 10.8.1.20' } });
    // The same bytes read as UTF-8 are not valid, and say so.
    expect(createTextDecoder('utf-8')(bytes)).toMatchObject({ invalid: true, text: expect.stringContaining('\uFFFD') });
  });

  it('reads GB18030 four-byte characters (rare characters in names) under "gbk" too', () => {
    // U+201D4 𠇔 is 95 32 B1 34 in GB18030; pure GBK has no such character.
    for (const encoding of ['gbk', 'gb18030'] as const) {
      expect(createTextDecoder(encoding)(Uint8Array.from([0xb3, 0xc2, 0x95, 0x32, 0xb1, 0x34]))).toEqual({ text: '陈𠇔', invalid: false });
    }
  });

  it.each<[string, 'utf-8' | 'gbk' | 'gb18030', number[], string]>([
    ['a lead byte cut off at the end (GBK)', 'gbk', [...GBK_LOGIN_FAILED.slice(0, 3)], '登\uFFFD'],
    ['a lead byte followed by ASCII (GBK), the ASCII kept', 'gbk', [0x61, 0xb5, 0x0a], 'a\uFFFD\n'],
    ['0xFF, never a GBK byte', 'gb18030', [0xff, ...GBK_USER], '\uFFFD用户'],
    ['a stray continuation byte (UTF-8)', 'utf-8', [0x61, 0x80, 0x62], 'a\uFFFDb'],
    ['a truncated three-byte sequence (UTF-8)', 'utf-8', [0xe7, 0x99], '\uFFFD'],
  ])('replaces invalid bytes and flags them: %s', (_what, encoding, bytes, text) => {
    expect(createTextDecoder(encoding)(Uint8Array.from(bytes))).toEqual({ text, invalid: true });
  });

  it('does not flag a U+FFFD that the source wrote on purpose', () => {
    expect(createTextDecoder('utf-8')(Uint8Array.from([0x61, 0xef, 0xbf, 0xbd]))).toEqual({ text: 'a\uFFFD', invalid: false });
    expect(createTextDecoder('gb18030')(Uint8Array.from([0x84, 0x31, 0xa4, 0x37]))).toEqual({ text: '\uFFFD', invalid: false });
  });

  it('keeps one decoder per source working across good and bad lines', () => {
    const decode = createTextDecoder('gbk');
    expect(decode(Uint8Array.from([0xb5]))).toEqual({ text: '\uFFFD', invalid: true });
    expect(decode(Uint8Array.from(GBK_LOGIN_FAILED))).toEqual({ text: '登录失败', invalid: false });
    expect(decode(Uint8Array.from([]))).toEqual({ text: '', invalid: false });
    // Random bytes never throw.
    let seed = 7;
    for (let i = 0; i < 200; i++) {
      const bytes = Uint8Array.from({ length: 64 }, () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) & 0xff);
      expect(() => decode(bytes)).not.toThrow();
    }
  });

  it('lets a decoded GBK auth message reach the message decoders', () => {
    const decode = createTextDecoder('gbk');
    const line = decode(Uint8Array.from(ascii('Nov 26 09:15:02 oa-app01 sshd[77]: Failed password for root from 10.8.1.20 port 50022 ssh2'))).text;
    const syslog = decodeSyslogLine(line, context);
    expect(syslog.ok && decodeMessage({ message: syslog.fields.message, program: syslog.fields.app }))
      .toMatchObject({ event: { action: 'ssh_login', outcome: 'failure' }, source: { ip: '10.8.1.20' } });
  });
});
