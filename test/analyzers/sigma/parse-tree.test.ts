/**
 * The typed rule tree parse.ts hands out (issue #17, sigma-go's layering): every field typed, and the
 * shape problems the compiler used to find reported at parse time, with the compiler's messages, the
 * line and the rule id, the document left out (and counted by `rules lint` as a rule not compiled).
 */
import { describe, expect, it } from 'vitest';
import {
  compileCorrelation, compileRuleSet, identityMapping, parseRuleText, parseTimespan, readAlertPolicy, type RuleDocument,
} from '../../../analyzers/index.js';

const ID = '11111111-1111-4111-8111-111111111111';

function only<K extends RuleDocument['kind']>(text: string, kind: K): Extract<RuleDocument, { kind: K }> {
  const parsed = parseRuleText(text, 'tree.yml');
  expect(parsed.problems.filter((p) => p.severity === 'error')).toEqual([]);
  expect(parsed.documents).toHaveLength(1);
  const [doc] = parsed.documents;
  expect(doc!.kind).toBe(kind);
  return doc as Extract<RuleDocument, { kind: K }>;
}

/** The errors of one document, as `line message [ruleId]`, and whether it was left out. */
function errorsOf(text: string) {
  const parsed = parseRuleText(text, 'tree.yml');
  return {
    errors: parsed.problems.filter((p) => p.severity === 'error').map((p) => `${p.line} ${p.message}${p.ruleId ? ` [${p.ruleId}]` : ''}`),
    documents: parsed.documents.length,
    rejected: parsed.rejected,
  };
}

const DETECTION = `title: Suspicious shell
id: ${ID}
name: susp_shell
status: test
description: A shell started by a web server
author: Shouwang
date: 2026-11-01
modified: 2026-12-01
references: [https://example.org/a, https://example.org/b]
level: high
tags: [attack.execution, mlps.8.1.4.3]
logsource: { product: linux, category: process_creation, service: auditd }
detection:
  selection:
    ParentImage|endswith: [/nginx, /httpd]
    Image|endswith|cased: /sh
  keywords:
    - reverse shell
    - 42
  mixed:
    - nc -e
    - CommandLine|contains|all: [bash, -i]
  filter:
    User: null
  condition: (selection or keywords or mixed) and not filter
fields: [CommandLine, User]
falsepositives: [admin scripts]
shouwang:
  suppress: 30m
  group_by: [host.name]
x-shouwang-response: { zh: 隔离主机, en: isolate the host }
extrametadata: foo
`;

describe('parse: the typed detection rule', () => {
  it('types every field of a detection rule', () => {
    const doc = only(DETECTION, 'detection');
    expect(doc).toMatchObject({
      id: ID, name: 'susp_shell', title: 'Suspicious shell', status: 'test', level: 'high', description: 'A shell started by a web server',
      author: 'Shouwang', date: '2026-11-01', modified: '2026-12-01', references: ['https://example.org/a', 'https://example.org/b'],
      tags: ['attack.execution', 'mlps.8.1.4.3'], logsource: { product: 'linux', category: 'process_creation', service: 'auditd' },
      fields: ['CommandLine', 'User'], falsepositives: ['admin scripts'], position: { file: 'tree.yml', line: 1 },
    });
    expect(doc.custom).toEqual({
      shouwang: { suppressMs: 1_800_000, groupBy: ['host.name'] },
      other: { 'x-shouwang-response': { zh: '隔离主机', en: 'isolate the host' }, extrametadata: 'foo' },
    });
    const { searches, condition, conditionTrees, path } = doc.detection;
    expect(path).toBe('detection');
    expect([...searches.keys()]).toEqual(['selection', 'keywords', 'mixed', 'filter']);
    expect(searches.get('selection')).toEqual({
      type: 'fields', path: 'detection.selection', matchers: [
        { field: 'ParentImage', modifiers: ['endswith'], values: ['/nginx', '/httpd'], path: 'detection.selection.ParentImage|endswith' },
        { field: 'Image', modifiers: ['endswith', 'cased'], values: ['/sh'], path: 'detection.selection.Image|endswith|cased' },
      ],
    });
    expect(searches.get('keywords')).toEqual({ type: 'any', keywords: ['reverse shell', 42], maps: [], path: 'detection.keywords' });
    expect(searches.get('mixed')).toEqual({
      type: 'any', keywords: ['nc -e'], path: 'detection.mixed', maps: [{
        path: 'detection.mixed[1]',
        matchers: [{ field: 'CommandLine', modifiers: ['contains', 'all'], values: ['bash', '-i'], path: 'detection.mixed[1].CommandLine|contains|all' }],
      }],
    });
    expect(searches.get('filter')).toMatchObject({ type: 'fields', matchers: [{ field: 'User', modifiers: [], values: [null] }] });
    expect(condition).toEqual(['(selection or keywords or mixed) and not filter']);
    expect(conditionTrees).toEqual([{
      type: 'and', items: [
        { type: 'or', items: [{ type: 'ref', name: 'selection' }, { type: 'ref', name: 'keywords' }, { type: 'ref', name: 'mixed' }] },
        { type: 'not', item: { type: 'ref', name: 'filter' } },
      ],
    }]);
    expect(readAlertPolicy(doc)).toEqual({ suppressMs: 1_800_000, groupBy: ['host.name'] });
  });

  it('compiles from the tree alone: the raw body plays no part', () => {
    const doc = only(DETECTION, 'detection');
    const detached = { ...doc, body: {} };
    const set = compileRuleSet([detached], { mapping: identityMapping() });
    expect(set.problems).toEqual([]);
    expect(set.match({ ParentImage: '/usr/sbin/nginx', Image: '/bin/sh', User: 'www' })).toHaveLength(1);
    expect(set.match({ message: 'a REVERSE SHELL here', User: 'www' })).toHaveLength(1);
    expect(set.match({ CommandLine: 'bash -i >& /dev/tcp/x', User: 'www' })).toHaveLength(1);
    expect(set.match({ ParentImage: '/usr/sbin/nginx', Image: '/bin/SH', User: 'www' })).toHaveLength(0);
    expect(set.match({ ParentImage: '/usr/sbin/nginx', Image: '/bin/sh' })).toHaveLength(0);
  });

  it('keeps a condition list and a scalar keyword search', () => {
    const doc = only(`title: t\nid: ${ID}\nlevel: low\nlogsource: {product: linux}\ndetection:\n  a: evil\n  b: {x: 1}\n  condition: [a, b]\n`, 'detection');
    expect(doc.detection.searches.get('a')).toEqual({ type: 'any', keywords: ['evil'], maps: [], path: 'detection.a' });
    expect(doc.detection.condition).toEqual(['a', 'b']);
    expect(doc.detection.conditionTrees).toEqual([{ type: 'ref', name: 'a' }, { type: 'ref', name: 'b' }]);
  });
});

