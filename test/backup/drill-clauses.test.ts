// A drill result lands in the signed evidence bundle (restore-drills.ndjson) with the 数据备份恢复 items it evidences.
// GB/T 22239-2019 6.1.4.7 (level 1) is one requirement without letters, local backup and recovery only; a level-1
// drill cited "6.1.4.7 a)" and "6.1.4.7 b)", items the standard does not have.
import { describe, expect, it } from 'vitest';
import { drillClauses } from '../../backup/drill/index.js';

describe('the items a restore drill evidences', () => {
  it('level 1: 6.1.4.7 for the same-city copy, nothing for the off-site one (level 1 asks for no off-site backup)', () => {
    expect(drillClauses(1, 'same-city')).toEqual(['6.1.4.7']);
    expect(drillClauses(1, 'off-site')).toEqual([]);
  });

  it('levels 2-4: a) local backup and recovery for the same-city copy, b) off-site backup for the off-site one', () => {
    expect([2, 3, 4].map((level) => [drillClauses(level, 'same-city'), drillClauses(level, 'off-site')])).toEqual([
      [['7.1.4.8 a)'], ['7.1.4.8 b)']],
      [['8.1.4.9 a)'], ['8.1.4.9 b)']],
      [['9.1.4.9 a)'], ['9.1.4.9 b)']],
    ]);
  });
});
