/**
 * Issue #15: in English mode the console shows only the English half of a rule title
 * (console/web/js/i18n.js localTitle splits at the first " / "), so every rule of our pack,
 * correlations included, is titled "中文标题 / English title": exactly one " / ", a zh-CN half
 * and an ASCII-only English half.
 */
import { describe, expect, it } from 'vitest';
import { loadRuleDir } from '../../analyzers/index.js';

const CJK = /[\u4e00-\u9fff]/;
const SEPARATOR = ' / ';

/** Why a title is not "中文 / English", or undefined when it is. */
function titleProblem(title: string): string | undefined {
  const parts = title.split(SEPARATOR);
  if (parts.length !== 2) return `has ${parts.length - 1} " / " separators, not exactly one`;
  const [zh, en] = parts as [string, string];
  if (!CJK.test(zh)) return 'Chinese half has no CJK characters';
  if (zh.trim() !== zh || zh === '') return 'Chinese half is empty or padded';
  if (!/^[\x20-\x7e]+$/.test(en)) return 'English half is not ASCII-only';
  if (!/[A-Za-z]{2,}/.test(en) || en.trim() !== en) return 'English half has no words or is padded';
  return undefined;
}

describe('rule titles of rules/shouwang', () => {
  it('gives every rule, correlations included, a "中文 / English" title the console can split by language', async () => {
    const { documents } = await loadRuleDir('rules/shouwang');
    expect(documents.length).toBeGreaterThanOrEqual(60);
    expect(documents.some((doc) => doc.kind === 'correlation')).toBe(true);
    const problems = documents.flatMap((doc) => {
      const problem = titleProblem(doc.title);
      return problem ? [`${doc.position.file}: "${doc.title}" ${problem}`] : [];
    });
    expect(problems).toEqual([]);
  });

  it('rejects titles that are Chinese only, English only, or split more than once', () => {
    expect(titleProblem('SSH 暴力破解 / SSH brute force')).toBeUndefined();
    expect(titleProblem('SSH 暴力破解')).toBeDefined();
    expect(titleProblem('SSH brute force / SSH brute force')).toBeDefined();
    expect(titleProblem('Log4Shell / JNDI 注入尝试 / JNDI injection')).toBeDefined();
    expect(titleProblem('数据库批量导出 / 数据库 export')).toBeDefined();
    expect(titleProblem('数据库批量导出 / ')).toBeDefined();
  });
});
