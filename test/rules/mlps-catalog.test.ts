import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadMlpsCatalog, parseMlpsCatalog, type MlpsCatalog } from '../../analyzers/index.js';

const catalog: MlpsCatalog = loadMlpsCatalog();

const AREAS = `areas:
  boundary: { zh: 安全区域边界, en: Boundary }
  computing: { zh: 安全计算环境, en: Computing }
  management: { zh: 安全管理中心, en: Management }
  operations: { zh: 安全运维管理, en: Operations }
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
    expect(catalog.equivalentClauses('8.1.4.3')).toEqual(['7.1.4.3', '8.1.4.3', '9.1.4.3']);
    expect(catalog.equivalentClauses('8.1.5.4')).toEqual(['8.1.5.4', '9.1.5.4']);
    expect(catalog.equivalentClauses('8.1.4.3', [2])).toEqual(['7.1.4.3']);
    expect(catalog.tagsFor('8.1.4.3')).toEqual(['mlps.7.1.4.3', 'mlps.8.1.4.3', 'mlps.9.1.4.3']);
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
        units: { 3: L3-CES1-12, 4: L4-CES1-12 }
        zh: x
        en: x
      - levels: { 3: a }
        units: { 3: L3-CES1-13 }
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

/** Every file under rules/shouwang, with the MLPS tags it carries. */
function ruleTags(): { file: string; tags: string[] }[] {
  const root = new URL('../../rules/shouwang/', import.meta.url).pathname;
  const files = readdirSync(root, { recursive: true, encoding: 'utf8' }).filter((f) => /\.ya?ml$/.test(f));
  return files.map((file) => ({
    file,
    tags: [...readFileSync(join(root, file), 'utf8').matchAll(/^\s*-\s*(mlps\.[\w.]+)\s*$/gm)].map((m) => m[1]!),
  }));
}

describe('MLPS numbering of 数据备份恢复 (GB/T 22239-2019)', () => {
  it('level 2 has no 数据保密性, so 数据备份恢复 is 7.1.4.8 and 7.1.4.9 is 剩余信息保护', () => {
    expect(catalog.controlByClause('7.1.4.8')?.control.zh).toBe('数据备份恢复');
    expect(catalog.itemByClause('7.1.4.8 a)')?.requirement.zh).toBe('应提供重要数据的本地数据备份与恢复功能');
    expect(catalog.itemByClause('7.1.4.8 b)')?.requirement.zh).toBe('应提供异地数据备份功能，利用通信网络将重要数据定时批量传送至备用场地');
    expect(catalog.controlByClause('7.1.4.9')).toBeUndefined();
    expect(catalog.equivalentClauses('8.1.4.9')).toEqual(['7.1.4.8', '8.1.4.9', '9.1.4.9']);
    expect(catalog.tagsFor('8.1.4.9 b)')).toEqual(['mlps.7.1.4.8.b', 'mlps.8.1.4.9.b', 'mlps.9.1.4.9.b']);
  });

  it('no rule tags 7.1.4.9 (剩余信息保护, never evidenced by a backup) and every rule tag resolves', () => {
    const all = ruleTags();
    expect(all.length).toBeGreaterThan(10);
    for (const { file, tags } of all) {
      for (const tag of tags) {
        expect(tag.startsWith('mlps.7.1.4.9'), `${file}: ${tag}`).toBe(false);
        expect(catalog.resolvesTag(tag), `${file}: ${tag}`).toBe(true);
      }
    }
    const backup = all.filter((r) => r.file.startsWith('backup/')).flatMap((r) => r.tags);
    expect(backup).toContain('mlps.7.1.4.8.b');
    expect(backup).toContain('mlps.7.1.4.8');
  });
});

describe('MLPS texts as GB/T 22239-2019 words them', () => {
  it('level 4 访问控制 at the boundary is a)–e): d) session state, e) protocol conversion or isolation', () => {
    expect(catalog.controlByClause('9.1.3.2')?.items.map((i) => i.letter)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(catalog.itemByClause('9.1.3.2 d)')?.requirement.zh).toBe('应能根据会话状态信息为进出数据流提供明确的允许/拒绝访问的能力');
    expect(catalog.itemByClause('9.1.3.2 e)')?.requirement.zh).toBe('应在网络边界通过通信协议转换或通信协议隔离等方式进行数据交换');
    expect(catalog.itemByClause('9.1.3.2 d)')?.equivalents.sort()).toEqual(['7.1.3.2 d)', '8.1.3.2 d)']);
  });

  it('level 4 访问控制 g) is 安全标记 with 强制访问控制; 安全审计 b) names 主体标识 and 客体标识', () => {
    expect(catalog.itemByClause('9.1.4.2 g)')?.requirement.zh).toBe('应对主体、客体设置安全标记，并依据安全标记和强制访问控制规则确定主体对客体的访问');
    expect(catalog.itemByClause('8.1.4.2 g)')?.requirement.zh).toBe('应对重要主体和客体设置安全标记，并控制主体对有安全标记信息资源的访问');
    expect(catalog.itemByClause('9.1.4.3 b)')?.requirement.zh).toBe('审计记录应包括事件的日期和时间、事件类型、主体标识、客体标识和结果等');
    expect(catalog.itemByClause('8.1.4.3 b)')?.requirement.zh).toBe('审计记录应包括事件的日期和时间、用户、事件类型、事件是否成功及其他与审计相关的信息');
  });

  it('数据完整性 keeps the full data list (重要个人信息 included); level 4 asks 密码技术 only', () => {
    const list = '包括但不限于鉴别数据、重要业务数据、重要审计数据、重要配置数据、重要视频数据和重要个人信息等';
    expect(catalog.itemByClause('8.1.4.7 a)')?.requirement.zh).toBe(`应采用校验技术或密码技术保证重要数据在传输过程中的完整性，${list}`);
    expect(catalog.itemByClause('8.1.4.7 b)')?.requirement.zh).toBe(`应采用校验技术或密码技术保证重要数据在存储过程中的完整性，${list}`);
    expect(catalog.itemByClause('9.1.4.7 a)')?.requirement.zh).toBe(`应采用密码技术保证重要数据在传输过程中的完整性，${list}`);
    expect(catalog.itemByClause('9.1.4.7 b)')?.requirement.zh).toBe(`应采用密码技术保证重要数据在存储过程中的完整性，${list}`);
    // Level 2 words it as one requirement without an item letter.
    expect(catalog.itemByClause('7.1.4.7')?.requirement.zh).toBe('应采用校验技术保证重要数据在传输过程中的完整性');
    expect(catalog.itemByClause('7.1.4.7 a)')).toBeUndefined();
  });

  it('a control with one requirement has no item letter (7.1.3.3, 8.1.4.5)', () => {
    expect(catalog.itemByClause('7.1.3.3')).toMatchObject({ clause: '7.1.3.3', letter: '', requirement: { zh: '应在关键网络节点处监视网络攻击行为' } });
    expect(catalog.itemByClause('8.1.4.5')?.clause).toBe('8.1.4.5');
    expect(catalog.clausesForTag('mlps.7.1.3.3').map((i) => i.clause)).toEqual(['7.1.3.3']);
    expect(catalog.tagsFor('8.1.3.3 a)')).toEqual(['mlps.7.1.3.3', 'mlps.8.1.3.3.a', 'mlps.9.1.3.3.a']);
  });

  it('x.1.3.4 is 恶意代码防范 at level 2 and 恶意代码和垃圾邮件防范 at levels 3 and 4', () => {
    expect(catalog.controlByClause('7.1.3.4')?.control.zh).toBe('恶意代码防范');
    expect(catalog.controlByClause('8.1.3.4')?.control.zh).toBe('恶意代码和垃圾邮件防范');
    expect(catalog.controlByClause('9.1.3.4')?.control.zh).toBe('恶意代码和垃圾邮件防范');
    expect(catalog.itemByClause('7.1.3.4')?.requirement.zh).toBe('应在关键网络节点处对恶意代码进行检测和清除，并维护恶意代码防护机制的升级和更新');
    expect(catalog.itemByClause('8.1.3.4 b)')?.requirement.zh).toBe('应在关键网络节点处对垃圾邮件进行检测和防护，并维护垃圾邮件防护机制的升级和更新');
  });

  it('安全运维管理 x.1.10.11–13: 备份与恢复管理, 安全事件处置, 应急预案管理 with their items per level', () => {
    for (const chapter of ['7', '8', '9']) {
      expect(catalog.controlByClause(`${chapter}.1.10.11`)?.control.zh).toBe('备份与恢复管理');
      expect(catalog.controlByClause(`${chapter}.1.10.12`)?.control.zh).toBe('安全事件处置');
      expect(catalog.controlByClause(`${chapter}.1.10.13`)?.control.zh).toBe('应急预案管理');
      expect(catalog.controlByClause(`${chapter}.1.10.11`)?.area).toMatchObject({ key: 'operations', zh: '安全运维管理' });
    }
    expect(catalog.controlByClause('7.1.10.12')?.items.map((i) => i.letter)).toEqual(['a', 'b', 'c']);
    expect(catalog.controlByClause('8.1.10.12')?.items.map((i) => i.letter)).toEqual(['a', 'b', 'c', 'd']);
    expect(catalog.controlByClause('9.1.10.12')?.items.map((i) => i.letter)).toEqual(['a', 'b', 'c', 'd', 'e']);
    // Level 2 has no 应急预案框架: its a) is level 3's b).
    expect(catalog.itemByClause('7.1.10.13 a)')?.equivalents.sort()).toEqual(['8.1.10.13 b)', '9.1.10.13 b)']);
    expect(catalog.itemByClause('9.1.10.13 e)')?.requirement.zh).toBe('应建立重大安全事件的跨单位联合应急预案，并进行应急预案的演练');
  });
});

describe('GB/T 28448-2019 测评单元 ids', () => {
  const AREA_CODE: Record<string, string> = { boundary: 'ABS', computing: 'CES', management: 'SMC', operations: 'MMS' };

  it('every item has the unit id of its level and area, unique per level', () => {
    const seen = new Map<string, string>();
    for (const item of catalog.items) {
      expect(item.testUnit, item.clause).toMatch(new RegExp(`^L${item.level}-${AREA_CODE[item.area.key]}1-\\d{2}$`));
      expect(seen.get(item.testUnit), `${item.testUnit} for ${item.clause}`).toBeUndefined();
      seen.set(item.testUnit, item.clause);
    }
    expect(seen.size).toBe(catalog.items.length);
  });

  it('pins known units', () => {
    const unit = (clause: string) => catalog.itemByClause(clause)?.testUnit;
    expect(unit('7.1.4.8 a)')).toBe('L2-CES1-19');
    expect(unit('7.1.4.8 b)')).toBe('L2-CES1-20');
    expect(unit('8.1.4.9 a)')).toBe('L3-CES1-29');
    expect(unit('9.1.4.9 d)')).toBe('L4-CES1-32');
    expect(unit('8.1.4.3 a)')).toBe('L3-CES1-12');
    expect(unit('8.1.4.4 f)')).toBe('L3-CES1-22');
    expect(unit('7.1.3.3')).toBe('L2-ABS1-06');
    expect(unit('9.1.3.2 e)')).toBe('L4-ABS1-11');
    expect(unit('8.1.5.4 d)')).toBe('L3-SMC1-10');
    expect(unit('9.1.5.4 g)')).toBe('L4-SMC1-13');
    expect(unit('7.1.10.13 b)')).toBe('L2-MMS1-29');
    expect(unit('8.1.10.11 a)')).toBe('L3-MMS1-34');
    expect(unit('9.1.10.13 a)')).toBe('L4-MMS1-44');
  });

  it('rejects a unit of another level, another area, or a repeated one', () => {
    const text = `${AREAS}controls:
  - area: computing
    control: { zh: 安全审计, en: Audit }
    clauses: { 2: 7.1.4.3, 3: 8.1.4.3 }
    requirements:
      - levels: { 2: a, 3: a }
        units: { 2: L3-CES1-08, 3: L3-ABS1-12 }
        zh: x
        en: x
      - levels: { 2: b }
        units: { 2: L2-CES1-09 }
        zh: y
        en: y
      - levels: { 2: c }
        units: { 2: L2-CES1-09 }
        zh: z
        en: z
