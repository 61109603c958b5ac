import { describe, expect, it } from 'vitest';
import {
  compileDetection, DetectionError, fieldGetter, identityMapping, MODIFIERS, parseCondition, resolveLogsource,
  type DetectionContext, type FieldMapping,
} from '../../../analyzers/index.js';

const context = (overrides: Partial<DetectionContext> = {}): DetectionContext => ({
  resolveField: (name) => [name],
  keywordFields: ['message'],
  placeholders: {},
  timeOffsetMinutes: 0,
  ...overrides,
});

/** A detection with one selection `sel` over the given field key and values. */
function field(key: string, value: unknown, overrides: Partial<DetectionContext> = {}) {
  return compileDetection({ sel: { [key]: value }, condition: 'sel' }, context(overrides));
}

describe('values and wildcards', () => {
  it('matches case-insensitively by default, exactly when cased', () => {
    const plain = field('a', 'Hello');
    expect(plain({ a: 'hello' })).toBe(true);
    expect(plain({ a: 'hello!' })).toBe(false);
    const cased = field('a|cased', 'Hello');
    expect(cased({ a: 'Hello' })).toBe(true);
    expect(cased({ a: 'hello' })).toBe(false);
  });

  it('* and ? are wildcards; \\* \\? \\\\ escape them; a lone backslash is literal', () => {
    expect(field('a', 'ab*z')({ a: 'abXYZz' })).toBe(true);
    expect(field('a', 'a?c')({ a: 'abc' })).toBe(true);
    expect(field('a', 'a?c')({ a: 'abbc' })).toBe(false);
    expect(field('a', 'a\\*c')({ a: 'a*c' })).toBe(true);
    expect(field('a', 'a\\*c')({ a: 'abc' })).toBe(false);
    expect(field('a', 'C:\\Windows\\*')({ a: 'C:\\Windows\\x.exe' })).toBe(false);
    expect(field('a', 'C:\\Windows\\\\*')({ a: 'C:\\Windows\\x.exe' })).toBe(true);
    expect(field('a', 'C:\\Windows\\cmd.exe')({ a: 'c:\\windows\\CMD.EXE' })).toBe(true);
    expect(field('a', 'x\\\\\\*')({ a: 'x\\*' })).toBe(true);
  });

  it('lists are OR, maps are AND, numbers compare as text, arrays match by any element', () => {
    const detect = compileDetection({ sel: { a: [1, 'two'], b: 'x' }, condition: 'sel' }, context());
    expect(detect({ a: '1', b: 'x' })).toBe(true);
    expect(detect({ a: 1, b: 'x' })).toBe(true);
    expect(detect({ a: 'TWO', b: 'x' })).toBe(true);
    expect(detect({ a: 'two' })).toBe(false);
    expect(detect({ a: ['zero', 'two'], b: 'X' })).toBe(true);
  });

  it('null means the field is absent; exists checks presence', () => {
    expect(field('a', null)({ b: 1 })).toBe(true);
    expect(field('a', null)({ a: 'x' })).toBe(false);
    expect(field('a|exists', true)({ a: '' })).toBe(true);
    expect(field('a|exists', true)({ b: 1 })).toBe(false);
    expect(field('a|exists', false)({ b: 1 })).toBe(true);
  });

  it('reads nested ECS objects and dotted keys', () => {
    const detect = field('process.command_line|contains', 'wget');
    expect(detect({ process: { command_line: 'wget http://x' } })).toBe(true);
    expect(detect({ 'process.command_line': 'WGET http://x' })).toBe(true);
    expect(detect({ process: { 'command_line': 'curl' } })).toBe(false);
    expect(fieldGetter('a.b.c')({ a: { 'b.c': 5 } })).toBe(5);
  });

  it('a list of plain values is a keyword search over the message', () => {
    const detect = compileDetection({ keywords: ['evil thing', 'bad*word'], condition: 'keywords' }, context());
    expect(detect({ message: 'an EVIL THING happened' })).toBe(true);
    expect(detect({ message: 'bad and then a word' })).toBe(true);
    expect(detect({ message: 'fine' })).toBe(false);
    const all = compileDetection({ keywords: { '|all': ['one', 'two'] }, condition: 'keywords' }, context());
    expect(all({ message: 'two then one' })).toBe(true);
    expect(all({ message: 'only one' })).toBe(false);
  });
});

