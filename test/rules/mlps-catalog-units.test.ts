/**
 * Every GB/T 28448-2019 测评单元 id the MLPS catalog cites, checked against the standard's text: a
 * signed evidence bundle cites the id, so it must be the unit whose 测评指标 is the catalog's
 * requirement at that level. The reference is test/fixtures/mlps/28448-units.tsv (the cited units as
 * the public transcription prints them; source, commit and the transcription's faults in SOURCE.txt).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadMlpsCatalog, parseMlpsCatalog, type MlpsCatalog, type MlpsItem, type MlpsLevel } from '../../analyzers/index.js';

interface PrintedUnit {
  /** The id as printed in 测评单元（…）. */
  unit: string;
  /** Its section in 28448: 7.x level 2, 8.x level 3, 9.x level 4. */
  section: string;
  /** The text after 测评指标：, final ；included. */
  indicator: string;
}

const FIXTURE = 'test/fixtures/mlps/28448-units.tsv';
const CHAPTER: Record<MlpsLevel, string> = { 2: '7', 3: '8', 4: '9' };

function readUnits(): PrintedUnit[] {
  const [header, ...lines] = readFileSync(FIXTURE, 'utf8').split('\n').filter((line) => line !== '');
  expect(header).toBe('unit\tsection\tindicator');
  return lines.map((line) => {
    const [unit = '', section = '', indicator = '', ...rest] = line.split('\t');
    expect(rest, line).toEqual([]);
    return { unit, section, indicator };
  });
}

const printed = readUnits();

// ── The transcription's known faults and 28448's own wording: each entry is checked below to be still needed. ──

/** Units 28448.md prints under another id: the catalog's id → the id and section it is printed under. */
const MISPRINTED: Record<string, { unit: string; section: string }> = {
  // 9.1.10.13 a) and b) are printed 测评单元（L3-MMS1-44）/（L3-MMS1-45） inside chapter 9, between
  // L4-MMS1-43 (9.1.10.12.5) and L4-MMS1-46 (9.1.10.13.3).
  'L4-MMS1-44': { unit: 'L3-MMS1-44', section: '9.1.10.13.1' },
  'L4-MMS1-45': { unit: 'L3-MMS1-45', section: '9.1.10.13.2' },
};

/** Units whose body 28448.md leaves empty: the catalog's text comes from GB/T 22239-2019 alone. */
const EMPTY_BODY = new Set([
  // 9.1.3.2.5 测评单元（L4-ABS1-11）: the heading is followed directly by 9.1.3.3 入侵防范 (22239: 9.1.3.2 e)).
  'L4-ABS1-11',
]);

/**
 * Where 28448's 测评指标 words the requirement differently from GB/T 22239-2019, whose wording the
 * catalog keeps (a bundle cites the 22239 requirement): the catalog's phrase → 28448's.
 */
const WORDING: Record<string, [catalog: string, printed: string]> = {
  // 22239 7.1.4.3 a) 应启用…; 28448 7.1.4.3.1 应提供… (8.1.4.3.1 and 9.1.4.3.1 say 启用, like 22239).
  'L2-CES1-08': ['应启用安全审计功能', '应提供安全审计功能'],
  // 22239 x.1.5.1 b) 包括用户身份、系统资源配置、…; 28448 x.1.5.1.2 at all three levels: 包括用户身份、资源配置、…
  'L2-SMC1-02': ['用户身份、系统资源配置', '用户身份、资源配置'],
  'L3-SMC1-02': ['用户身份、系统资源配置', '用户身份、资源配置'],
  'L4-SMC1-02': ['用户身份、系统资源配置', '用户身份、资源配置'],
  // 22239 8.1.5.2 b) and 9.1.5.2 b) print 对审计记录应进行分析 (sic); 28448 8.1.5.2.2 and 9.1.5.2.2 have no 应.
  'L3-SMC1-04': ['对审计记录应进行分析', '对审计记录进行分析'],
  'L4-SMC1-04': ['对审计记录应进行分析', '对审计记录进行分析'],
  // 28448 9.1.4.1.3 has a comma 必要措施，防止 that 7.1.4.1.3 and 8.1.4.1.3 (and the catalog) do not.
  'L4-CES1-03': ['应采取必要措施防止', '应采取必要措施，防止'],
};

