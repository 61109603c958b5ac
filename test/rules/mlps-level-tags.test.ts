/**
 * The MLPS clauses a shipped rule cites must be requirements its alert evidences at each level it names
 * (GB/T 22239-2019). A tag on a whole control cites every item of that control at that level: where a
 * level's items differ, a control tag makes a level-2 alert cite duties the rule does not show.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { loadRuleDir, type RuleDocument } from '../../analyzers/index.js';

let docs: RuleDocument[];
const tagged = (tag: string) => docs.filter((doc) => doc.tags.includes(tag)).map((doc) => doc.title);

beforeAll(async () => {
  docs = (await loadRuleDir('rules/shouwang')).documents;
});

describe('MLPS tags cite what the rule evidences at every level', () => {
  it('tags no rule with the whole 安全计算环境 入侵防范 control: at level 2 its items a)–e) are hardening duties, detection is f) at levels 3–4 only', () => {
    for (const level of ['7', '8', '9']) expect(tagged(`mlps.${level}.1.4.4`), `mlps.${level}.1.4.4`).toEqual([]);
    // Intrusion detection: 8.1.4.4 f) / 9.1.4.4 f), and no level-2 computing clause (level 2 has 7.1.3.3 at the boundary).
    const detection = tagged('mlps.8.1.4.4.f');
    expect(detection.length).toBeGreaterThanOrEqual(40);
    expect(tagged('mlps.9.1.4.4.f')).toEqual(detection);
    expect(detection).toContain('SSH 暴力破解 / SSH brute force');
    // Logins from the Internet to a management port are c) (management terminals restricted by address), at every level.
    for (const level of ['7', '8', '9']) {
      expect(tagged(`mlps.${level}.1.4.4.c`)).toEqual(expect.arrayContaining([
        '来自互联网地址的 SSH 登录成功 / successful SSH login from an internet address', '互联网地址远程桌面登录成功 / RDP logon from an Internet address',
      ]));
    }
  });

  it('tags destructive SQL with 数据完整性 b) (stored data, levels 3–4), not 7.1.4.7, which is integrity in transit', () => {
    for (const title of tagged('mlps.8.1.4.7.b')) expect(tagged('mlps.9.1.4.7.b')).toContain(title);
    expect(tagged('mlps.8.1.4.7.b')).toEqual(expect.arrayContaining(['生产数据库无条件删除 / DELETE without WHERE on a production database']));
    for (const level of ['7', '8', '9']) {
      expect(tagged(`mlps.${level}.1.4.7`).filter((title) => title.includes('生产数据库')), `mlps.${level}.1.4.7`).toEqual([]);
    }
  });
});
