import { unwatchFile, watchFile, type Stats } from 'node:fs';
import { loadInventory, ShouwangError, type Inventory, type Logger } from '../core/index.js';

/**
 * Reloads the inventory file when it changes, so an edited file (by hand, or saved from the console
 * by another process) takes effect without a restart. Polled rather than fs.watch: it also sees
 * files on NFS and editors that replace the file. A broken edit is logged with the field it names and
 * the inventory in use stays.
 */
export function watchInventory(
  path: string, apply: (inventory: Inventory) => Promise<void>, logger: Logger, intervalMs = 2000,
): () => void {
  let queue = Promise.resolve();
  const changed = (current: Stats, previous: Stats) => {
    if (current.mtimeMs === previous.mtimeMs && current.size === previous.size && current.ino === previous.ino) return;
    queue = queue.then(async () => {
      try {
        const inventory = loadInventory(path);
        await apply(inventory);
        logger.info({ path, departments: inventory.departments.length, systems: inventory.systems.length }, '资产清单已重新加载 / inventory reloaded');
      } catch (error) {
        const code = error instanceof ShouwangError ? error.code : undefined;
        logger.error({ path, code }, `资产清单未重新加载，沿用原清单 / inventory not reloaded, keeping the one in use: ${(error as Error).message}`);
      }
    });
  };
  watchFile(path, { interval: intervalMs }, changed);
  return () => unwatchFile(path, changed);
}