/** Only what carries no meaning: white space, full-width ASCII forms, a final ；/。. Nothing else. */
function normalizeIndicator(text: string): string {
  return text
    .replace(/[\uFF01-\uFF5E]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0))
    .replace(/\u3002/g, '.')
    .replace(/\s+/g, '')
    .replace(/[;.]$/, '');
}

/** The printed unit a catalog item's id names at its level (the misprints mapped), or undefined. */
function printedUnitFor(item: MlpsItem): PrintedUnit | undefined {
  const misprint = MISPRINTED[item.testUnit];
  const chapter = `${CHAPTER[item.level]}.`;
  return printed.find((row) => misprint
    ? row.unit === misprint.unit && row.section === misprint.section
    : row.unit === item.testUnit && row.section.startsWith(chapter));
}

/** What 28448 should print as the item's 测评指标: the catalog's text, 28448's known wording applied. */
function expectedIndicator(item: MlpsItem): string {
  const wording = WORDING[item.testUnit];
  if (!wording) return item.requirement.zh;
  const [catalogPhrase, printedPhrase] = wording;
  // A wording exception that no longer matches the catalog is itself a problem (reported by the caller).
  return item.requirement.zh.includes(catalogPhrase) ? item.requirement.zh.replace(catalogPhrase, printedPhrase) : `${item.requirement.zh} (${catalogPhrase}?)`;
}

/** Every (level, unit) the catalog cites that 28448 does not print at that level, under that control, with that text. */
function unitProblems(catalog: MlpsCatalog): string[] {
  const problems: string[] = [];
  for (const item of catalog.items) {
    const row = printedUnitFor(item);
    const where = `${item.clause} ${item.testUnit}`;
    if (!row) {
      problems.push(`${where}: 28448 prints no unit ${item.testUnit} at level ${item.level}`);
      continue;
    }
    // 28448 numbers a unit under the control it assesses: 8.1.4.3.1 belongs to 8.1.4.3.
    if (!row.section.startsWith(`${item.controlClause}.`)) {
      problems.push(`${where}: 28448 prints ${row.unit} as ${row.section}, not under ${item.controlClause}`);
      continue;
    }
    if (EMPTY_BODY.has(item.testUnit)) {
      if (row.indicator !== '') problems.push(`${where}: listed as empty in 28448.md, but the fixture has a text`);
      continue;
    }
    const expected = normalizeIndicator(expectedIndicator(item));
    const actual = normalizeIndicator(row.indicator);
    if (expected !== actual) problems.push(`${where}: 28448 ${row.section} says「${row.indicator}」, the catalog「${item.requirement.zh}」`);
  }
  return problems;
}

const catalog = loadMlpsCatalog();

