import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AssetIndex, createMetricsRegistry, loadInventory } from '../../core/index.js';
import {
  createIngestMetrics, demoLogLines, EventSink, FileDeadLetterSink, ingestLines, readFileLines, readPostgresRecords, resolveFormat, sinkOutcomes,
  type DeadLetterSink, type FileLine, type IngestMetrics,
} from '../../collectors/index.js';
import { ElasticsearchStore, EmbeddedStore } from '../../store/index.js';
import { startElasticsearch } from '../harness/elasticsearch.js';
import { eventually } from '../support/eventually.js';

const dir = mkdtempSync(join(tmpdir(), 'shouwang-ingest-'));
const inventory = loadInventory('config/inventory.demo.yaml');
const assets = new AssetIndex(inventory);
let store: EmbeddedStore;
beforeAll(() => {
  store = new EmbeddedStore({ path: join(dir, 'store.db') });
});
afterAll(() => store.close());

/** Lines through the decode stage and the event sink `collect` uses; what the sink did, from its metrics. */
async function ingest(
  lines: AsyncIterable<FileLine> | Iterable<FileLine>,
  options: { source: string; deadLetters: DeadLetterSink; format?: string; now?: Date; metrics?: IngestMetrics },
) {
  const metrics = options.metrics ?? createIngestMetrics(createMetricsRegistry({ defaultMetrics: false }));
  const { source, deadLetters } = options;
  const sink = new EventSink({ store: store.events, spoolDir: join(dir, 'spool'), deadLetters, metrics });
  const format = resolveFormat({ source, format: options.format ?? 'auto', assets });
  const stats = await ingestLines(lines, { source, format, sink, deadLetters, metrics, ...(options.now ? { now: options.now } : {}) });
  await sink.close();
  const outcomes = await sinkOutcomes(metrics, source);
  return { lines: stats.lines, written: outcomes.written ?? 0, duplicates: outcomes.duplicate ?? 0, deadLettered: stats.deadLettered };
}

describe('line ingest', () => {
  it('stores a file once, tags known hosts, flags unknown ones and dead-letters bad lines with the reason', async () => {
    const file = join(dir, 'auth.log');
    writeFileSync(file, [
      'Nov 20 10:00:01 rsj-shbx-app01 sshd[100]: Failed password for root from 203.0.113.9 port 4000 ssh2',
      'Nov 20 10:00:02 mystery-host sshd[101]: Accepted password for ops from 10.0.0.1 port 4001 ssh2',
      'this line is not syslog',
      '{"@timestamp":"2026-11-20T02:00:03Z","message":"json event","host":{"name":"wjw-qmjk-app01"}}',
      '{"message": "no time"',
      '',
    ].join('\n'));
    const deadLetters = new FileDeadLetterSink(join(dir, 'dead-letter'));
    const registry = createMetricsRegistry({ defaultMetrics: false });
    const metrics = createIngestMetrics(registry);
    const first = await ingest(readFileLines(file), { source: 'auth', deadLetters, metrics, now: new Date('2026-11-26T00:00:00Z') });
    expect(first).toEqual({ lines: 5, written: 3, duplicates: 0, deadLettered: 2 });
    const again = await ingest(readFileLines(file), { source: 'auth', deadLetters, now: new Date('2026-11-26T00:00:00Z') });
    expect(again).toMatchObject({ written: 0, duplicates: 3 });

    const page = await store.events.search({ filters: { 'shouwang.source': 'auth' } }, { order: 'asc' });
    expect(page.items.map((e) => e.shouwang)).toEqual([
      { system: 'rsj-shbx', department: 'rsj', mlps_level: 3, source: 'auth' },
      { unknown_asset: true, source: 'auth' },
      { system: 'wjw-qmjk', department: 'wjw', mlps_level: 3, source: 'auth' },
    ]);
    expect(page.items[0]).toMatchObject({
      '@timestamp': '2026-11-20T02:00:01.000Z', host: { name: 'rsj-shbx-app01' }, process: { name: 'sshd', pid: 100 },
      // what sshd's message says, from the message decoders
      event: { category: ['authentication'], outcome: 'failure', dataset: 'syslog' }, user: { name: 'root' }, source: { ip: '203.0.113.9' },
    });

    const [letterFile] = readdirSync(join(dir, 'dead-letter'));
    const letters = readFileSync(join(dir, 'dead-letter', letterFile!), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(letters.slice(0, 2)).toEqual([
      expect.objectContaining({ source: 'auth', position: 'line:3', raw: 'this line is not syslog', reason: expect.stringContaining('not a syslog line') }),
      expect.objectContaining({ source: 'auth', position: 'line:5', reason: expect.stringContaining('invalid JSON') }),
    ]);
    expect(await registry.getSingleMetricAsString('shouwang_ingest_lines_total')).toMatch(/source="auth",outcome="dead_letter"} 2/);
  });

  it('replays the demo log set: every line stored or dead-lettered, the same hour twice stores nothing new', async () => {
    const now = new Date('2026-11-26T09:30:00Z');
    const lines = demoLogLines(inventory, now);
    expect(lines.length).toBeGreaterThan(1000);
    expect(demoLogLines(inventory, new Date('2026-11-26T09:59:00Z'))).toEqual(lines);
    const deadLetters = new FileDeadLetterSink(join(dir, 'demo-dead-letter'));
    const stats = await ingest(lines, { source: 'demo', deadLetters, now });
    expect(stats.written + stats.deadLettered).toBe(lines.length);
    expect(stats.deadLettered).toBe(3);
    expect((await ingest(lines, { source: 'demo', deadLetters, now })).written).toBe(0);
    const burst = await store.events.search({ filters: { 'shouwang.source': 'demo' }, text: '203.0.113.45 Failed' }, { size: 1 });
    expect(burst.total).toBeGreaterThanOrEqual(60);
    expect((await store.events.countBy({ filters: { 'shouwang.source': 'demo' } }, 'shouwang.unknown_asset'))).toEqual([{ key: 'true', count: 5 }]);
  });

  it('ingests database-audit records by format into db.* events, grouped by operation class', async () => {
    const deadLetters = new FileDeadLetterSink(join(dir, 'pg-dead-letter'));
    const stats = await ingest(readPostgresRecords('test/fixtures/logs/pgaudit/pgaudit_audit_lines.txt', 'stderr'), {
      source: 'pgaudit-fixture', deadLetters, format: 'pgaudit',
    });
    expect(stats).toMatchObject({ lines: 415, written: 415, deadLettered: 0 });
    const classes = await store.events.countBy({ filters: { 'shouwang.source': 'pgaudit-fixture' } }, 'db.operation_class');
    expect(classes).toEqual([
      { key: 'WRITE', count: 93 }, { key: 'DDL', count: 97 }, { key: 'READ', count: 81 }, { key: 'MISC', count: 78 },
      { key: 'ROLE', count: 50 }, { key: 'FUNCTION', count: 16 },
    ].sort((a, b) => b.count - a.count || a.key.localeCompare(b.key)));
    expect(() => resolveFormat({ source: 'x', format: 'nope', assets })).toThrow(/format: expected json, syslog or one of .*pgaudit.*, got "nope"/);
  });
});

