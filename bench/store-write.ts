import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AssetIndex, loadInventory } from '../core/index.js';
import { decodeLine, demoLogLines } from '../collectors/index.js';
import { EmbeddedStore } from '../store/index.js';
import { compare } from './measure.js';

/**
 * Embedded store writes: batches of 500 in one transaction against the baseline of one
 * transaction per event (what a naive sink does), on decoded demo events.
 */
export async function benchStoreWrite(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'shouwang-bench-'));
  const inventory = loadInventory('config/inventory.demo.yaml');
  const assets = new AssetIndex(inventory);
  const context = { utcOffset: '+08:00', now: new Date() };
  const lines = demoLogLines(inventory);
  // Decoded before timing starts, with fresh ids per round so every write inserts.
  const rounds = 5;
  const prepare = (prefix: string, count: number) =>
    Array.from({ length: rounds }, (_, round) => {
      const out = [];
      for (let i = 0; i < count; i += 1) {
        const decoded = decodeLine(lines[i % lines.length]!, `${prefix}-${round}-${i}`, assets, context);
        if (decoded.ok) out.push(decoded.event);
      }
      return out;
    });
  const single = prepare('single', 2_000);
  const batched = prepare('batched', 20_000);
  const store = new EmbeddedStore({ path: join(dir, 'bench.db') });
  try {
    await compare('embedded store: write events', 'events/s', {
      'one transaction per event (baseline)': async () => {
        const batch = single.pop()!;
        for (const event of batch) await store.events.write([event]);
        return batch.length;
      },
      'batches of 500 in one transaction': async () => {
        const batch = batched.pop()!;
        for (let i = 0; i < batch.length; i += 500) await store.events.write(batch.slice(i, i + 500));
        return batch.length;
      },
    }, rounds);
    await compare('embedded store: search (time range + field filter + full text), 50 per page', 'queries/s', {
      'field filter via JSON (baseline)': async () => {
        for (let i = 0; i < 50; i += 1) await store.events.search({ filters: { 'host.name': 'gaj-jwzh-app01' } });
        return 50;
      },
      'department column + full text': async () => {
        for (let i = 0; i < 50; i += 1) await store.events.search({ filters: { 'shouwang.department': 'gaj' }, text: 'Failed password' });
        return 50;
      },
    });
    console.log(`  (store holds ${(await store.events.range()).count.toLocaleString('en-US')} events)`);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