describe('parse: the typed correlation and filter', () => {
  it('types a correlation: type, rules, group-by, timespan in ms, condition, aliases, generate', () => {
    const doc = only(`title: Spray
id: ${ID}
level: high
generate: true
correlation:
  type: value_count
  rules: [ssh_fail, rdp_fail]
  group-by: [ip]
  timespan: 2h
  aliases:
    ip: { ssh_fail: source.ip, rdp_fail: client.ip }
  condition: { field: user.name, gte: 5, lt: 100 }
`, 'correlation');
    expect(doc.correlation).toEqual({
      type: 'value_count', rules: ['ssh_fail', 'rdp_fail'], groupBy: ['ip'], timespanMs: 7_200_000,
      comparisons: [['gte', 5], ['lt', 100]], fields: ['user.name'], percentile: 50,
      aliases: { ip: { ssh_fail: 'source.ip', rdp_fail: 'client.ip' } }, generate: true,
    });
    expect(compileCorrelation(doc)).toMatchObject({ type: 'value_count', timespanMs: 7_200_000, generate: true, eager: false, line: 7 });
  });

  it('types a filter: the rules it names and its selections', () => {
    const doc = only(`title: Not the backup host
id: ${ID}
logsource: { product: linux }
filter:
  rules: [susp_shell]
  host:
    host.name: backup-01
  condition: not host
`, 'filter');
    expect(doc.rules).toEqual(['susp_shell']);
    expect(doc.filter.path).toBe('filter');
    expect(doc.filter.searches.get('host')).toEqual({
      type: 'fields', path: 'filter.host', matchers: [{ field: 'host.name', modifiers: [], values: ['backup-01'], path: 'filter.host.host.name' }],
    });
  });
});

const rule = (detection: string) => `title: t\nid: ${ID}\nlevel: low\nlogsource: {product: linux}\ndetection:\n${detection}`;

