import { describe, expect, it } from 'vitest';
import { SyslogFramer, type SyslogFrame } from '../../collectors/index.js';
import { prng } from './syslog-support.js';

const texts = (frames: SyslogFrame[]) => frames.map((frame) => frame.message.toString('latin1'));
const valid = (n: number) => `<13>Nov 26 10:00:00 host app: valid ${n}`;

describe('syslog framing is decided per connection from its first frame', () => {
  it('reads `40 garbage` as a line, so it does not eat the valid line after it', () => {
    const framer = new SyslogFramer();
    expect(texts(framer.push(Buffer.from(`40 garbage\n${valid(1)}\n${valid(2)}\n`)))).toEqual(['40 garbage', valid(1), valid(2)]);
    expect(framer.framing).toBe('newline');
  });

  it('reads `999999999 ` before many valid lines as a line: nothing is held waiting for 999,999,999 bytes', () => {
    const framer = new SyslogFramer();
    const lines = Array.from({ length: 10_000 }, (_, n) => valid(n));
    const stream = Buffer.from(`999999999 ${lines.join('\n')}\n`);
    const frames: SyslogFrame[] = [];
    for (let at = 0; at < stream.length; at += 4096) {
      frames.push(...framer.push(stream.subarray(at, at + 4096)));
      expect(framer.retainedBytes).toBeLessThan(4096);
    }
    expect(texts(frames)).toEqual([`999999999 ${lines[0]}`, ...lines.slice(1)]);
    expect(framer.retainedBytes).toBe(0);
  });

  it('takes octet counting only for `<len> <PRI>` with len within the cap', () => {
    const octets = new SyslogFramer(1024);
    expect(texts(octets.push(Buffer.from('7 <13>abc10 <13>abcdef')))).toEqual(['<13>abc', '<13>abcdef']);
    expect(octets.framing).toBe('octet-counting');
    for (const first of ['5 hello\n', '2000 <13>x\n', '07 <13>abc\n', '3 <1234>\n', '4 <13 x\n', '12345678901 <13>\n']) {
      const framer = new SyslogFramer(1024);
      expect(texts(framer.push(Buffer.from(`${first}${valid(1)}\n`)))).toEqual([first.slice(0, -1), valid(1)]);
      expect(framer.framing).toBe('newline');
    }
  });

  it('decides the same when the first header arrives a byte at a time', () => {
    const framer = new SyslogFramer();
    const stream = Buffer.from('15 <13>1 - - - - x16 <13>1 - - - - yz');
    const frames = [...stream].flatMap((byte) => framer.push(Buffer.from([byte])));
    expect(texts(frames)).toEqual(['<13>1 - - - - x', '<13>1 - - - - yz']);
  });

  it('splits a random mix of frames alike however the stream is chunked (seeded fuzz)', () => {
    const random = prng(13);
    const expected: string[] = [];
    let stream = '9 <13>first'; // an octet-counted connection: later frames may also be lines
    expected.push('<13>first');
    for (let n = 0; n < 2000; n += 1) {
      const body = `<13>${'x'.repeat(Math.floor(random() * 300))} ${n}`;
      stream += random() < 0.5 ? `${body.length} ${body}` : `${body}\n`;
      expected.push(body);
    }
    const bytes = Buffer.from(stream, 'latin1');
    for (let round = 0; round < 20; round += 1) {
      const framer = new SyslogFramer();
      const frames: SyslogFrame[] = [];
      for (let at = 0; at < bytes.length;) {
        const size = 1 + Math.floor(random() * 700);
        frames.push(...framer.push(bytes.subarray(at, at + size)));
        at += size;
      }
      frames.push(...framer.end());
      expect(texts(frames)).toEqual(expected);
    }
  });
});

describe('syslog framing caps the message size', () => {
  it('cuts a 10 MB line at the cap, records its size, skips the rest without holding it, and keeps the next line', () => {
    const cap = 64 * 1024;
    const framer = new SyslogFramer(cap);
    const long = Buffer.alloc(10 << 20, 0x61);
    long.write('<13>Nov 26 10:00:00 host app: ');
    const frames: SyslogFrame[] = [];
    let mostRetained = 0;
    for (let at = 0; at < long.length; at += 65_536) {
      frames.push(...framer.push(long.subarray(at, at + 65_536)));
      mostRetained = Math.max(mostRetained, framer.retainedBytes);
    }
    expect(frames).toEqual([]);
    frames.push(...framer.push(Buffer.from(`\n${valid(1)}\n`)));
    expect(mostRetained).toBe(cap);
    expect(frames).toHaveLength(2);
    expect(frames[0]!.message.equals(long.subarray(0, cap))).toBe(true);
    expect(frames[0]!.originalBytes).toBe(10 << 20);
    expect(frames[1]).toEqual({ message: Buffer.from(valid(1)) });
    expect(framer.retainedBytes).toBe(0);
  });

  it('cuts an octet-counted frame longer than the cap on an octet-counted connection, and keeps the next frame', () => {
    const framer = new SyslogFramer(1024);
    const big = `<13>${'b'.repeat(5000)}`;
    const stream = Buffer.from(`7 <13>abc${big.length} ${big}7 <13>xyz`);
    const frames: SyslogFrame[] = [];
    for (let at = 0; at < stream.length; at += 100) {
      frames.push(...framer.push(stream.subarray(at, at + 100)));
      expect(framer.retainedBytes).toBeLessThanOrEqual(1024 + 16);
    }
    expect(texts(frames)).toEqual(['<13>abc', big.slice(0, 1024), '<13>xyz']);
    expect(frames.map((frame) => frame.originalBytes)).toEqual([undefined, big.length, undefined]);
  });

  it('joins a message split into many chunks once (each chunk is copied once, not the whole buffer per chunk)', () => {
    const framer = new SyslogFramer(1 << 20);
    const line = Buffer.alloc(900_000, 0x62);
    const frames: SyslogFrame[] = [];
    for (let at = 0; at < line.length; at += 10) frames.push(...framer.push(line.subarray(at, at + 10)));
    expect(framer.retainedBytes).toBe(line.length);
    frames.push(...framer.push(Buffer.from('\n')));
    expect(frames).toHaveLength(1);
    expect(frames[0]!.message.equals(line)).toBe(true);
  });
});