describe('line ingest when the store goes down (the path of `shouwang ingest`)', () => {
  it('spools what the store cannot take mid-file, replays it when the store is back, and a re-run stores nothing twice', async () => {
    const dataDir = join(dir, 'es-data');
    let node = await startElasticsearch({ dataDir });
    const port = Number(new URL(node.url).port);
    const prefix = `ingest-${randomUUID().slice(0, 8)}`;
    const store = await ElasticsearchStore.open({ url: node.url, indexPrefix: prefix, requestTimeoutMs: 3000 });
    const registry = createMetricsRegistry({ defaultMetrics: false });
    const metrics = createIngestMetrics(registry);
    const deadLetters = new FileDeadLetterSink(join(dir, 'es-dead'));
    const observed: string[] = [];
    const sink = new EventSink({
      store: store.events, spoolDir: join(dir, 'es-spool'), deadLetters, batchSize: 100, flushIntervalMs: 20, replayIntervalMs: 300, metrics,
      observe: (events) => void observed.push(...events.map((event) => event.id)),
    });
    const text = (i: number) => `Nov 26 10:${String(Math.floor(i / 60) % 60).padStart(2, '0')}:${String(i % 60).padStart(2, '0')} rsj-shbx-app01 app[1]: line ${i}`;
    // The store goes away after the first 500 lines of 2,000, while the file is being read.
    async function* lines(stopStore: boolean): AsyncGenerator<FileLine> {
      for (let i = 0; i < 2000; i += 1) {
        if (stopStore && i === 500) await node.stop();
        yield { text: text(i), position: `line:${i + 1}` };
      }
    }
    const format = resolveFormat({ source: 'big-file', format: 'auto', assets });
    try {
      const stats = await ingestLines(lines(true), { source: 'big-file', format, sink, deadLetters, metrics, batchSize: 100 });
      expect(stats).toEqual({ lines: 2000, events: 2000, deadLettered: 0 });
      expect(await sink.spooledBytes()).toBeGreaterThan(0);
      node = await startElasticsearch({ dataDir, port });
      await eventually(async () => expect(await sink.spooledBytes()).toBe(0), { timeout: 60_000, interval: 200 });
      await store.client.indices.refresh({ index: `${prefix}-*` });
      expect((await store.events.search({ filters: { 'shouwang.source': 'big-file' } }, { size: 1 })).total).toBe(2000);
      // Each event reached the analyzers once.
      expect(new Set(observed).size).toBe(2000);
      expect(observed).toHaveLength(2000);
      const again = await ingestLines(lines(false), { source: 'big-file', format, sink, deadLetters, metrics, batchSize: 100 });
      expect(again.events).toBe(2000);
      await sink.flush();
      expect(await sinkOutcomes(metrics, 'big-file')).toMatchObject({ duplicate: 2000 });
    } finally {
      await sink.close();
      await store.close();
      await node.stop();
    }
  }, 240_000);
});
