import { randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { AuditCheckpoint } from './audit-checkpoint.js';
import { PRIVATE_FILE_MODE } from './private-files.js';

/**
 * The newest signed checkpoint, kept OUTSIDE the store (`<dataDir>/evidence/audit-head.json`, beside the
 * signing key): whoever deletes the newest entries and their checkpoints from the store cannot lower it,
 * so verify sees the cut. `unreadable` (garbage, a checkpoint without its fields) fails verify too.
 */
export type AuditHighWater = AuditCheckpoint | 'unreadable' | undefined;

export function readHighWater(path: string): AuditHighWater {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    return 'unreadable';
  }
  try {
    const mark = JSON.parse(text) as AuditCheckpoint | null;
    const fits = mark !== null && typeof mark === 'object' && Number.isSafeInteger(mark.seq) && mark.seq > 0
      && typeof mark.hash === 'string' && typeof mark.at === 'string' && typeof mark.signature === 'string';
    return fits ? mark : 'unreadable';
  } catch {
    return 'unreadable';
  }
}

/**
 * Replaces the mark atomically (temporary file 0600, then rename) when `checkpoint` is newer; it never
 * moves back, so a trail that was cut keeps failing verify. Returns whether it was written.
 */
export function writeHighWater(path: string, checkpoint: AuditCheckpoint): boolean {
  const current = readHighWater(path);
  if (current === 'unreadable' || (current && current.seq >= checkpoint.seq)) return false;
  const temporary = join(dirname(path), `.audit-head-${randomBytes(6).toString('hex')}.tmp`);
  try {
    writeFileSync(temporary, `${JSON.stringify(checkpoint)}\n`, { mode: PRIVATE_FILE_MODE, flag: 'wx' });
    chmodSync(temporary, PRIVATE_FILE_MODE);
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
  return true;
}