`;
    const message = problemOf(text);
    expect(message).toContain('7.1.4.3 a) unit L3-CES1-08 is not a level-2 安全计算环境 unit (L2-CES1-nn)');
    expect(message).toContain('8.1.4.3 a) unit L3-ABS1-12 is not a level-3 安全计算环境 unit (L3-CES1-nn)');
    expect(message).toContain('unit L2-CES1-09 is given twice');
  });
});

describe('resolving cited clauses to their texts', () => {
  it('gives an item itself, a control all its items, and nothing for a clause the catalog lacks', () => {
    const resolved = catalog.resolveRefs(['7.1.4.8 b)', '7.1.3.3', '8.1.5.3', '7.1.4.9', 'nonsense']);
    expect(resolved.map((r) => [r.ref, r.clause, r.testUnit])).toEqual([
      ['7.1.4.8 b)', '7.1.4.8 b)', 'L2-CES1-20'],
      ['7.1.3.3', '7.1.3.3', 'L2-ABS1-06'],
      ['8.1.5.3', '8.1.5.3 a)', 'L3-SMC1-05'],
      ['8.1.5.3', '8.1.5.3 b)', 'L3-SMC1-06'],
    ]);
    expect(resolved[0]!.requirement.zh).toBe('应提供异地数据备份功能，利用通信网络将重要数据定时批量传送至备用场地');
    expect(resolved[0]!.control.zh).toBe('数据备份恢复');
  });
});

describe('catalog checks on single requirements and stray fields', () => {
  it('rejects a control with a single requirement (-) and lettered items at one level, and units for a level the row lacks', () => {
    const text = `${AREAS}controls:
  - area: boundary
    control: { zh: 入侵防范, en: Intrusion }
    clauses: { 2: 7.1.3.3 }
    requirements:
      - levels: { 2: '-' }
        units: { 2: L2-ABS1-06, 3: L3-ABS1-10 }
        zh: x
        en: x
      - levels: { 2: b }
        units: { 2: L2-ABS1-07 }
        zh: y
        en: y
`;
    const message = problemOf(text);
    expect(message).toContain('7.1.3.3 has a single requirement (-) and lettered items too');
    expect(message).toContain('units for level 3, which the row does not have');
  });

  it('rejects an item without a unit, and a unit that is not an id', () => {
    const text = `${AREAS}controls:
  - area: operations
    control: { zh: 备份与恢复管理, en: Backup management }
    clauses: { 2: 7.1.10.11, 3: 8.1.10.11 }
    requirements:
      - levels: { 2: a, 3: a }
        units: { 2: L2-MMS1-22 }
        zh: x
        en: x
      - levels: { 2: b }
        units: { 2: 'L2-MMS1-22; DROP' }
        zh: y
        en: y
`;
    const message = problemOf(text);
    expect(message).toContain('controls[0].requirements[1].units.2');
    expect(problemOf(text.replace("'L2-MMS1-22; DROP'", 'L2-MMS1-23'))).toContain('8.1.10.11 a) has no 测评单元 (units.3)');
  });
});