describe('modifiers', () => {
  it('contains, startswith, endswith', () => {
    expect(field('a|contains', 'mid')({ a: 'xMIDy' })).toBe(true);
    expect(field('a|startswith', 'st')({ a: 'start' })).toBe(true);
    expect(field('a|startswith', 'st')({ a: 'a start' })).toBe(false);
    expect(field('a|endswith', '.exe')({ a: 'x.EXE' })).toBe(true);
    expect(field('a|endswith', '.exe')({ a: 'x.exe.txt' })).toBe(false);
  });

  it('all turns a list into AND', () => {
    const detect = field('a|contains|all', ['-x', '-y']);
    expect(detect({ a: 'cmd -y -x' })).toBe(true);
    expect(detect({ a: 'cmd -x' })).toBe(false);
  });

  it('neq: the field differs from every value', () => {
    const detect = field('a|neq', ['x', 'y']);
    expect(detect({ a: 'z' })).toBe(true);
    expect(detect({ a: 'Y' })).toBe(false);
  });

  it('windash: every dash character at flag positions', () => {
    const detect = field('a|windash|contains', ' -c ');
    for (const dash of ['-', '/', '\u2013', '\u2014', '\u2015']) expect(detect({ a: `powershell ${dash}c foo` })).toBe(true);
    expect(detect({ a: 'powershell c foo' })).toBe(false);
  });

  it('re with i, m and s sub-modifiers and PCRE inline flags; case-sensitive by default', () => {
    expect(field('a|re', '^ab+c$')({ a: 'abbbc' })).toBe(true);
    expect(field('a|re', '^ab+c$')({ a: 'ABBC' })).toBe(false);
    expect(field('a|re|i', '^ab+c$')({ a: 'ABBC' })).toBe(true);
    expect(field('a|re', '(?i)^ab+c$')({ a: 'ABBC' })).toBe(true);
    expect(field('a|re', '^two$')({ a: 'one\ntwo' })).toBe(false);
    expect(field('a|re|m', '^two$')({ a: 'one\ntwo' })).toBe(true);
    expect(field('a|re', 'one.two')({ a: 'one\ntwo' })).toBe(false);
    expect(field('a|re|s', 'one.two')({ a: 'one\ntwo' })).toBe(true);
    expect(() => field('a|i', 'x')).toThrow(/sub-modifier/);
  });

  it('base64, base64offset, utf16le/be, utf16, wide', () => {
    expect(field('a|base64', 'hello')({ a: Buffer.from('hello').toString('base64') })).toBe(true);
    const offset = field('a|base64offset|contains', 'http://');
    for (const prefix of ['', 'x', 'xy']) {
      expect(offset({ a: Buffer.from(`${prefix}http://evil.example/`).toString('base64') })).toBe(true);
    }
    expect(offset({ a: Buffer.from('https://fine.example/').toString('base64') })).toBe(false);
    const utf16 = (text: string, encoding: 'utf16le') => Buffer.from(text, encoding);
    expect(field('a|wide|base64', 'cmd')({ a: utf16('cmd', 'utf16le').toString('base64') })).toBe(true);
    expect(field('a|utf16le|base64', 'cmd')({ a: utf16('cmd', 'utf16le').toString('base64') })).toBe(true);
    expect(field('a|utf16be|base64', 'cmd')({ a: utf16('cmd', 'utf16le').swap16().toString('base64') })).toBe(true);
    expect(field('a|utf16|base64', 'cmd')({ a: Buffer.concat([Buffer.from([0xff, 0xfe]), utf16('cmd', 'utf16le')]).toString('base64') })).toBe(true);
    expect(() => field('a|base64', 'wild*')).toThrow(/wildcards/);
  });

  it('lt, lte, gt, gte on numbers and numeric text', () => {
    expect(field('n|lt', 10)({ n: 9 })).toBe(true);
    expect(field('n|lt', 10)({ n: 10 })).toBe(false);
    expect(field('n|lte', 10)({ n: '10' })).toBe(true);
    expect(field('n|gt', 10)({ n: 11 })).toBe(true);
    expect(field('n|gte', 10)({ n: 9 })).toBe(false);
    expect(field('n|gt', 10)({ n: 'many' })).toBe(false);
    expect(() => field('n|gt', 'ten')).toThrow(/number/);
  });

  it('minute, hour, day, week, month, year read the time in the configured zone', () => {
    const event = { '@timestamp': '2026-01-05T23:30:00Z' };
    expect(field('@timestamp|minute', 30)(event)).toBe(true);
    expect(field('@timestamp|hour', 23)(event)).toBe(true);
    expect(field('@timestamp|day', 5)(event)).toBe(true);
    expect(field('@timestamp|week', 2)(event)).toBe(true);
    expect(field('@timestamp|month', 1)(event)).toBe(true);
    expect(field('@timestamp|year', 2026)(event)).toBe(true);
    // 23:30 UTC is 07:30 the next day in Beijing: before office hours.
    const beijing = { timeOffsetMinutes: 480 };
    expect(field('@timestamp|hour|lt', 8, beijing)(event)).toBe(true);
    expect(field('@timestamp|day', 6, beijing)(event)).toBe(true);
  });

  it('cidr: IPv4 and IPv6 ranges', () => {
    const detect = field('ip|cidr', ['10.0.0.0/8', 'fc00::/7']);
    expect(detect({ ip: '10.1.2.3' })).toBe(true);
    expect(detect({ ip: '11.1.2.3' })).toBe(false);
    expect(detect({ ip: 'fd12::1' })).toBe(true);
    expect(detect({ ip: '2001:db8::1' })).toBe(false);
    expect(detect({ ip: 'not an ip' })).toBe(false);
    expect(() => field('ip|cidr', '10.0.0.0/33')).toThrow(/CIDR/);
  });

  it('expand replaces placeholders with their values; an unknown placeholder fails to compile', () => {
    const detect = field('host|expand', '%Servers%', { placeholders: { Servers: ['srv-*', 'db01'] } });
    expect(detect({ host: 'SRV-web' })).toBe(true);
    expect(detect({ host: 'db01' })).toBe(true);
    expect(detect({ host: 'pc01' })).toBe(false);
    expect(field('host', '%Servers%')({ host: '%servers%' })).toBe(true);
    expect(() => field('host|expand', '%Nope%')).toThrow(/%Nope%/);
  });

  it('fieldref compares two fields of the event, and with neq tells them apart', () => {
    expect(field('user.name|fieldref', 'user.target.name')({ user: { name: 'Root', target: { name: 'root' } } })).toBe(true);
    expect(field('user.name|fieldref', 'user.target.name')({ user: { name: 'ops', target: { name: 'root' } } })).toBe(false);
    expect(field('user.name|fieldref|neq', 'user.target.name')({ user: { name: 'ops', target: { name: 'root' } } })).toBe(true);
  });

  it('fieldref|endswith, |startswith and |contains compare with the referenced field (issue #17)', () => {
    const event = { process: { executable: 'C:\\Windows\\Temp\\svchost.exe', name: 'SVCHOST.EXE' } };
    expect(field('process.executable|fieldref|endswith', 'process.name')(event)).toBe(true);
    expect(field('process.executable|endswith|fieldref', 'process.name')(event)).toBe(true);
    expect(field('process.executable|fieldref|startswith', 'process.name')(event)).toBe(false);
    expect(field('process.executable|fieldref|contains', 'process.name')(event)).toBe(true);
    expect(field('process.executable|fieldref|endswith|cased', 'process.name')(event)).toBe(false);
    expect(field('process.executable|fieldref|endswith', 'process.missing')(event)).toBe(false);
    expect(() => field('a|fieldref|endswith|startswith', 'b')).toThrow(/cannot follow "endswith"/);
  });

  it('contains|expand wraps each placeholder value (2 SigmaHQ rules write it; issue #17)', () => {
    const detect = field('cmd|contains|expand', '%Tools%', { placeholders: { Tools: ['psexec', 'mimikatz'] } });
    expect(detect({ cmd: 'C:\\x\\PsExec.exe -s' })).toBe(true);
    expect(detect({ cmd: 'notepad' })).toBe(false);
  });

  it('an unknown modifier is a compile error naming it', () => {
    expect(() => field('a|sortof', 'x')).toThrow(DetectionError);
    expect(() => field('a|sortof', 'x')).toThrow(/unknown modifier "sortof"/);
  });

  it('every modifier of the specification is in the table', () => {
    const spec = ['contains', 'startswith', 'endswith', 'all', 'exists', 'cased', 'neq', 'windash', 're', 'i', 'm', 's', 'base64', 'base64offset',
      'utf16le', 'utf16be', 'utf16', 'wide', 'lt', 'lte', 'gt', 'gte', 'minute', 'hour', 'day', 'week', 'month', 'year', 'cidr', 'expand', 'fieldref'];
    expect(Object.keys(MODIFIERS).sort()).toEqual([...spec].sort());
  });
});

