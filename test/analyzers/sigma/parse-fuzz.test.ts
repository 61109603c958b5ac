/**
 * Fuzz corpus for rule YAML (issue #17): real rules (ours, SigmaHQ's, the Windows fixtures) cut,
 * flipped, nested deep and blown up, with a fixed seed. Loading and compiling never throws: every
 * bad document is a problem with a file and line, and the good ones still compile.
 */
import { readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../core/index.js';
import { compileCorrelation, compileRuleSet, parseRuleText, type RuleProblem } from '../../../analyzers/index.js';

async function corpus(): Promise<string[]> {
  const files: string[] = [];
  for (const root of ['rules/shouwang', 'test/fixtures/windows/sigma', 'test/fixtures/sigma/rules']) {
    const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
    for (const e of entries) if (e.isFile() && /\.ya?ml$/.test(e.name) && !/\.tests\.ya?ml$/.test(e.name)) files.push(join(e.parentPath, e.name));
  }
  return files.sort().map((f) => readFileSync(f, 'utf8'));
}

function mutate(text: string, random: () => number): string {
  const at = Math.floor(random() * text.length);
  switch (Math.floor(random() * 7)) {
    case 0: return text.slice(0, at);
    case 1: return text.slice(0, at) + String.fromCharCode(Math.floor(random() * 0x10000)) + text.slice(at + 1);
    case 2: return text.slice(0, at) + '\n' + '  '.repeat(Math.floor(random() * 40)) + '- [' + '['.repeat(200) + text.slice(at);
    case 3: return text.replace(/condition: .*/, `condition: ${'('.repeat(500)}selection${')'.repeat(500)}`);
    case 4: return text.replace(/\|(contains|endswith|startswith|re)\b/g, () => ['|expand', '|fieldref|endswith', '|re|i|x', '|base64offset|contains', '|windash|all', '|cidr'][Math.floor(random() * 6)]!);
    case 5: return `${text}\n---\n${text.slice(at)}`;
    default: return text.replace(/: (\S+)$/m, `: ${'x'.repeat(100_000)}`);
  }
}

describe('rule YAML fuzz (seeded)', () => {
  it('never throws on mutated real rules, and reports each bad document with a line', async () => {
    const texts = await corpus();
    expect(texts.length).toBeGreaterThan(100);
    const random = seededRandom(1717);
    let problems = 0;
    for (let i = 0; i < 120; i += 1) {
      const text = mutate(texts[Math.floor(random() * texts.length)]!, random);
      const parsed = parseRuleText(text, `fuzz-${i}.yml`);
      const set = compileRuleSet(parsed.documents);
      const found: RuleProblem[] = [...parsed.problems, ...set.problems];
      for (const doc of parsed.documents) if (doc.kind === 'correlation') compileCorrelation(doc, found);
      for (const p of found) {
        expect(p.file).toBe(`fuzz-${i}.yml`);
        expect(Number.isInteger(p.line) && p.line >= 1).toBe(true);
      }
      problems += found.length;
    }
    expect(problems).toBeGreaterThan(0);
  });
});

const HEAD = 'title: shapes\nid: 22222222-2222-4222-8222-222222222222\nlevel: low\nlogsource: {product: linux}\n';

/** Detections of shapes that used to reach the compiler: the parser now decides on them. */
function shapes(random: () => number): string[] {
  const deep = (n: number, open: string, close: string) => `${open.repeat(n)}x${close.repeat(n)}`;
  const list = (n: number) => `[${Array.from({ length: n }, (_, i) => `v${i}`).join(', ')}]`;
  const pick = <T>(items: T[]) => items[Math.floor(random() * items.length)]!;
  return [
    // Anchors and aliases: a selection reused, a value list reused, an alias to the whole detection, too many aliases.
    'detection:\n  a: &sel {Image|endswith: /sh}\n  b: *sel\n  condition: a and b\n',
    'detection:\n  a:\n    Image: &vals [x, y]\n    Parent: *vals\n  condition: a\n',
    'base: &det {s: {a: b}, condition: s}\ndetection: *det\n',
    `detection:\n  a: &v [${'x, '.repeat(20)}x]\n  b: [${Array.from({ length: 150 }, () => '*v').join(', ')}]\n  condition: a or b\n`,
    'detection:\n  a: &self {k: *self}\n  condition: a\n',
    // Deep nesting as values, selections and list items.
    `detection:\n  a: {f: ${deep(300, '[', ']')}}\n  condition: a\n`,
    `detection:\n  a: ${deep(300, '{k: ', '}')}\n  condition: a\n`,
    `detection:\n  a: [${deep(200, '{k: [', ']}')}]\n  condition: a\n`,
    `detection:\n  a: {f: x}\n  condition: ${'not '.repeat(2000)}a\n`,
    // Huge lists: of values, of maps, of keywords, of condition strings.
    `detection:\n  a: {f|contains: ${list(20_000)}}\n  condition: a\n`,
    `detection:\n  a: [${Array.from({ length: 3000 }, (_, i) => `{f${i % 7}: v${i}}`).join(', ')}]\n  condition: a\n`,
    `detection:\n  a: ${list(5000)}\n  condition: ${list(500).replace(/v\d+/g, 'a')}\n`,
    `detection:\n${Array.from({ length: 2000 }, (_, i) => `  s${i}: {f: ${i}}\n`).join('')}  condition: 1 of s*\n`,
    // Keys that are not strings: numbers, booleans, null, lists and maps as keys.
    'detection:\n  a: {1: x, true: y, ~: z}\n  condition: a\n',
    'detection:\n  a:\n    ? [p, q]\n    : x\n  condition: a\n',
    'detection:\n  a:\n    ? {p: q}\n    : x\n  condition: a\n',
    'detection:\n  1: {f: x}\n  condition: "1"\n',
    'detection:\n  a: {__proto__: {polluted: true}, f: x}\n  condition: a\n',
    // Null, empty and odd selections and values.
    'detection:\n  a:\n  condition: a\n',
    'detection:\n  a: [~]\n  condition: a\n',
    'detection:\n  a: {f: ~}\n  condition: a\n',
    'detection:\n  a: [{}, []]\n  condition: a\n',
    'detection:\n  a: {f: [[]]}\n  condition: a\n',
    'detection:\n  a: {f: .nan, g: .inf}\n  condition: a\n',
    'detection:\n  a: {f: !!binary aGVsbG8=}\n  condition: a\n',
    'detection:\n  a: 2026-01-01\n  condition: a\n',
    'detection:\n  a: {f|: x, "|": y, "||": z}\n  condition: a\n',
    `detection:\n  a: {f|${pick(['re', 'cidr', 'exists', 'lt', 'fieldref', 'expand', 'windash'])}|${pick(['re', 'cidr', 'i', 'gt', 'all', 'contains', 'm'])}: ${pick(['x', '1', 'true', '~', '[]', '[a, 1]'])}}\n  condition: a\n`,
    'detection:\n  condition: ~\n',
    'detection:\n  a: {f: x}\n  condition: [a, ~]\n',
    'detection:\n  a: {f: x}\n  condition: {a: b}\n',
  ].map((detection) => HEAD + detection);
}

const SHAPE_MESSAGES = /search identifier|empty list of values|unsupported value|unknown modifier|cannot follow|cannot be combined|sub-modifier|keyword search cannot|exists takes|condition/;

describe('rule YAML fuzz: shapes that used to reach the compiler', () => {
  it('stops each of them at parse time, with a line, the rule id and no throw; what compiles runs', () => {
    const random = seededRandom(2026);
    for (let round = 0; round < 3; round += 1) {
      shapes(random).forEach((text, i) => {
        const file = `shape-${round}-${i}.yml`;
        const parsed = parseRuleText(text, file);
        const set = compileRuleSet(parsed.documents);
        for (const p of [...parsed.problems, ...set.problems]) {
          expect(p.file).toBe(file);
          expect(Number.isInteger(p.line) && p.line >= 1, `${file}: ${p.message}`).toBe(true);
        }
        for (const p of parsed.problems.filter((q) => q.severity === 'error' && !q.message.startsWith('YAML'))) expect(p.ruleId, p.message).toBeDefined();
        // The compiler no longer sees malformed shapes: what it reports depends on values (regexes, CIDR, numbers, placeholders).
        expect(set.problems.filter((p) => SHAPE_MESSAGES.test(p.message)), file).toEqual([]);
        for (const rule of set.rules) expect(() => rule.test({ f: 'x', Image: '/bin/sh', message: 'v1' })).not.toThrow();
        expect(parsed.documents.length + parsed.rejected.length + parsed.problems.filter((p) => p.message.startsWith('YAML')).length, file).toBeGreaterThan(0);
      });
    }
  });

  it('never lets a __proto__ key change the prototype of what it parses', () => {
    const parsed = parseRuleText(`${HEAD}detection:\n  a: {__proto__: {polluted: true}, f: x}\n  condition: a\n`, 'proto.yml');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    for (const doc of parsed.documents) expect(Object.getPrototypeOf(doc.custom.other)).toBe(Object.prototype);
  });
});

