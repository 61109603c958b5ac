import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { seededRandom } from '../../core/index.js';
import { MariabackupDirectory } from '../../backup/index.js';

/** Reproducible junk: the same bytes every run. */
const seededRandomBytes = (length: number, seed: number) => {
  const random = seededRandom(seed);
  return Buffer.from(Array.from({ length }, () => Math.floor(random() * 256)));
};

let dir: string;

function backup(name: string, checkpoints: string | Buffer, info?: string | Buffer): void {
  mkdirSync(join(dir, name), { recursive: true });
  writeFileSync(join(dir, name, 'xtrabackup_checkpoints'), checkpoints);
  if (info !== undefined) writeFileSync(join(dir, name, 'xtrabackup_info'), info);
}
const checkpoints = (type: string, from: number | string, to: number | string) => `backup_type = ${type}\nfrom_lsn = ${from}\nto_lsn = ${to}\nlast_lsn = ${to}\n`;
const info = (end: string) => `tool_name = mariabackup\nstart_time = ${end}\nend_time = ${end}\n`;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'shouwang-mariabackup-listing-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('mariabackup directory listing under hostile input', () => {
  it('leaves out what is not a backup: no checkpoints, garbage checkpoints, a bad end_time, a plain file', async () => {
    backup('good', checkpoints('full-backuped', 0, 100), info('2026-12-01 02:00:00'));
    mkdirSync(join(dir, 'no-checkpoints'));
    backup('garbage', seededRandomBytes(4096, 7), info('2026-12-02 02:00:00'));
    backup('bad-time', checkpoints('full-backuped', 0, 200), info('yesterday'));
    backup('huge-lsn', checkpoints('incremental', '9'.repeat(400), 1), info('2026-12-03 02:00:00'));
    backup('random-info', checkpoints('full-backuped', 0, 300), randomBytes(2048));
    writeFileSync(join(dir, 'README'), 'not a backup');
    const sets = await new MariabackupDirectory({ path: dir }).listSets();
    expect(sets.map((s) => s.name)).toEqual(['20261201T020000Z', '20261203T020000Z']);
  });

  it('two backups ending in the same second keep apart by directory name', async () => {
    backup('full', checkpoints('full-backuped', 0, 100), info('2026-12-01 02:00:00'));
    backup('inc', checkpoints('incremental', 100, 150), info('2026-12-01 02:00:00'));
    const sets = await new MariabackupDirectory({ path: dir }).listSets();
    expect(sets.map((s) => s.name)).toEqual(['20261201T020000Z', '20261201T020000Z-inc']);
  });

  it('an incremental whose from_lsn matches no earlier to_lsn fails integrity without reading pages, and a self-referencing one ends', async () => {
    backup('full', checkpoints('full-backuped', 0, 100), info('2026-12-01 02:00:00'));
    backup('inc-loop', checkpoints('incremental', 150, 150), info('2026-12-02 02:00:00'));
    const target = new MariabackupDirectory({ path: dir });
    await target.listSets();
    const check = await target.checkRepository();
    expect(check.ok).toBe(false);
    expect(check.output).toMatch(/inc-loop .*from_lsn 150.* no base backup/);
  });

  it('a target path that does not exist is a target error naming it', async () => {
    await expect(new MariabackupDirectory({ path: join(dir, 'nope') }).listSets()).rejects.toThrow(/SW_ERR_BACKUP_TARGET|cannot read backup target/);
  });
});