describe('conditions', () => {
  const detection = {
    sel_a: { a: 'x' },
    sel_b: { b: 'x' },
    _hidden: { h: 'x' },
    filter: { f: 'x' },
  };
  const detect = (condition: string | string[]) => compileDetection({ ...detection, condition }, context());

  it('and, or, not and parentheses with Sigma precedence', () => {
    expect(detect('sel_a and not filter')({ a: 'x' })).toBe(true);
    expect(detect('sel_a and not filter')({ a: 'x', f: 'x' })).toBe(false);
    // and binds tighter than or
    expect(detect('sel_a or sel_b and filter')({ a: 'x' })).toBe(true);
    expect(detect('(sel_a or sel_b) and filter')({ a: 'x' })).toBe(false);
    expect(detect('not sel_a and sel_b')({ b: 'x' })).toBe(true);
    // Operators in any case; identifiers are case-sensitive.
    expect(detect('sel_a AND NOT filter')({ a: 'x' })).toBe(true);
    expect(() => detect('SEL_A and not filter')).toThrow(/unknown search identifier "SEL_A"/);
  });

  it('1 of / all of a pattern, and them without _identifiers', () => {
    expect(detect('1 of sel_*')({ b: 'x' })).toBe(true);
    expect(detect('all of sel_*')({ b: 'x' })).toBe(false);
    expect(detect('all of sel_*')({ a: 'x', b: 'x' })).toBe(true);
    expect(detect('all of them')({ a: 'x', b: 'x', f: 'x' })).toBe(true);
    expect(detect('1 of them')({ h: 'x' })).toBe(false);
    expect(detect('1 of _*')({ h: 'x' })).toBe(true);
  });

  it('a list of conditions is OR', () => {
    expect(detect(['sel_a and sel_b', 'filter'])({ f: 'x' })).toBe(true);
    expect(detect(['sel_a and sel_b', 'filter'])({ a: 'x' })).toBe(false);
  });

  it('reports unknown identifiers, patterns that match nothing, syntax errors and v1 aggregations', () => {
    expect(() => detect('sel_c')).toThrow(/unknown search identifier "sel_c"/);
    expect(() => detect('1 of nope*')).toThrow(/matches no search identifier/);
    expect(() => detect('sel_a and (sel_b')).toThrow(/missing "\)"/);
    expect(() => detect('sel_a sel_b')).toThrow(/unexpected "sel_b"/);
    expect(() => detect('sel_a | count() > 5')).toThrow(/correlation rule/);
    expect(parseCondition('1 of sel* and not (a or b)')).toEqual({
      type: 'and',
      items: [{ type: 'of', count: 1, pattern: 'sel*' }, { type: 'not', item: { type: 'or', items: [{ type: 'ref', name: 'a' }, { type: 'ref', name: 'b' }] } }],
    });
  });
});

describe('field mapping resolution', () => {
  it('maps per logsource, most specific entry last, with a prefix for bare names only', () => {
    const mapping: FieldMapping = {
      ...identityMapping(),
      fields: { User: ['user.name'] },
      logsources: [
        { name: 'linux', logsource: { product: 'linux' }, fields: { Image: ['process.executable'] } },
        { name: 'auditd', logsource: { product: 'linux', service: 'auditd' }, when: { 'event.dataset': 'auditd.log' }, fields: { type: ['event.action'] }, unmappedPrefix: 'auditd.data.' },
      ],
    };
    const resolved = resolveLogsource(mapping, { product: 'Linux', service: 'auditd' });
    expect(resolved.entries.map((e) => e.name)).toEqual(['linux', 'auditd']);
    expect(resolved.resolveField('type')).toEqual(['event.action']);
    expect(resolved.resolveField('a0')).toEqual(['auditd.data.a0']);
    expect(resolved.resolveField('process.name')).toEqual(['process.name']);
    expect(resolved.resolveField('User')).toEqual(['user.name']);
    expect(resolveLogsource(mapping, { product: 'windows' }).entries).toEqual([]);
  });
});
