/**
 * The prefilter is an index: it may only skip rules that cannot match. Property test: random
 * events built from the rules' own values (case flipped, wrapped, dashes swapped, base64-encoded at
 * each offset, cut short, beyond ASCII, in arrays, nested or written as dotted keys) give exactly
 * what running every rule's compiled test one by one gives, in the same order.
 */
import { describe, expect, it } from 'vitest';
import {
  compileRuleSet, identityMapping, loadDefaultMapping, loadRuleDir, parseFieldMapping, parseRuleText, resolveLogsource,
  type FieldMapping, type RuleDocument,
} from '../../../analyzers/index.js';
import { isPlainObject, seededRandom } from '../../../core/index.js';
import { matchOneByOne } from './match-one-by-one.js';

type Event = Record<string, unknown>;

/** One search map (or keyword list) as what an event needs to meet it: per field, the event paths and the values named. */
type Template = { paths: readonly string[]; values: unknown[] }[];

function templatesOf(search: unknown, resolve: (field: string) => readonly string[], keywordFields: readonly string[], into: Template[]): void {
  const plain = (values: unknown[]) => values.filter((v) => v !== null && typeof v !== 'object');
  if (Array.isArray(search)) {
    const keywords = plain(search);
    if (keywords.length) into.push([{ paths: keywordFields, values: keywords }]);
    for (const item of search) if (isPlainObject(item)) templatesOf(item, resolve, keywordFields, into);
    return;
  }
  if (!isPlainObject(search)) {
    into.push([{ paths: keywordFields, values: plain([search]) }]);
    return;
  }
  into.push(Object.entries(search).map(([key, value]) => {
    const field = key.split('|')[0]!;
    return { paths: field === '' ? keywordFields : resolve(field), values: plain(Array.isArray(value) ? value : [value]) };
  }));
}

const NOISE = ['', ' ', 'x', '/usr/bin/', 'C:\\Windows\\', ' --now', 'é', 'İ', '\u212a', '-', '/', '\u2013', '"', '0', 'Σ'];

/**
 * Random events: the searches of one or two rules and of their logsource conditions, met with values
 * shaped as modifiers need them and as they would miss, plus a few fields from anywhere.
 */
