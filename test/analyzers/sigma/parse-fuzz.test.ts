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
