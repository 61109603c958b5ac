import { randomUUID } from 'node:crypto';
import { AssetIndex, loadInventory, type ShouwangEvent } from '../core/index.js';
import { decodeLine, demoLogLines } from '../collectors/index.js';
import { ElasticsearchStore } from '../store/index.js';
import { startElasticsearch } from '../test/harness/elasticsearch.js';
import { compare } from './measure.js';

const BATCH = 1000;
const PER_ROUND = 20_000;

/**
 * Elasticsearch adapter writes against the floor: a raw `_bulk` of the same pre-serialized documents
 * over plain HTTP. Uses $SHOUWANG_ELASTICSEARCH_URL, else starts the test node.
 */
export async function benchStoreBulk(): Promise<void> {
  const node = process.env.SHOUWANG_ELASTICSEARCH_URL ? undefined : await startElasticsearch();
  const url = process.env.SHOUWANG_ELASTICSEARCH_URL ?? node!.url;
  const indexPrefix = `bench-${randomUUID().slice(0, 8)}`;
  const store = await ElasticsearchStore.open({ url, indexPrefix });
  try {
    const inventory = loadInventory('config/inventory.demo.yaml');
    const assets = new AssetIndex(inventory);
    const lines = demoLogLines(inventory);
    const context = { utcOffset: '+08:00', now: new Date() };
    const rounds = 5;
    const prepare = (prefix: string) =>
      Array.from({ length: rounds }, (_, round) => {
        const events: ShouwangEvent[] = [];
        for (let i = 0; i < PER_ROUND; i += 1) {
          const decoded = decodeLine(lines[i % lines.length]!, `${prefix}-${round}-${i}`, assets, context);
          if (decoded.ok) events.push(decoded.event);
        }
        return events;
      });
    const forAdapter = prepare('adapter');
    // The raw side gets its bodies serialized before timing: the floor is HTTP + Elasticsearch alone.
    const rawBodies = prepare('raw').map((events) => {
      const bodies: string[] = [];
      for (let i = 0; i < events.length; i += BATCH) {
        bodies.push(events.slice(i, i + BATCH).map((e) =>
          `${JSON.stringify({ create: { _index: store.names.eventsFor(e['@timestamp']), _id: e.id } })}\n${JSON.stringify(e)}\n`).join(''));
      }
      return { bodies, count: events.length };
    });

    await compare(`elasticsearch: write ${PER_ROUND.toLocaleString('en-US')} events in bulks of ${BATCH}`, 'events/s', {
      'raw _bulk over HTTP, pre-serialized (baseline)': async () => {
        const { bodies, count } = rawBodies.pop()!;
        for (const body of bodies) {
          const response = await fetch(`${url}/_bulk`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body });
          const result = (await response.json()) as { errors: boolean };
          if (!response.ok || result.errors) throw new Error('raw bulk failed');
        }
        return count;
      },
      'ElasticsearchStore.events.write': async () => {
        const events = forAdapter.pop()!;
        for (let i = 0; i < events.length; i += BATCH) {
          const result = await store.events.write(events.slice(i, i + BATCH));
          if (result.rejected.length) throw new Error(`rejected: ${result.rejected[0]!.reason}`);
        }
        return events.length;
      },
    }, rounds);
  } finally {
    await store.client.indices.delete({ index: `${indexPrefix}-*`, ignore_unavailable: true, allow_no_indices: true });
    await store.client.indices.deleteIndexTemplate({ name: `${indexPrefix}-events` }).catch(() => undefined);
    await store.close();
    await node?.stop();
  }
}
