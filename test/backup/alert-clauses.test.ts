import { describe, expect, it } from 'vitest';
import { backupClause, backupFailureAlert } from '../../backup/index.js';
import { loadMlpsCatalog } from '../../analyzers/index.js';
import type { BackupCheckName, BusinessSystem, JobResult } from '../../core/index.js';

const catalog = loadMlpsCatalog();

function system(mlpsLevel: number): BusinessSystem {
  return { id: `sys-l${mlpsLevel}`, name: 'OA', department: 'dept-a', mlpsLevel } as unknown as BusinessSystem;
}

function result(site: 'same-city' | 'off-site', check: BackupCheckName, clause?: string): JobResult {
  return {
    id: `r-${site}-${check}`, kind: 'backup-check', status: 'fail', system: 'sys', site,
    startedAt: '2026-12-01T00:00:00.000Z', finishedAt: '2026-12-01T00:01:00.000Z', summary: 'failed',
    detail: { check, site, ...(clause ? { clause } : {}) },
  };
}

describe('backup alerts cite 数据备份恢复 of the system level', () => {
  it('names 7.1.4.8 at level 2 (level 2 has no 数据保密性), 8.1.4.9 at 3, 9.1.4.9 at 4, 6.1.4.7 at 1', () => {
    expect(backupClause(2)).toBe('GB/T 22239-2019 7.1.4.8 数据备份恢复');
    expect(backupClause(3)).toBe('GB/T 22239-2019 8.1.4.9 数据备份恢复');
    expect(backupClause(4)).toBe('GB/T 22239-2019 9.1.4.9 数据备份恢复');
    expect(backupClause(1)).toBe('GB/T 22239-2019 6.1.4.7 数据备份恢复');
  });

  it('cites a) for the local site and b) for off-site and cross-site, each an item of the catalog at that level', () => {
    const window = '2026-11-30T16:00:00.000Z';
    for (const level of [2, 3, 4]) {
      const local = backupFailureAlert(system(level), result('same-city', 'integrity'), window).mlps;
      const offSite = backupFailureAlert(system(level), result('off-site', 'freshness'), window).mlps;
      const cross = backupFailureAlert(system(level), result('same-city', 'cross-site'), window).mlps;
      expect([local, offSite, cross].flat().every((c) => catalog.itemByClause(c)?.control.zh === '数据备份恢复')).toBe(true);
      expect([local, offSite, cross].flat().every((c) => catalog.itemByClause(c)?.level === level)).toBe(true);
    }
    expect(backupFailureAlert(system(2), result('off-site', 'freshness'), window).mlps).toEqual(['7.1.4.8 b)']);
    // Level 1's 数据备份恢复 is one requirement without a letter.
    expect(backupFailureAlert(system(1), result('same-city', 'presence'), window).mlps).toEqual(['6.1.4.7']);
  });

  it('ignores a clause stored with an older result (7.1.4.9 was once written for level 2)', () => {
    const old = result('same-city', 'integrity', 'GB/T 22239-2019 7.1.4.9 数据备份恢复');
    expect(backupFailureAlert(system(2), old, '2026-11-30T16:00:00.000Z').mlps).toEqual(['7.1.4.8 a)']);
  });
});