describe('GB/T 28448-2019 测评单元 the catalog cites (fixture test/fixtures/mlps/28448-units.tsv)', () => {
  it('the fixture is well formed: ids of the section\'s level, a text for every unit but the known empty one', () => {
    expect(printed.length).toBe(185);
    for (const row of printed) {
      expect(row.unit, row.section).toMatch(/^L[234]-(?:ABS|CES|SMC|MMS)1-\d{2}$/);
      expect(row.section, row.unit).toMatch(/^[789]\.1\.(?:[345]|10)\.\d{1,2}\.\d{1,2}$/);
      const misprinted = Object.values(MISPRINTED).some((m) => m.unit === row.unit && m.section === row.section);
      if (!misprinted) expect(`${row.unit} ${row.section}`).toMatch(/^L2-\S+ 7\.|^L3-\S+ 8\.|^L4-\S+ 9\./);
      if (!(row.unit === 'L4-ABS1-11' && row.section === '9.1.3.2.5')) expect(row.indicator, row.unit).toMatch(/^\S.*；$/);
    }
  });

  it('every unit id the catalog cites is printed at its level, under its control, with its requirement as 测评指标', () => {
    expect(catalog.items.length).toBe(185);
    expect(unitProblems(catalog)).toEqual([]);
  });

  it('the fixture holds only the units the catalog cites', () => {
    const used = new Set(catalog.items.map((item) => printedUnitFor(item)));
    expect(printed.filter((row) => !used.has(row)).map((row) => `${row.section} ${row.unit}`)).toEqual([]);
  });

  it('every exception is still needed: without it the unit would not match', () => {
    const byUnit = new Map(catalog.items.map((item) => [item.testUnit, item]));
    for (const [unit, misprint] of Object.entries(MISPRINTED)) {
      const item = byUnit.get(unit);
      expect(item, unit).toBeDefined();
      // Nothing is printed under the right id in the level's chapter …
      expect(printed.filter((row) => row.unit === unit && row.section.startsWith(`${CHAPTER[item!.level]}.`)), unit).toEqual([]);
      // … and the id printed instead is another level's.
      expect(misprint.unit.slice(0, 2), unit).not.toBe(unit.slice(0, 2));
    }
    for (const unit of EMPTY_BODY) {
      expect(byUnit.get(unit), unit).toBeDefined();
      expect(printedUnitFor(byUnit.get(unit)!)?.indicator, unit).toBe('');
    }
    for (const [unit, [catalogPhrase]] of Object.entries(WORDING)) {
      const item = byUnit.get(unit);
      expect(item?.requirement.zh, unit).toContain(catalogPhrase);
      expect(normalizeIndicator(printedUnitFor(item!)!.indicator), unit).not.toBe(normalizeIndicator(item!.requirement.zh));
    }
  });

  it('the normalisation touches only white space, full-width forms and a final ；/。', () => {
    expect(normalizeIndicator(' 应对审计记录进行保护，定期备份；')).toBe('应对审计记录进行保护,定期备份');
    expect(normalizeIndicator('应对审计记录进行保护, 定期备份。')).toBe('应对审计记录进行保护,定期备份');
    // Inner punctuation and wording stay: a comma more, 、 for ，, or one character differs.
    expect(normalizeIndicator('应采取必要措施，防止')).not.toBe(normalizeIndicator('应采取必要措施防止'));
    expect(normalizeIndicator('用户、事件')).not.toBe(normalizeIndicator('用户，事件'));
    expect(normalizeIndicator('应启用安全审计功能')).not.toBe(normalizeIndicator('应提供安全审计功能'));
  });
});

describe('the 测评单元 check catches a wrong id', () => {
  const yaml = readFileSync('rules/mlps/catalog.yaml', 'utf8');
  const problemsWith = (edit: (text: string) => string) => unitProblems(parseMlpsCatalog(edit(yaml), 'edited.yaml'));

  it('an id 28448 does not print at that level (L3-CES1-16 is missing from the transcription)', () => {
    expect(problemsWith((t) => t.replace('3: L3-CES1-17,', '3: L3-CES1-16,'))).toEqual([
      '8.1.4.4 a) L3-CES1-16: 28448 prints no unit L3-CES1-16 at level 3',
    ]);
  });

  it('two ids swapped within a control', () => {
    const swapped = problemsWith((t) => t.replace('3: L3-ABS1-10,', '3: L3-ABS1-XX,').replace('3: L3-ABS1-11,', '3: L3-ABS1-10,').replace('3: L3-ABS1-XX,', '3: L3-ABS1-11,'));
    expect(swapped).toHaveLength(2);
    expect(swapped[0]).toMatch(/^8\.1\.3\.3 a\) L3-ABS1-11: 28448 8\.1\.3\.3\.2 says「应在关键网络节点处检测、防止或限制从内部发起的网络攻击行为；」/);
  });

  it('an id of another control at the same level', () => {
    // L3-CES1-24 is 8.1.4.6.1 可信验证, a unit the catalog does not cite, so the fixture lacks it.
    expect(problemsWith((t) => t.replace('3: L3-CES1-23,', '3: L3-CES1-24,'))).toEqual([
      '8.1.4.5 L3-CES1-24: 28448 prints no unit L3-CES1-24 at level 3',
    ]);
    // L4-CES1-16 moved to 安全审计 d): it exists, but under 9.1.4.4 入侵防范.
    const moved = problemsWith((t) => t.replace('4: L4-CES1-15 }', '4: L4-CESX-15 }').replace('4: L4-CES1-16 }', '4: L4-CES1-15 }').replace('4: L4-CESX-15 }', '4: L4-CES1-16 }'));
    expect(moved).toContain('9.1.4.3 d) L4-CES1-16: 28448 prints L4-CES1-16 as 9.1.4.4.1, not under 9.1.4.3');
  });
});
