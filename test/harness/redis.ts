import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalRedis, type LocalRedis } from '../../core/index.js';

/** A throwaway redis-server for tests; the same launcher `npm start` uses. */
export async function startRedis(): Promise<LocalRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'shouwang-redis-'));
  const redis = await startLocalRedis({ dir });
  return {
    ...redis,
    stop: async () => {
      await redis.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
