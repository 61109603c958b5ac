// An empty backup (files of 0 bytes, checksums that match) is a failed backup, not a verified one.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatSetName, overallStatus, verifyBackups } from '../../backup/index.js';
import { drillSystem } from './fixtures/drill-sources.js';

const dir = mkdtempSync(join(tmpdir(), 'shouwang-empty-set-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('an empty backup set', () => {
  it('fails completeness when every file of the latest set is 0 bytes, though the manifest matches', async () => {
    const root = join(dir, 'same');
    const set = join(root, formatSetName(new Date(Date.now() - 3_600_000)));
    mkdirSync(join(set, 'db'), { recursive: true });
    writeFileSync(join(set, 'db', 'main.dump'), '');
    writeFileSync(join(set, 'data.tar'), '');
    const empty = createHash('sha256').digest('hex');
    writeFileSync(join(set, 'SHA256SUMS'), `${empty}  db/main.dump\n${empty}  data.tar\n`);
    const results = await verifyBackups(drillSystem('empty-set', root), { sites: ['same-city'], runId: 'run-empty' });
    const completeness = results.find((r) => r.detail.check === 'completeness')!;
    expect(completeness.status).toBe('fail');
    expect(completeness.summary).toContain('is empty (0 bytes)');
    expect(completeness.summary).toContain('都是空的');
    expect(overallStatus(results)).toBe('fail');
  });
});
