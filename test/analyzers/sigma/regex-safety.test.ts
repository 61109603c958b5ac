import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compileRuleSet, identityMapping, loadRuleDir, loadRuleFile } from '../../../analyzers/index.js';
import { backtrackingRisk } from '../../../analyzers/sigma/regex-safety.js';

const SIGMA_RULES = 'test/fixtures/sigma/rules';
const dir = mkdtempSync(join(tmpdir(), 'shouwang-regex-safety-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Every `|re` value of the rules under a folder, with its flags. */
function regexesOf(value: unknown, key = ''): { source: string; flags: string }[] {
  if (typeof value === 'string') {
    const modifiers = key.split('|').slice(1);
    if (!modifiers.includes('re')) return [];
    return [{ source: value, flags: ['i', 'm', 's'].filter((f) => modifiers.includes(f)).join('') }];
  }
  if (Array.isArray(value)) return value.flatMap((item) => regexesOf(item, key));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([name, item]) => regexesOf(item, name));
  return [];
}

describe('regexes that can backtrack catastrophically', () => {
  it('are refused: nested quantifiers, overlapping or empty alternatives in a repeat, backreferences', () => {
    const refused = [
      '^(a+)+$', '(\\w*\\s?)*x', '((ab)*c)+', '(a{1,})+b', '(x)\\1', '(?<w>a)\\k<w>',
      '^(a|a)*$', '(a|ab)*c', '(\\w|\\d)+$', '(a|)+b', '(?:a?)*b', '(?:[a-z]|[k-q])+!', '(?:\\s|\\u0020)+$',
      '(?:x|(?:y|x))+', '(?:(?:a|b)c|bd)+', '(?:.|\\s)*$',
      '(?:\\u4e01|[\\u4e00-\\u9fff])+$', '(?:\\x41|[A-C])+$',
    ];
    for (const pattern of refused) expect(backtrackingRisk(pattern), pattern).toBeDefined();
    expect(backtrackingRisk('(A|a)+$', 'i')).toMatch(/overlap/);
  });

  it('lets linear shapes through: disjoint alternatives, bounded repeats, single-character repeats', () => {
    const allowed = [
      '^(foo|a)+!$', '(\\d{1,3}\\.){3}\\d{1,3}', '^[a-z]+@[a-z]+\\.com$', '(?:ab)+', '(?:-[a-z]+)*', '\\.(exe|dll|ps1)$',
      '(?i)^cmd\\.exe', '(?=a)b+', '(?:[0-9]|x)+', '\\((a|b)\\)',
    ];
    for (const pattern of allowed) expect(backtrackingRisk(pattern), pattern).toBeUndefined();
    expect(backtrackingRisk('(a|A)+$')).toBeUndefined(); // cased: different characters
  });

  it('never throws on hostile input', () => {
    let seed = 42;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    const alphabet = '()[]{}|*+?\\^$.,:<>=!-0123456789akwdsbBpu';
    for (let n = 0; n < 2000; n += 1) {
      const text = Array.from({ length: next() % 30 }, () => alphabet[next() % alphabet.length]).join('');
      expect(() => backtrackingRisk(text)).not.toThrow();
    }
    expect(backtrackingRisk('('.repeat(50))).toBeUndefined(); // a syntax error: RegExp reports it
    // Deep nesting cannot hide a risky group from the check: it is refused as such.
    const deep = `${'('.repeat(20_000)}(a|a)*${')'.repeat(20_000)}$`;
    expect(() => new RegExp(deep)).not.toThrow();
    expect(backtrackingRisk(deep)).toMatch(/nested more than 100 deep/);
    expect(backtrackingRisk(`${'(?:'.repeat(100)}a${')'.repeat(100)}`)).toBeUndefined();
  });

  it('a rule file with one is refused at load with an error naming file and line', async () => {
    const file = join(dir, 'risky.yml');
    writeFileSync(file, `title: risky\nid: risky-1\nlogsource: {product: linux}\nlevel: low\ndetection:\n  sel:\n    message|re: '^(a|a)*$'\n  condition: sel\n`);
    const set = compileRuleSet((await loadRuleFile(file)).documents, { mapping: identityMapping() });
    expect(set.rules).toEqual([]);
    expect(set.problems).toMatchObject([{ file, line: 7, severity: 'error', message: expect.stringMatching(/backtrack.*overlap/) }]);
  });

  it('the shipped pack and the SigmaHQ fixture rules hold none', async () => {
    // SigmaHQ's Invoke-Obfuscation VAR+ script rule repeats `(?:.*\)){1,}`: refused, and listed with its reason
    // in sigmahq-compile.test.ts.
    const known = new Set([`${SIGMA_RULES}/windows/powershell/powershell_script/posh_ps_invoke_obfuscation_var.yml`]);
    for (const folder of ['rules/shouwang', SIGMA_RULES]) {
      const { documents } = await loadRuleDir(folder);
      const risky = documents.filter((doc) => !known.has(doc.position.file))
        .flatMap((doc) => regexesOf(doc.body.detection).filter((r) => backtrackingRisk(r.source, r.flags))
          .map((r) => `${doc.position.file}: ${r.source}`));
      expect(risky, folder).toEqual([]);
    }
    const { documents } = await loadRuleDir(SIGMA_RULES);
    for (const file of known) {
      const doc = documents.find((d) => d.position.file === file);
      expect(doc && regexesOf(doc.body.detection).some((r) => backtrackingRisk(r.source, r.flags)), file).toBe(true);
    }
  });
});
