import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { AssetIndex, ConfigSchema, createLogger, createMetricsRegistry, loadInventory, type Config } from '../../core/index.js';
import { createIngestMetrics, startCollection } from '../../collectors/index.js';
import { ElasticsearchStore } from '../../store/index.js';
import { dropTestIndices } from '../harness/elasticsearch.js';
import { eventually } from '../support/eventually.js';
import { relayTo } from './elasticsearch-relay.js';

const url = inject('elasticsearchUrl');
const dir = mkdtempSync(join(tmpdir(), 'shouwang-file-share-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const assets = new AssetIndex(loadInventory('config/inventory.demo.yaml'));
const MAX_MEMORY = 1000;
const FILE_LINES = 20_000;
const TCP_LINES = 200;

describe('file sources and the network sharing the sink’s memory bound', () => {
  it('keeps half of collect.maxMemoryEvents for the network: a TCP sender is stored while a large log file is still being read, not after it', async () => {
    const prefix = `test-${randomUUID().slice(0, 8)}`;
    const logs = join(dir, prefix, 'logs');
    mkdirSync(logs, { recursive: true });
    const file = join(logs, 'big.log');
    writeFileSync(file, Array.from({ length: FILE_LINES }, (_, n) => `Nov 20 10:00:01 gaj-jwzh-app01 app[7]: file line ${n}\n`).join(''));
    const relay = relayTo(url);
    const store = await ElasticsearchStore.open({ url: await relay.listen(), indexPrefix: prefix, requestTimeoutMs: 120_000 });
    const config = { ...ConfigSchema.parse({
      dataDir: join(dir, prefix, 'data'),
      collect: {
        flushMs: 20, batchSize: 50, inFlightBatches: 2, maxMemoryEvents: MAX_MEMORY, syslog: { tcpPort: 0 },
        files: [{ id: 'big', paths: [file], startAt: 'beginning', pollMs: 50 }],
      },
    }), store: 'elasticsearch' } as Config;
    const registry = createMetricsRegistry({ defaultMetrics: false });
    const observed: string[] = [];
    const release = () => {
      relay.state.hold = false;
      relay.held.splice(0).forEach((request) => request.forward());
    };
    relay.state.hold = true; // the store is slow: nothing is stored until released
    const collection = await startCollection({
      config, store: store.events, assets, registry, metrics: createIngestMetrics(registry), logger: createLogger({ level: 'silent' }),
      observe: (events) => observed.push(...events.map((event) => String(event.message))),
    });
    let socket: Socket | undefined;
    try {
      // The tailer has filled the sink past its bound (one chunk of the file is thousands of lines).
      await eventually(() => expect(collection.sink.memoryEvents).toBeGreaterThanOrEqual(MAX_MEMORY));
      // A syslog sender connects and sends while the file is being caught up on.
      socket = connect(collection.syslogPorts.tcp!, '127.0.0.1');
      socket.on('error', () => undefined);
      socket.end(Array.from({ length: TCP_LINES }, (_, n) => `<13>Nov 20 10:00:00 rsj-shbx-app01 app: tcp ${n}\n`).join(''));
      release();

      const tcp = () => observed.filter((message) => message.startsWith('tcp ')).length;
      await eventually(() => expect(tcp()).toBe(TCP_LINES), { timeout: 60_000, interval: 5 });
      const fileWhenTcpDone = observed.length - TCP_LINES;
      console.log(`file lines stored when the TCP sender's ${TCP_LINES} were: ${fileWhenTcpDone} of ${FILE_LINES}`);
      // Before, the sender waited for the whole file: the tailer's chunks kept the sink at its bound, and the
      // connection's check every 50 ms did not meet the moments between two chunks.
      expect(fileWhenTcpDone).toBeLessThan(FILE_LINES / 2);

      // And the file is read to its end all the same, every line once.
      await eventually(() => expect(observed.length).toBe(FILE_LINES + TCP_LINES), { timeout: 120_000, interval: 100 });
      expect(new Set(observed).size).toBe(FILE_LINES + TCP_LINES);
    } finally {
      socket?.destroy();
      release();
      await collection.close();
      await store.close();
      await relay.close();
      await dropTestIndices(url, prefix);
    }
  }, 180_000);
});
