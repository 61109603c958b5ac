import { describe, expect, it } from 'vitest';
import { loadMlpsCatalog, parseMlpsCatalog, type MlpsCatalog } from '../../analyzers/index.js';

const catalog: MlpsCatalog = loadMlpsCatalog();

const AREAS = `areas:
  boundary: { zh: 安全区域边界, en: Boundary }
  computing: { zh: 安全计算环境, en: Computing }
  management: { zh: 安全管理中心, en: Management }
`;

function problemOf(text: string): string {
  try {
    parseMlpsCatalog(text, 'bad.yaml');
  } catch (error) {
    return `${(error as { code?: string }).code}: ${(error as Error).message}`;
  }
  return 'no error';
}

describe('MLPS catalog (rules/mlps/catalog.yaml)', () => {
  it('holds the controls the issue names at level 3, with their clause numbers', () => {
    const expected: Record<string, string> = {
      '8.1.3.1': '边界防护', '8.1.3.2': '访问控制', '8.1.3.3': '入侵防范', '8.1.3.5': '安全审计',
      '8.1.4.1': '身份鉴别', '8.1.4.2': '访问控制', '8.1.4.3': '安全审计', '8.1.4.4': '入侵防范',
      '8.1.4.5': '恶意代码防范', '8.1.4.7': '数据完整性', '8.1.4.9': '数据备份恢复',
      '8.1.5.1': '系统管理', '8.1.5.2': '审计管理', '8.1.5.3': '安全管理', '8.1.5.4': '集中管控',
    };
    for (const [clause, name] of Object.entries(expected)) {
      const control = catalog.controlByClause(clause);
      expect(control?.control.zh, clause).toBe(name);
      expect(control?.level).toBe(3);
      expect(control?.control.en).toMatch(/[A-Za-z]/);
    }
    expect(catalog.controlByClause('8.1.4.3')?.area).toMatchObject({ key: 'computing', zh: '安全计算环境' });
    expect(catalog.controlByClause('8.1.5.4')?.area.zh).toBe('安全管理中心');
  });

  it('finds an item by clause with its requirement in Chinese and English', () => {
    const item = catalog.itemByClause('8.1.4.3 a)');
    expect(item).toMatchObject({ clause: '8.1.4.3 a)', controlClause: '8.1.4.3', letter: 'a', level: 3 });
    expect(item?.requirement.zh).toContain('审计');
    expect(item?.requirement.en).toMatch(/audit/i);
    expect(catalog.itemByClause('8.1.4.3.a')).toBe(item);
    expect(catalog.itemByClause('8.1.4.3 z)')).toBeUndefined();
    expect(catalog.controlByClause('8.1.4.3 a)')?.clause).toBe('8.1.4.3');
  });

  it('is faithful to the levels: level 2 has only 系统管理 and 审计管理 in the management center', () => {
    expect(catalog.controlByClause('7.1.5.1')?.control.zh).toBe('系统管理');
    expect(catalog.controlByClause('7.1.5.2')?.control.zh).toBe('审计管理');
    expect(catalog.controlByClause('7.1.5.3')).toBeUndefined();
    expect(catalog.controlByClause('7.1.5.4')).toBeUndefined();
    // Level 2 asks no two-factor authentication and no protection of the audit process.
    expect(catalog.itemByClause('7.1.4.1 d)')).toBeUndefined();
    expect(catalog.itemByClause('7.1.4.3 d)')).toBeUndefined();
    // Level 4 adds a single authoritative clock to centralised control.
    expect(catalog.itemByClause('9.1.5.4 g)')?.requirement.zh).toContain('时钟');
    expect(catalog.itemByClause('8.1.5.4 g)')).toBeUndefined();
  });

  it('links each item to the same requirement at the other levels', () => {
    expect(catalog.itemByClause('8.1.4.3 a)')?.equivalents.sort()).toEqual(['7.1.4.3 a)', '9.1.4.3 a)']);
    expect(catalog.itemByClause('8.1.4.3 d)')?.equivalents).toEqual(['9.1.4.3 d)']);
    // Level 4's access-control item d) is a different requirement from level 3's d).
    expect(catalog.itemByClause('9.1.3.2 d)')?.equivalents).toEqual([]);
    expect(catalog.equivalentClauses('8.1.4.3')).toEqual(['7.1.4.3', '8.1.4.3', '9.1.4.3']);
    expect(catalog.equivalentClauses('8.1.5.4')).toEqual(['8.1.5.4', '9.1.5.4']);
    expect(catalog.equivalentClauses('8.1.4.3', [2])).toEqual(['7.1.4.3']);
    expect(catalog.tagsFor('8.1.4.3')).toEqual(['mlps.7.1.4.3', 'mlps.8.1.4.3', 'mlps.9.1.4.3']);
    expect(catalog.tagsFor('8.1.4.9 b)')).toEqual(['mlps.7.1.4.9.b', 'mlps.8.1.4.9.b', 'mlps.9.1.4.9.b']);
  });

  it('resolves rule tags to items', () => {
    expect(catalog.clausesForTag('mlps.8.1.4.3').map((i) => i.clause)).toEqual(['8.1.4.3 a)', '8.1.4.3 b)', '8.1.4.3 c)', '8.1.4.3 d)']);
    expect(catalog.clausesForTag('mlps.7.1.4.3').map((i) => i.clause)).toEqual(['7.1.4.3 a)', '7.1.4.3 b)', '7.1.4.3 c)']);
    expect(catalog.clausesForTag('mlps.8.1.4.9.b').map((i) => i.clause)).toEqual(['8.1.4.9 b)']);
    expect(catalog.clausesForTag('mlps.8.1.9.9')).toEqual([]);
    expect(catalog.clausesForTag('attack.t1110')).toEqual([]);
    expect(catalog.resolvesTag('mlps.9.1.5.4')).toBe(true);
    expect(catalog.resolvesTag('mlps.7.1.5.4')).toBe(false);
  });

  it('rejects a catalog that is not YAML, with the file named', () => {
    expect(problemOf('areas: [unclosed')).toMatch(/^SW_ERR_MLPS_CATALOG_INVALID: .*bad\.yaml.*not YAML/s);
  });

  it('rejects schema errors with the field path and the value given', () => {
    const text = `${AREAS}controls:
  - area: computing
    control: { zh: 安全审计, en: Audit }
    clauses: { 3: 8.1.4 }
    requirements:
      - levels: { 3: aa }
        zh: x
        en: x
`;
    const message = problemOf(text);
    expect(message).toMatch(/^SW_ERR_MLPS_CATALOG_INVALID/);
    expect(message).toContain('controls[0].clauses.3');
    expect(message).toContain('"8.1.4"');
    expect(message).toContain('controls[0].requirements[0].levels.3');
  });

  it('rejects a clause in the wrong chapter for its level, items of a level without the control, and duplicates', () => {
    const text = `${AREAS}controls:
  - area: computing
    control: { zh: 安全审计, en: Audit }
    clauses: { 2: 8.1.4.3, 3: 8.1.4.3 }
    requirements:
      - levels: { 3: a, 4: a }
        zh: x
        en: x
      - levels: { 3: a }
        zh: y
        en: y
`;
    const message = problemOf(text);
    expect(message).toContain('level 2 clause 8.1.4.3 is not in chapter 7');
    expect(message).toContain('level 4 has no clause for this control');
    expect(message).toContain('item 8.1.4.3 a) is listed twice');
  });

  it('reports a missing file with its path', () => {
    let caught: unknown;
    try {
      loadMlpsCatalog('/nonexistent/catalog.yaml');
    } catch (error) {
      caught = error;
    }
    expect((caught as { code?: string } | undefined)?.code).toBe('SW_ERR_MLPS_CATALOG_READ');
    expect((caught as Error).message).toContain('/nonexistent/catalog.yaml');
  });
});