function eventMaker(rules: readonly Template[][], seed: number): () => Event {
  const random = seededRandom(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const fields = rules.flat(2).filter((f) => f.paths.length && f.values.length);
  const shape = (value: unknown): unknown => {
    if (typeof value !== 'string') return random() < 0.3 ? String(value) : value;
    // A CIDR range: its first address, or one past it.
    if (/^[\d.:a-f]+\/\d+$/.test(value)) return random() < 0.7 ? value.replace(/\/\d+$/, '') : value.replace(/\/\d+$/, '1');
    let text = value.replace(/\*/g, () => pick(NOISE)).replace(/\?/g, () => pick(['a', 'Z', '-', 'é']));
    const roll = random();
    if (roll < 0.15) text = text.toUpperCase();
    else if (roll < 0.3) text = [...text].map((c) => (random() < 0.5 ? c.toUpperCase() : c.toLowerCase())).join('');
    else if (roll < 0.4) text = text.replace(/[-/\u2013]/g, () => pick(['-', '/', '\u2013', '\u2014']));
    else if (roll < 0.5) text = Buffer.from(pick(['', ' ', '  ']) + text).toString('base64');
    else if (roll < 0.55) text = text.slice(0, Math.floor(random() * text.length));
    else if (roll < 0.6) text = text.slice(1);
    if (random() < 0.4) text = pick(NOISE) + text;
    if (random() < 0.4) text += pick(NOISE);
    return text;
  };
  const set = (event: Event, path: string, value: unknown) => {
    if (random() < 0.1 || !path.includes('.')) {
      event[path] = value;
      return;
    }
    const parts = path.split('.');
    let node = event;
    for (const part of parts.slice(0, -1)) {
      const next = node[part];
      if (!isPlainObject(next)) node[part] = {};
      node = node[part] as Event;
    }
    node[parts[parts.length - 1]!] = value;
  };
  const fill = (event: Event, field: Template[number]) => {
    if (!field.paths.length || !field.values.length) return;
    const roll = random();
    const value = roll < 0.15 ? [shape(pick(field.values)), shape(pick(field.values))]
      : roll < 0.25 ? `${String(shape(pick(field.values)))} ${String(shape(pick(field.values)))}`
        : shape(pick(field.values));
    set(event, pick(field.paths), value);
  };
  return () => {
    const event: Event = {};
    const count = 1 + Math.floor(random() * 2);
    for (let i = 0; i < count; i += 1) {
      for (const search of pick(rules)) if (random() < 0.8) for (const field of search) if (random() < 0.95) fill(event, field);
    }
    const extra = Math.floor(random() * 4);
    for (let i = 0; i < extra; i += 1) fill(event, pick(fields));
    return event;
  };
}

/** Per rule (and filter): its searches and its logsource conditions. */
function templatesFor(documents: readonly RuleDocument[], mapping: FieldMapping): Template[][] {
  const rules: Template[][] = [];
  for (const doc of documents) {
    const body = doc.kind === 'filter' ? doc.body.filter : doc.kind === 'detection' ? doc.body.detection : undefined;
    if (!isPlainObject(body)) continue;
    const resolved = resolveLogsource(mapping, doc.logsource);
    const templates: Template[] = [];
    for (const [name, search] of Object.entries(body)) {
      if (name !== 'condition' && name !== 'rules') templatesOf(search, resolved.resolveField, mapping.keywordFields, templates);
    }
    for (const entry of resolved.entries) if (entry.when !== undefined) templatesOf(entry.when, (f) => [f], mapping.keywordFields, templates);
    rules.push(templates);
  }
  return rules;
}

const TRICKY = `
title: Literals in another case than the events
id: r01
logsource: { product: t, category: one }
level: low
detection:
  sel:
    Image|endswith: ['\\CertUtil.EXE', '/BASH']
    CommandLine|contains: ['-URLCache', 'VerifyCtl']
  condition: sel
---
title: Cased
id: r02
logsource: { product: t, category: one }
level: low
detection:
  sel: { CommandLine|cased|contains: 'RunOnce' }
  condition: sel
---
title: Windash and startswith
id: r03
logsource: { product: t, category: two }
level: low
detection:
  sel: { CommandLine|windash|contains: [' -enc ', ' -e '], Image|startswith: '/usr/' }
  condition: sel
---
title: Regex alone
id: r04
logsource: { product: t, category: two }
level: low
detection:
  sel: { CommandLine|re: '(?i)invoke-(web|rest)' }
  condition: sel
---
title: Regex with a literal elsewhere
id: r05
level: low
logsource: { product: t, category: one }
detection:
  sel1: { CommandLine|re: 'a.b' }
  sel2: { Image|endswith: curl }
  condition: sel1 and sel2
---
title: CIDR
id: r06
level: low
logsource: { product: t }
detection:
  sel: { DestinationIp|cidr: ['10.0.0.0/8', '2001:db8::/32'], Image|endswith: nc }
  condition: sel
---
title: base64offset
id: r07
level: low
logsource: { product: t, category: one }
detection:
  sel: { CommandLine|base64offset|contains: ['whoami', 'id -u'] }
  condition: sel
---
title: base64 exact
id: r08
level: low
logsource: { product: t, category: two }
detection:
  sel: { CommandLine|base64: 'secret' }
  condition: sel
---
title: And not
id: r09
level: low
logsource: { product: t, category: one }
detection:
  sel: { Image|endswith: '/sh' }
  filter: { ParentImage|contains: 'sshd' }
  condition: sel and not filter
---
title: Not alone
id: r10
level: low
logsource: { product: t, category: two }
detection:
  filter: { User: root }
  condition: not filter
---
title: 1 of them
id: r11
level: low
logsource: { product: t, category: one }
detection:
  sel_a: { Image|endswith: 'wget' }
  sel_b: { CommandLine|contains: 'curl ' }
  sel_c: { User|re: '^adm' }
  condition: 1 of them
---
title: 1 of them, all with literals
id: r12
level: low
logsource: { product: t, category: two }
detection:
  sel_a: { Image|endswith: 'wget' }
  sel_b: { CommandLine|contains: 'curl ' }
  condition: 1 of them
---
title: all of sel and contains all
id: r13
level: low
logsource: { product: t, category: one }
detection:
  sel_a: { Image|contains: 'python' }
  sel_b: { CommandLine|contains|all: ['pty', 'spawn'] }
  condition: all of sel*
---
title: 2 of sel
id: r14
level: low
logsource: { product: t, category: two }
detection:
  sel_a: { Image|endswith: 'nc' }
  sel_b: { CommandLine|contains: ' -e ' }
  sel_c: { User: [root, admin] }
  condition: 2 of sel*
---
title: Keywords
id: r15
level: low
logsource: { product: t, service: auth }
detection:
  keywords: ['Failed password', 'AUTHENTICATION FAILURE', '*session opened*root*']
  condition: keywords
---
title: Null and exists
id: r16
level: low
logsource: { product: t, category: one }
detection:
  sel: { ParentImage: [null, '/bin/sh'], Image|endswith: '/tar' }
  sel2: { ParentCommandLine|exists: true }
  condition: sel and sel2
---
title: neq
id: r17
level: low
logsource: { product: t, category: one }
detection:
  sel: { User|neq: root, Image|endswith: '/su' }
  condition: sel
---
title: Numbers
id: r18
level: low
logsource: { product: t, category: two }
detection:
  sel: { ProcessId: 4, DestinationPort: [22, '3389'] }
  condition: sel
---
title: Single-character wildcards
id: r19
level: low
logsource: { product: t, category: one }
detection:
  sel: { Image|endswith: '/p?thon*', CommandLine: '*chmod*+x*' }
  condition: sel
---
title: fieldref
id: r20
level: low
logsource: { product: t, category: two }
detection:
  sel: { User|fieldref: TargetUser, Image|endswith: 'sudo' }
  condition: sel
---
title: Beyond ASCII
id: r21
level: low
logsource: { product: t, service: nested }
detection:
  sel: { CommandLine|contains: ['İstanbul', 'café', 'K'] }
  sel2: { CommandLine|cased|contains: 'Ünïcode' }
  condition: 1 of sel*
---
title: Nested fields under a mapping
id: r22
level: low
logsource: { product: t, service: nested }
detection:
  sel: { Image|endswith: '/BASH', CommandLine|contains|all: ['-c', 'Uptime'] }
  condition: sel
---
title: Filtered
id: r23
level: low
logsource: { product: t, category: one }
detection:
  sel: { CommandLine|contains: 'curl ' }
  condition: sel
---
title: Not for the backup user
logsource: { product: t, category: one }
filter:
  rules: [r23]
  sel: { User|startswith: 'BACK' }
  condition: sel
---
title: Several conditions
id: r24
level: low
logsource: { product: t, category: two }
detection:
  a: { Image|endswith: wget }
  b: { CommandLine|contains: 'http' }
  c: { User: root }
  condition: [a and b, not c and b]
`;

const MAPPING = `
keywordFields: [message]
logsources:
  - name: one
    logsource: { product: t, category: one }
    when: { kind: one }
  - name: two
    logsource: { product: t, category: two }
    when: { kind: [two, both] }
  - name: auth
    logsource: { product: t, service: auth }
    when: [{ facility: [4, 10] }, { process.name: [sshd, 'su(*'] }]
  - name: nested
    logsource: { product: t, service: nested }
    when: { event.category: process }
    fields: { Image: process.executable, CommandLine: process.command_line }
`;

describe('prefilter index: never skips a rule that matches (property test, fixed seed)', () => {
  it('tricky rules (case, cased, windash, re, cidr, base64offset, not, 1/2/all of, keywords, null, neq, filters) over several logsources', () => {
    const mapping = parseFieldMapping(MAPPING, 'test.yaml');
    const { documents, problems } = parseRuleText(TRICKY, 'tricky.yml');
    expect(problems.filter((p) => p.severity === 'error')).toEqual([]);
    const set = compileRuleSet(documents, { mapping });
    expect(set.problems).toEqual([]);
    const expected = matchOneByOne(set, mapping);
    // Values a regex or a field reference accepts, which the rules' own text does not hold.
    const helpers: Template[][] = [
      [[{ paths: ['CommandLine'], values: ['Invoke-WebRequest http://x', 'axb'] }], [{ paths: ['User'], values: ['adm1', 'Admin'] }]],
      [[{ paths: ['User'], values: ['alice'] }, { paths: ['TargetUser'], values: ['alice'] }, { paths: ['Image'], values: ['/usr/bin/sudo'] }, { paths: ['kind'], values: ['two'] }]],
    ];
    const next = eventMaker([...templatesFor(documents, mapping), ...helpers], 19);
    const matchedBy = new Map<string, number>();
    for (let i = 0; i < 10_000; i += 1) {
      const event = next();
      const want = expected(event);
      expect(set.match(event).map((r) => r.id), JSON.stringify(event)).toEqual(want);
      for (const id of want) matchedBy.set(id, (matchedBy.get(id) ?? 0) + 1);
    }
    // The events reach the rules: most of them match some of the time.
    expect(matchedBy.size, [...matchedBy.keys()].join(' ')).toBeGreaterThanOrEqual(23);
  });

  // Rules that match at least once (of about 400): the events reach much of the pack.
  for (const [name, mapping, seed, reached] of [['the default mapping', loadDefaultMapping(), 23, 80], ['raw field names', identityMapping(), 29, 150]] as const) {
    it(`SigmaHQ fixtures and our rule pack, ${name}`, async () => {
      const documents = [...(await loadRuleDir('test/fixtures/sigma/rules')).documents, ...(await loadRuleDir('rules')).documents];
      const set = compileRuleSet(documents, { mapping });
      const expected = matchOneByOne(set, mapping);
      const next = eventMaker(templatesFor(documents, mapping), seed);
      const matchedBy = new Set<string>();
      for (let i = 0; i < 4_000; i += 1) {
        const event = next();
        const want = expected(event);
        expect(set.match(event).map((r) => r.id), JSON.stringify(event)).toEqual(want);
        for (const id of want) matchedBy.add(id);
      }
      expect(matchedBy.size).toBeGreaterThan(reached);
    });
  }
});
