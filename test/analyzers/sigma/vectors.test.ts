import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import {
  compileRuleSet, identityMapping, loadDefaultMapping, loadRuleDir, parseRuleText, type FieldMapping,
} from '../../../analyzers/index.js';

const SIGMA = 'test/fixtures/sigma';

/** Compiles the one rule of a file and returns its test, failing loudly if it does not load. */
function compileOne(file: string, options: { strict?: boolean; mapping?: FieldMapping; placeholders?: Record<string, string[]> } = {}) {
  const parsed = parseRuleText(readFileSync(file, 'utf8'), file, { strict: options.strict ?? true });
  expect(parsed.problems.filter((p) => p.severity === 'error')).toEqual([]);
  const set = compileRuleSet(parsed.documents, { mapping: options.mapping ?? identityMapping(), placeholders: options.placeholders ?? {} });
  expect(set.problems).toEqual([]);
  expect(set.rules).toHaveLength(1);
  return (event: Record<string, unknown>) => set.match(event).length > 0;
}

describe('sigmalite vectors (detection_matches.json)', () => {
  const root = join(SIGMA, 'vectors/sigmalite');
  const { cases } = JSON.parse(readFileSync(join(root, 'detection_matches.json'), 'utf8')) as {
    cases: { rule: string; entry: { message?: string; fields?: Record<string, string> }; want: boolean; options?: { placeholders?: Record<string, string[]> } }[];
  };

  it('has cases', () => expect(cases.length).toBeGreaterThan(20));

  cases.forEach((c, n) => {
    it(`#${n} ${c.rule} → ${c.want}`, () => {
      const matches = compileOne(join(root, c.rule), { placeholders: c.options?.placeholders ?? {} });
      const event = { ...c.entry.fields, ...(c.entry.message !== undefined ? { message: c.entry.message } : {}) };
      expect(matches(event)).toBe(c.want);
    });
  });

  // The testdata rules without vectors in the JSON (a condition list, mixed keyword and field lists, extra metadata).
  it('condition lists are OR', () => {
    const matches = compileOne(join(root, 'testdata/condition_list.yml'));
    expect(matches({ Image: 'C:\\x\\example.exe' })).toBe(true);
    expect(matches({ Image: 'C:\\x\\evil.exe' })).toBe(true);
    expect(matches({ Image: 'C:\\x\\good.exe' })).toBe(false);
  });

  it('a list mixing keywords and maps is OR of both', () => {
    const matches = compileOne(join(root, 'testdata/mixed_detection.yml'));
    expect(matches({ message: 'started evilservice now' })).toBe(true);
    expect(matches({ Image: 'D:\\example.exe' })).toBe(true);
    expect(matches({ message: 'nothing', Image: 'D:\\other.exe' })).toBe(false);
  });

  it('extra top-level fields are kept, not rejected', () => {
    const file = join(root, 'testdata/extra.yml');
    const { documents } = parseRuleText(readFileSync(file, 'utf8'), file);
    expect(documents[0]!.custom.other.extrametadata).toBe('foo');
    expect(compileOne(file)({ message: 'say hello' })).toBe(true);
  });
});

describe('sigma-test vectors (*_test.yaml)', () => {
  const root = join(SIGMA, 'vectors/sigma-test/testdata');
  // sigma-go's config maps Foo → $.foo (a JSONPath); here it becomes a field mapping for every logsource.
  const config = parseYaml(readFileSync(join(root, 'config.yaml'), 'utf8')) as { fieldmappings: Record<string, string> };
  const mapping: FieldMapping = {
    ...identityMapping(),
    fields: Object.fromEntries(Object.entries(config.fieldmappings).map(([name, path]) => [name, [path.replace(/^\$\./, '')]])),
  };
  const files = readdirSync(root).filter((f) => f.endsWith('_test.yaml'));

  it('finds the vector files', () => expect(files.length).toBe(3));

  for (const vectorFile of files) {
    const ruleFile = join(root, vectorFile.replace(/_test\.yaml$/, '.yaml'));
    const vectors = parseAllDocuments(readFileSync(join(root, vectorFile), 'utf8'))
      .map((doc) => doc.toJS() as { match?: boolean; event: Record<string, unknown> } | null)
      .filter((v) => v !== null);
    vectors.forEach((vector, n) => {
      it(`${vectorFile} #${n}`, () => {
        const matches = compileOne(ruleFile, { strict: false, mapping });
        expect(matches(vector.event)).toBe(vector.match ?? true);
      });
    });
  }

  it('the rule without vectors (a list of conditions with not) compiles and behaves', () => {
    const matches = compileOne(join(root, 'no-tests.yaml'), { strict: false });
    expect(matches({ a: 'foo' })).toBe(true);
    expect(matches({ b: 'bar' })).toBe(true);
    expect(matches({ a: 'foo', b: 'bar' })).toBe(false);
  });
});

describe('SigmaHQ rules in the fixtures', () => {
  it('every rule loads and compiles with the default mapping, and with none', async () => {
    // The first 255 (linux, web); every folder, with the few refused and why: sigmahq-compile.test.ts.
    const loaded = await Promise.all(['linux', 'web'].map((folder) => loadRuleDir(join(SIGMA, 'rules', folder))));
    const documents = loaded.flatMap((l) => l.documents);
    const problems = loaded.flatMap((l) => l.problems);
    const describeProblem = (p: { file: string; line: number; message: string }) => `${p.file}:${p.line}: ${p.message}`;
    expect(problems.filter((p) => p.severity === 'error').map(describeProblem)).toEqual([]);
    expect(documents.length).toBe(255);
    for (const mapping of [loadDefaultMapping(), identityMapping()]) {
      const set = compileRuleSet(documents, { mapping });
      expect(set.problems.filter((p) => p.severity === 'error').map(describeProblem)).toEqual([]);
      expect(set.rules).toHaveLength(255);
    }
  });
});