describe('parse: shape errors the compiler used to find (same messages, with line and rule id)', () => {
  const cases: [string, string, string][] = [
    ['an unknown modifier', '  sel:\n    message|sortof: x\n  condition: sel\n', `7 message|sortof: 未知修饰符 unknown modifier "sortof"`],
    ['a sub-modifier before its modifier', '  sel:\n    a|i|re: x\n  condition: sel\n', '7 a|i|re: "i" is a sub-modifier of "re" and must follow it'],
    ['two comparison modes', '  sel:\n    a|cidr|re: x\n  condition: sel\n', '7 a|cidr|re: "re" cannot be combined with "cidr"'],
    ['a transformation after a comparison', '  sel:\n    a|re|contains: x\n  condition: sel\n', '7 a|re|contains: "contains" cannot follow "re"'],
    ['an empty selection list', '  sel: []\n  condition: sel\n', '6 搜索标识符为空列表 search identifier is an empty list'],
    ['an empty selection map', '  sel: {}\n  condition: sel\n', '6 搜索标识符为空映射 search identifier is an empty map'],
    ['a null selection', '  sel:\n  condition: sel\n', '6 搜索标识符必须是映射或列表 search identifier must be a map or a list'],
    ['a boolean selection', '  sel: true\n  condition: sel\n', '6 搜索标识符必须是映射或列表 search identifier must be a map or a list'],
    ['an empty value list', '  sel:\n    a: []\n  condition: sel\n', '7 a: 值列表为空 empty list of values'],
    ['a map as a value', '  sel:\n    a: {b: c}\n  condition: sel\n', '7 不支持的值 unsupported value {"b":"c"}: expected a string, number, boolean or null'],
    ['a nested list as a keyword', '  sel:\n    - [a, b]\n  condition: sel\n', '6 不支持的值 unsupported value ["a","b"]: expected a string, number, boolean or null'],
    ['exists without a boolean', '  sel:\n    a|exists: yes\n  condition: sel\n', '7 exists 需要 true 或 false / exists takes true or false'],
    ['a keyword search comparing', '  sel:\n    "|cidr": 10.0.0.0/8\n  condition: sel\n', '7 keyword search cannot use "cidr"'],
    ['a regex that is not text', '  sel:\n    a|re: 5\n  condition: sel\n', '7 re 需要正则表达式字符串 re takes a regular expression string'],
    ['a fieldref that is not a name', '  sel:\n    a|fieldref: [b, ~]\n  condition: sel\n', '7 fieldref 需要字段名 fieldref takes a field name'],
    ['a comparison with text', '  sel:\n    a|gte: many\n  condition: sel\n', '7 需要数字 expected a number, got "many"'],
    ['a comparison with a boolean', '  sel:\n    a|hour: true\n  condition: sel\n', '7 需要数字 expected a number, got {"kind":"bool","value":true}'],
    ['a condition that is not text', '  sel: {a: b}\n  condition: 42\n', '7 condition 必须是非空字符串或字符串列表 must be a non-empty string or a list of strings'],
    ['an empty condition list', '  sel: {a: b}\n  condition: []\n', '7 condition 必须是非空字符串或字符串列表 must be a non-empty string or a list of strings'],
    ['a condition syntax error', '  sel: {a: b}\n  condition: sel and\n', '7 condition: 条件不完整 condition ends too early (column 8)'],
    ['an unknown identifier', '  sel: {a: b}\n  condition: sel or other\n', '7 condition 引用了不存在的标识符 refers to unknown search identifier "other"'],
    ['an of-pattern matching nothing', '  sel: {a: b}\n  condition: 1 of filter*\n', '7 condition: "filter*" 没有匹配的标识符 matches no search identifier'],
  ];
  for (const [what, detection, expected] of cases) {
    it(`reports ${what} and leaves the rule out`, () => {
      const { errors, documents, rejected } = errorsOf(rule(detection));
      expect(errors).toHaveLength(1);
      expect(errors[0]!.startsWith(expected.split(' ')[0]!)).toBe(true);
      expect(errors[0]).toContain(expected.slice(expected.indexOf(' ') + 1));
      expect(errors[0]!.endsWith(`[${ID}]`)).toBe(true);
      expect(documents).toBe(0);
      expect(rejected).toEqual([{ kind: 'detection', id: ID }]);
    });
  }

  it('reports the first problem in the order the compiler met them: searches as written, then the condition', () => {
    const { errors } = errorsOf(rule('  a: {x|nope: 1}\n  b: []\n  condition: a and missing\n'));
    expect(errors).toEqual([expect.stringMatching(/^6 x\|nope: 未知修饰符 unknown modifier "nope"/)]);
  });

  it('points into a list at the map that holds the problem', () => {
    const { errors } = errorsOf(rule('  sel:\n    - a: 1\n    - kw\n    - b|bad: 2\n  condition: sel\n'));
    expect(errors).toEqual([expect.stringMatching(/^9 b\|bad: 未知修饰符 unknown modifier "bad"/)]);
  });

  it('reports a filter that names no rule, or a broken filter selection', () => {
    const filter = (body: string) => `title: f\nid: ${ID}\nlogsource: {product: linux}\nfilter:\n${body}`;
    expect(errorsOf(filter('  rules: [{a: b}]\n  sel: {x: 1}\n  condition: not sel\n'))).toEqual({
      errors: [`5 filter.rules 应为规则 id 或名称列表 / must list rule ids or names [${ID}]`], documents: 0, rejected: [{ kind: 'filter', id: ID }],
    });
    expect(errorsOf(filter('  rules: r1\n  sel: {x|zz: 1}\n  condition: not sel\n')).errors).toEqual([
      expect.stringMatching(new RegExp(`^6 x\\|zz: 未知修饰符 unknown modifier "zz".*\\[${ID}\\]$`)),
    ]);
  });

  it('reports every problem of a correlation, bad timespan included, and leaves it out', () => {
    const { errors, documents, rejected } = errorsOf(`title: c
id: ${ID}
level: high
correlation:
  type: event_count
  rules: [a]
  timespan: 5 minutes
  condition: { gte: many }
`);
    expect(errors).toEqual([
      `7 correlation.timespan: expected a number and s, m, h, d or w such as 5m or 1h, at most a year, got "5 minutes" [${ID}]`,
      `8 correlation.condition.gte: expected a number, got "many" [${ID}]`,
      `8 correlation.condition: needs one of gt, gte, lt, lte, eq, neq [${ID}]`,
    ]);
    expect(documents).toBe(0);
    expect(rejected).toEqual([{ kind: 'correlation', id: ID }]);
  });

  it('refuses a timespan or suppression past a year, which would make Infinity and NaN windows', () => {
    const { errors } = errorsOf(`title: c
id: ${ID}
level: high
correlation:
  type: event_count
  rules: [a]
  timespan: 99999999999999999999999w
  condition: { gte: 2 }
`);
    expect(errors[0]).toMatch(/^7 correlation\.timespan: .*at most a year, got "99999999999999999999999w"/);
    expect(parseTimespan('366d')).toBe(366 * 86_400_000);
    expect(parseTimespan('367d')).toBeUndefined();
    expect(parseTimespan('53w')).toBeUndefined();
  });

  it('reports a bad shouwang attribute but keeps the rule, with the alert defaults', () => {
    const text = `${rule('  sel: {a: b}\n  condition: sel\n')}shouwang: { suppress: soon }\n`;
    const { errors, documents } = errorsOf(text);
    expect(errors).toEqual([`8 shouwang.suppress: expected a duration such as 30m or 1h, at most a year, got "soon" [${ID}]`]);
    expect(documents).toBe(1);
    expect(readAlertPolicy(parseRuleText(text, 'tree.yml').documents[0]!)).toEqual({ suppressMs: 3_600_000 });
  });

  it('leaves value types after a transformation to the compiler, which knows what it made of them', () => {
    const parsed = parseRuleText(rule('  sel:\n    a|expand|re: 5\n    b|fieldref|endswith: c\n  condition: sel\n'), 'tree.yml');
    expect(parsed.problems.filter((p) => p.severity === 'error')).toEqual([]);
    const set = compileRuleSet(parsed.documents, { mapping: identityMapping(), placeholders: {} });
    expect(set.problems).toEqual([]);
    expect(set.match({ a: 'x5x', b: 'abc', c: 'bc' })).toHaveLength(1);
  });

  it('leaves to the compiler what depends on values, the mapping or placeholders', () => {
    const parsed = parseRuleText(rule('  sel:\n    a|re: "(a+)+$"\n    b|expand: "%nowhere%"\n  condition: sel\n'), 'tree.yml');
    expect(parsed.problems.filter((p) => p.severity === 'error')).toEqual([]);
    const set = compileRuleSet(parsed.documents, { mapping: identityMapping() });
    expect(set.problems.map((p) => `${p.line} ${p.message.slice(0, 30)}`)).toEqual([expect.stringMatching(/^7 /)]);
  });
});

describe('parse: values that crashed loading (found by the shape fuzz)', () => {
  it('reports a selection that holds itself through a YAML alias instead of throwing', () => {
    expect(errorsOf(rule('  a: &self {k: *self}\n  condition: a\n')).errors).toEqual([
      `6 不支持的值 unsupported value [一个引用自身的值 a value that refers to itself]: expected a string, number, boolean or null [${ID}]`,
    ]);
  });

  it('reports a level that holds itself through a YAML alias instead of throwing', () => {
    const { errors } = errorsOf(`title: t\nid: ${ID}\nlevel: &l [*l]\nlogsource: {product: linux}\ndetection: {a: {f: x}, condition: a}\n`);
    expect(errors).toEqual([expect.stringMatching(/^3 未知 level \[一个引用自身的值 a value that refers to itself\] \/ unknown level/)]);
  });

  it('reports a null in a keyword list instead of throwing while compiling', () => {
    expect(errorsOf(rule('  a: [~, evil]\n  condition: a\n')).errors).toEqual([`6 "keyword" cannot apply to null [${ID}]`]);
  });
});

