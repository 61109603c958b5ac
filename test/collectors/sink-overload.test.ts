import { randomUUID } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { AssetIndex, createMetricsRegistry, loadInventory } from '../../core/index.js';
import {
  createIngestMetrics, EventSink, FileDeadLetterSink, HttpSource, sinkOutcomes, SyslogServer, syslogHandler,
} from '../../collectors/index.js';
import { ElasticsearchStore } from '../../store/index.js';
import { dropTestIndices } from '../harness/elasticsearch.js';
import { eventually } from '../support/eventually.js';
import { relayTo } from './elasticsearch-relay.js';

const url = inject('elasticsearchUrl');
const dir = mkdtempSync(join(tmpdir(), 'shouwang-sink-overload-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const assets = new AssetIndex(loadInventory('config/inventory.demo.yaml'));
const TOKEN = 'app-token-0123456789abcdef';
const MAX_MEMORY = 100;
const BATCH = 20;

/** The first line of a raw HTTP answer to headers sent alone: the server answered without waiting for the body. */
function headersOnly(port: number, contentLength: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(`POST /ingest/app HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\n`
        + `Content-Type: application/x-ndjson\r\nContent-Length: ${contentLength}\r\n\r\n`);
    });
    let text = '';
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      if (text.includes('\r\n\r\n')) {
        socket.destroy();
        resolve(text);
      }
    });
    socket.on('error', reject);
  });
}

describe('sources and a slow Elasticsearch (bulks held, the node up)', () => {
  it('answers HTTP 503 with Retry-After before reading the body, spills UDP to the disk spool, keeps memory bounded, and stores every accepted event once', async () => {
    const prefix = `test-${randomUUID().slice(0, 8)}`;
    const relay = relayTo(url);
    const store = await ElasticsearchStore.open({ url: await relay.listen(), indexPrefix: prefix, requestTimeoutMs: 120_000 });
    const registry = createMetricsRegistry({ defaultMetrics: false });
    const metrics = createIngestMetrics(registry);
    const deadLetters = new FileDeadLetterSink(join(dir, prefix, 'dead'));
    const observed = new Set<string>();
    const sink = new EventSink({
      store: store.events, spoolDir: join(dir, prefix, 'spool'), deadLetters, batchSize: BATCH, flushIntervalMs: 20, replayIntervalMs: 200,
      inFlight: 2, maxMemoryEvents: MAX_MEMORY, metrics, name: 'sink',
      observe: (events) => events.forEach((event) => observed.add(event.id)),
    });
    const http = new HttpSource({ port: 0, sink, assets, deadLetters, metrics, retryAfterSeconds: 9, sources: [{ id: 'app', token: TOKEN, format: 'json' }] });
    const syslog = new SyslogServer({
      udpPort: 0, onMessage: syslogHandler({ source: 'syslog', sink, assets, deadLetters, metrics }), saturated: () => sink.saturated,
      onDrop: (n) => metrics.dropped.inc({ source: 'syslog' }, n),
    });
    const udp = createSocket('udp4');
    try {
      await http.start();
      await syslog.start();
      // A sender that is not refused waits for the store: give up on it (and fail) rather than wait for the test's end.
      const post = (records: number, from: number, signal?: AbortSignal) => fetch(`http://127.0.0.1:${http.port}/ingest/app`, {
        method: 'POST', ...(signal ? { signal } : {}), headers: { 'content-type': 'application/x-ndjson', authorization: `Bearer ${TOKEN}` },
        body: Array.from({ length: records }, (_, i) => JSON.stringify({ '@timestamp': '2026-11-20T02:00:00Z', message: `http ${from + i}` })).join('\n'),
      });

      relay.state.hold = true; // Elasticsearch is up but takes no bulk until released
      // 100 records, the whole bound (a body of more is refused with 413): taken, and held in memory while their bulk waits.
      const first = post(MAX_MEMORY, 0);
      await eventually(() => expect(relay.held.length).toBeGreaterThan(0));

      // HTTP: refused with Retry-After and a bilingual message…
      const refused = await post(10, MAX_MEMORY, AbortSignal.timeout(15_000));
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBe('9');
      const answer = (await refused.json()) as { code: string; message: string };
      expect(answer.code).toBe('SW_ERR_INGEST_BUSY');
      expect(answer.message).toMatch(/采集管道繁忙[^]*retry after/);
      // …before the body is read: headers alone get the answer.
      expect(await headersOnly(http.port!, 10 << 20)).toMatch(/^HTTP\/1\.1 503 [^]*retry-after: 9\r\n/i);

      // UDP cannot be refused: 300 datagrams go to the disk spool, not to memory.
      let peak = 0;
      for (let chunk = 0; chunk < 6; chunk += 1) {
        for (let i = 0; i < 50; i += 1) {
          udp.send(`<13>Nov 20 10:00:00 rsj-shbx-app01 app: udp ${chunk * 50 + i}`, syslog.ports.udp!, '127.0.0.1');
        }
        await eventually(async () => {
          peak = Math.max(peak, sink.memoryEvents);
          expect(await sinkOutcomes(metrics, 'syslog')).toMatchObject({ spilled: (chunk + 1) * 50 });
        });
        peak = Math.max(peak, sink.memoryEvents);
      }
      // In memory: the held HTTP request and at most the burst being appended; the UDP events wait on disk.
      expect(peak).toBeLessThanOrEqual(MAX_MEMORY + 50);
      expect(sink.memoryEvents).toBe(MAX_MEMORY);
      expect(await sink.spooledBytes()).toBeGreaterThan(0);
      expect(sink.overloaded).toBe(true); // still: nothing was stored yet
      expect(relay.held.length).toBeLessThanOrEqual(2); // the replay too goes through the two slots
      const text = await registry.metrics();
      expect(text).toMatch(/^shouwang_ingest_lines_total\{source="syslog",outcome="spilled"\} 300$/m);
      expect(text).toMatch(/^shouwang_ingest_sink_memory_events\{sink="sink"\} 100$/m);
      expect(text).not.toMatch(/^shouwang_ingest_dropped_total\{[^}]*\} [1-9]/m);

      // Released: the first request is answered, the spool drains, and the sender's retry goes through.
      relay.state.hold = false;
      relay.held.splice(0).forEach((request) => request.forward());
      expect((await first).status).toBe(200);
      await eventually(async () => expect(await sink.spooledBytes()).toBe(0), { timeout: 60_000, interval: 200 });
      expect((await post(10, MAX_MEMORY)).status).toBe(200);
      await sink.flush();

      await store.client.indices.refresh({ index: `${prefix}-*` });
      const stored = await store.events.search({}, { size: 1000 });
      const messages = stored.items.map((event) => String(event.message));
      expect(stored.total).toBe(410);
      expect(new Set(stored.items.map((event) => event.id)).size).toBe(410);
      expect(messages.filter((message) => message.startsWith('http ')).sort()).toEqual(Array.from({ length: 110 }, (_, i) => `http ${i}`).sort());
      expect(messages.filter((message) => message.startsWith('udp ')).sort()).toEqual(Array.from({ length: 300 }, (_, i) => `udp ${i}`).sort());
      expect(observed.size).toBe(410); // the analyzers saw each event
      expect(sink.memoryEvents).toBe(0);
    } finally {
      udp.close();
      relay.state.hold = false;
      relay.held.splice(0).forEach((request) => request.forward());
      await http.close();
      await syslog.close();
      await sink.close();
      await store.close();
      await relay.close();
      await dropTestIndices(url, prefix);
    }
  }, 180_000);
});
