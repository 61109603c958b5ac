import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { expect } from 'vitest';
import { AssetIndex, loadInventory } from '../../core/index.js';
import {
  createIngestMetrics, EventSink, FileDeadLetterSink, SyslogServer, syslogHandler, type SyslogCollectorOptions, type SyslogServerOptions,
} from '../../collectors/index.js';
import { EmbeddedStore } from '../../store/index.js';
import { eventually } from '../support/eventually.js';

/** Seeded PRNG, so a failing fuzz run can be replayed. */
export { seededRandom as prng } from '../../core/index.js';

const assets = new AssetIndex(loadInventory('config/inventory.demo.yaml'));

/** A syslog server writing into a real embedded store, with its dead letters and metrics. */
export async function startSyslogCollector(
  server: Omit<SyslogServerOptions, 'onMessage'>,
  handler: Partial<Pick<SyslogCollectorOptions, 'encoding' | 'senders' | 'utcOffset'>> = {},
) {
  const dir = mkdtempSync(join(tmpdir(), 'shouwang-syslog-'));
  const store = new EmbeddedStore({ path: join(dir, 'store.db') });
  const deadDir = join(dir, 'dead');
  const deadLetters = new FileDeadLetterSink(deadDir);
  const registry = new Registry();
  const metrics = createIngestMetrics(registry);
  const sink = new EventSink({ store: store.events, spoolDir: join(dir, 'spool'), deadLetters, flushIntervalMs: 20 });
  const syslog = new SyslogServer({ ...server, onMessage: syslogHandler({ source: 'syslog', sink, assets, deadLetters, metrics, ...handler }) });
  await syslog.start();
  const deadLetterList = () => (existsSync(deadDir) ? readdirSync(deadDir) : []).flatMap((file) =>
    readFileSync(join(deadDir, file), 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as { reason: string; raw: string }));
  const counted = async (name: 'received' | 'decoded' | 'failed') =>
    (await metrics[name].get()).values.reduce((sum, value) => sum + value.value, 0);
  return {
    server: syslog, store, registry, metrics, counted,
    /** Waits until `count` messages were received, and each is in the store or a dead letter. */
    async settle(count: number) {
      await eventually(async () => expect(await counted('received')).toBeGreaterThanOrEqual(count), { timeout: 120_000 });
      await sink.flush();
      const [decoded, failed] = [await counted('decoded'), await counted('failed')];
      await eventually(async () => {
        expect((await store.events.range()).count).toBeGreaterThanOrEqual(decoded);
        expect(deadLetterList().length).toBeGreaterThanOrEqual(failed);
      }, { timeout: 60_000, interval: 100 });
    },
    deadLetters: deadLetterList,
    async close() {
      await syslog.close();
      await sink.close();
      await store.close();
    },
  };
}
