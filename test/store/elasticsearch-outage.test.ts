import { describe, expect, it } from 'vitest';
import { ShouwangError } from '../../core/index.js';
import { ElasticsearchStore } from '../../store/index.js';
import { startElasticsearch } from '../harness/elasticsearch.js';

describe('elasticsearch store when the engine stops', () => {
  it('gives typed errors mid-write and in health, and does not crash', async () => {
    // A node of its own, since this test kills it.
    const node = await startElasticsearch();
    const store = await ElasticsearchStore.open({ url: node.url, indexPrefix: 'outage', requestTimeoutMs: 5000 });
    let written = 0;
    let failure: unknown;
    let stopping: Promise<void> | undefined;
    for (let batch = 0; batch < 1000 && failure === undefined; batch += 1) {
      const events = Array.from({ length: 200 }, (_, i) => ({
        id: `b${batch}-${i}`, '@timestamp': new Date(Date.UTC(2026, 0, 1, 0, 0, batch, i)).toISOString(), message: `event ${batch}/${i}`,
      }));
      try {
        written += (await store.events.write(events)).written;
      } catch (error) {
        failure = error;
      }
      stopping ??= node.stop(); // stop the engine while the loop keeps writing
    }
    await stopping;
    expect(written).toBeGreaterThan(0);
    expect(failure).toBeInstanceOf(ShouwangError);
    expect(failure).toMatchObject({ code: 'SW_ERR_STORE_UNAVAILABLE', statusCode: 503 });
    await expect(store.events.search({})).rejects.toMatchObject({ code: 'SW_ERR_STORE_UNAVAILABLE' });
    expect(await store.health()).toMatchObject({ ok: false });
    await store.close();
  }, 120_000);
});
