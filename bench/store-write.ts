import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { AssetIndex, loadInventory, type ShouwangEvent } from '../core/index.js';
import { decodeLine, demoLogLines } from '../collectors/index.js';
import { EmbeddedStore } from '../store/index.js';
import { compare, median } from './measure.js';

const BATCH = 500;
const ROUNDS = 5;

/**
 * Embedded store writes: our store's events/s beside the raw SQLite ceiling for the same documents
 * (better-sqlite3, one transaction per batch of 500 into a plain table, the store's WAL settings; once more
 * with its checkpoints after the timed writes, as the store's writes leave theirs to the background step),
 * measured in the same run, and the ratios; then the older baseline of one transaction per event, and search.
 */
export async function benchStoreWrite(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'shouwang-bench-'));
  const inventory = loadInventory('config/inventory.demo.yaml');
  const assets = new AssetIndex(inventory);
  const context = { utcOffset: '+08:00', now: new Date() };
  const lines = demoLogLines(inventory);
  // Decoded before timing starts, with fresh ids per round so every write inserts.
  const prepare = (prefix: string, count: number, rounds = ROUNDS) =>
    Array.from({ length: rounds }, (_, round) => {
      const out: ShouwangEvent[] = [];
      for (let i = 0; i < count; i += 1) {
        const decoded = decodeLine(lines[i % lines.length]!, `${prefix}-${round}-${i}`, assets, context);
        if (decoded.ok) out.push(decoded.event);
      }
      return out;
    });
  const store = new EmbeddedStore({ path: join(dir, 'bench.db') });
  const raw = new Database(join(dir, 'raw.db'));
  raw.pragma('journal_mode = WAL');
  raw.pragma('synchronous = NORMAL');
  raw.pragma('wal_autocheckpoint = 10000');
  raw.exec('CREATE TABLE events (doc TEXT NOT NULL)');
  const rawInsert = raw.prepare('INSERT INTO events (doc) VALUES (?)');
  const rawBatch = raw.transaction((events: readonly ShouwangEvent[]) => {
    for (const event of events) rawInsert.run(JSON.stringify(event));
  });
  // The same ceiling with its checkpoints left until after the timed writes, as the store's writes leave theirs
  // to its background step: the stricter comparison (a write call of neither pays a checkpoint).
  const deferred = new Database(join(dir, 'raw-deferred.db'));
  deferred.pragma('journal_mode = WAL');
  deferred.pragma('synchronous = NORMAL');
  deferred.pragma('wal_autocheckpoint = 0');
  deferred.exec('CREATE TABLE events (doc TEXT NOT NULL)');
  const deferredInsert = deferred.prepare('INSERT INTO events (doc) VALUES (?)');
  const deferredBatch = deferred.transaction((events: readonly ShouwangEvent[]) => {
    for (const event of events) deferredInsert.run(JSON.stringify(event));
  });
  try {
    // Ours vs the ceiling, interleaved round by round: the same documents (other ids) into each.
    const ours = prepare('ours', 50_000);
    const ceiling = prepare('raw', 50_000);
    const ceilingDeferred = prepare('raw-deferred', 50_000);
    const rates: Record<'raw' | 'deferred' | 'ours' | 'searchable', number[]> = { raw: [], deferred: [], ours: [], searchable: [] };
    // CPU seconds of the same timed loops: less moved than wall time by the other processes on a shared machine.
    const cpu: Record<'raw' | 'ours', number[]> = { raw: [], ours: [] };
    const cpuSeconds = () => {
      const { user, system } = process.cpuUsage();
      return (user + system) / 1e6;
    };
    for (let round = 0; round < ROUNDS; round += 1) {
      const rawEvents = ceiling[round]!;
      let started = performance.now();
      let cpuStarted = cpuSeconds();
      for (let i = 0; i < rawEvents.length; i += BATCH) rawBatch(rawEvents.slice(i, i + BATCH));
      rates.raw.push(rawEvents.length / ((performance.now() - started) / 1000));
      cpu.raw.push(rawEvents.length / (cpuSeconds() - cpuStarted));
      const deferredEvents = ceilingDeferred[round]!;
      started = performance.now();
      for (let i = 0; i < deferredEvents.length; i += BATCH) deferredBatch(deferredEvents.slice(i, i + BATCH));
      rates.deferred.push(deferredEvents.length / ((performance.now() - started) / 1000));
      deferred.pragma('wal_checkpoint(PASSIVE)');
      const events = ours[round]!;
      started = performance.now();
      cpuStarted = cpuSeconds();
      for (let i = 0; i < events.length; i += BATCH) await store.events.write(events.slice(i, i + BATCH));
      rates.ours.push(events.length / ((performance.now() - started) / 1000));
      cpu.ours.push(events.length / (cpuSeconds() - cpuStarted));
      // Until every event written is also in the full-text index (a search answers from it).
      await store.events.search({ text: 'zzzz-no-such-word' });
      rates.searchable.push(events.length / ((performance.now() - started) / 1000));
    }
    const [rawRate, deferredRate, ourRate, searchableRate] = [median(rates.raw), median(rates.deferred), median(rates.ours), median(rates.searchable)];
    // The machine is shared: each round's ratio compares two runs seconds apart; their median is the figure.
    const ratio = (of: number[], to = rates.raw) => median(of.map((rate, round) => rate / to[round]!)).toFixed(2);
    const rate = (value: number) => Math.round(value).toLocaleString('en-US').padStart(10);
    console.log(`\nembedded store: write throughput against the raw SQLite ceiling, ${BATCH} events per batch (median of ${ROUNDS} rounds of 50,000 demo events)`);
    console.log(`  raw better-sqlite3 batch insert into a plain table (ceiling) ${rate(rawRate)} events/s`);
    console.log(`  … its checkpoints left until after the writes               ${rate(deferredRate)} events/s`);
    console.log(`  store.events.write                                          ${rate(ourRate)} events/s  ${(ourRate / rawRate).toFixed(2)}× ceiling (median per-round ratio ${ratio(rates.ours)}×); ${(ourRate / deferredRate).toFixed(2)}× the deferred one (${ratio(rates.ours, rates.deferred)}×)`);
    console.log(`  store.events.write by CPU time (events per CPU-second)       ${rate(median(cpu.ours))} events/s  ${ratio(cpu.ours, cpu.raw)}× the ceiling's ${rate(median(cpu.raw)).trim()} (median per-round ratio)`);
    console.log(`  … and searchable (full-text index caught up)                ${rate(searchableRate)} events/s  ${(searchableRate / rawRate).toFixed(2)}× ceiling (median per-round ratio ${ratio(rates.searchable)}×)`);

    if (process.env.SHOUWANG_BENCH_RATIO_ONLY) return;
    const single = prepare('single', 2_000);
    const batched = prepare('batched', 20_000);
    await compare('embedded store: write events', 'events/s', {
      'one transaction per event (baseline)': async () => {
        const batch = single.pop()!;
        for (const event of batch) await store.events.write([event]);
        return batch.length;
      },
      [`batches of ${BATCH} in one transaction`]: async () => {
        const batch = batched.pop()!;
        for (let i = 0; i < batch.length; i += BATCH) await store.events.write(batch.slice(i, i + BATCH));
        return batch.length;
      },
    }, ROUNDS);
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
    raw.close();
    deferred.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
