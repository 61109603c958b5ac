import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import {
  AssetIndex, ConfigSchema, createLogger, createMetricsRegistry, loadInventory, type Config, type ShouwangEvent,
} from '../../core/index.js';
import {
  createIngestMetrics, EventSink, FileDeadLetterSink, HttpSource, startCollection, SyslogServer, syslogHandler,
} from '../../collectors/index.js';
import { ElasticsearchStore } from '../../store/index.js';
import { dropTestIndices } from '../harness/elasticsearch.js';
import { eventually } from '../support/eventually.js';
import { relayTo } from './elasticsearch-relay.js';

const url = inject('elasticsearchUrl');
const dir = mkdtempSync(join(tmpdir(), 'shouwang-sink-bound-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const assets = new AssetIndex(loadInventory('config/inventory.demo.yaml'));
const TOKEN = 'app-token-0123456789abcdef';
const MAX_MEMORY = 1000;
/** What one read of a TCP socket hands over at most: libuv reads into 64 KiB buffers. */
const READ_BYTES = 64 * 1024;

/**
 * The sink's own counter read right after every write: the only moment it grows (no spill here), so this is
 * its exact peak. The write itself is the real one.
 */
function watchPeak(sink: EventSink): { value: number } {
  const peak = { value: 0 };
  const write = sink.write.bind(sink);
  sink.write = (events) => {
    const answer = write(events);
    peak.value = Math.max(peak.value, sink.memoryEvents);
    return answer;
  };
  return peak;
}

/** The collector of `shouwang collect`, on an Elasticsearch node reached through a relay that can hold bulks. */
async function collectThroughRelay(collect: Record<string, unknown>) {
  const prefix = `test-${randomUUID().slice(0, 8)}`;
  const relay = relayTo(url);
  const store = await ElasticsearchStore.open({ url: await relay.listen(), indexPrefix: prefix, requestTimeoutMs: 120_000 });
  const config = { ...ConfigSchema.parse({
    dataDir: join(dir, prefix), collect: { flushMs: 20, batchSize: 50, inFlightBatches: 2, maxMemoryEvents: MAX_MEMORY, ...collect },
  }), store: 'elasticsearch' } as Config;
  const registry = createMetricsRegistry({ defaultMetrics: false });
  const observed: string[] = [];
  const collection = await startCollection({
    config, store: store.events, assets, registry, metrics: createIngestMetrics(registry), logger: createLogger({ level: 'silent' }),
    observe: (events) => observed.push(...events.map((event) => String(event.message))),
  });
  const peak = watchPeak(collection.sink);
  /** Every stored message (ids are per content: one document per message stored, however often it was sent). */
  const storedMessages = async () => {
    await store.client.indices.refresh({ index: `${prefix}-*` });
    const found = await store.client.search<ShouwangEvent>({ index: `${prefix}-*`, size: 10_000, _source: ['message'], track_total_hits: true });
    return found.hits.hits.map((hit) => String(hit._source?.message));
  };
  const release = () => {
    relay.state.hold = false;
    relay.held.splice(0).forEach((request) => request.forward());
  };
  const close = async () => {
    release();
    await collection.close();
    await store.close();
    await relay.close();
    await dropTestIndices(url, prefix);
  };
  return { relay, collection, peak, observed, storedMessages, release, close };
}

describe('the sink’s memory bound across TCP connections', () => {
  it('pauses every TCP connection once the sink holds collect.maxMemoryEvents, so 50 connections together stay within the bound plus one read; each resumes as the store catches up, in order, every event stored once', async () => {
    const env = await collectThroughRelay({ syslog: { tcpPort: 0 } });
    const CONNECTIONS = 50;
    const PER_CONNECTION = 160;
    const LINE_BYTES = 250;
    const line = (c: number, n: number) => {
      const head = `<13>Nov 20 10:00:00 rsj-shbx-app01 app: tcp c=${c} n=${n} `;
      return `${head}${'x'.repeat(LINE_BYTES - head.length - 1)}\n`;
    };
    const sockets: Socket[] = [];
    try {
      env.relay.state.hold = true; // Elasticsearch is up but takes no bulk until released
      // 50 senders behind a load balancer, each with 160 messages (40 KB: the kernel's buffers hold it while paused).
      for (let c = 0; c < CONNECTIONS; c += 1) {
        const socket = connect(env.collection.syslogPorts.tcp!, '127.0.0.1');
        socket.on('error', () => undefined);
        socket.end(Array.from({ length: PER_CONNECTION }, (_, n) => line(c, n)).join(''));
        sockets.push(socket);
      }
      await eventually(() => expect(env.collection.sink.memoryEvents).toBeGreaterThanOrEqual(MAX_MEMORY));

      // Released: the store drains the sink, and the paused connections resume until all has arrived.
      env.release();
      const total = CONNECTIONS * PER_CONNECTION;
      await eventually(() => expect(env.observed.length).toBeGreaterThanOrEqual(total), { timeout: 120_000, interval: 200 });
      // The bound held throughout, hold and drain: past it by at most the events of the one read that reached it.
      const slack = Math.ceil(READ_BYTES / LINE_BYTES) + 1;
      console.log(`TCP ${CONNECTIONS} connections: sink memory peak ${env.peak.value} (bound ${MAX_MEMORY}, slack ${slack})`);
      expect(env.peak.value).toBeLessThanOrEqual(MAX_MEMORY + slack);

      // Each connection's messages reached the analyzers once each, in the order sent.
      expect(env.observed).toHaveLength(total);
      const byConnection = new Map<number, number[]>();
      for (const message of env.observed) {
        const [, c, n] = /tcp c=(\d+) n=(\d+)/.exec(message)!.map(Number);
        byConnection.set(c!, [...(byConnection.get(c!) ?? []), n!]);
      }
      expect(byConnection.size).toBe(CONNECTIONS);
      for (const sequence of byConnection.values()) expect(sequence).toEqual(Array.from({ length: PER_CONNECTION }, (_, n) => n));
      const stored = await env.storedMessages();
      expect(stored).toHaveLength(total);
      expect(new Set(stored).size).toBe(total);
      expect(env.collection.sink.memoryEvents).toBe(0);
    } finally {
      sockets.forEach((socket) => socket.destroy());
      await env.close();
    }
  }, 180_000);

  it('resumes a TCP connection paused while other sources’ events fill the sink, once those are stored', async () => {
    const prefix = `test-${randomUUID().slice(0, 8)}`;
    const relay = relayTo(url);
    const store = await ElasticsearchStore.open({ url: await relay.listen(), indexPrefix: prefix, requestTimeoutMs: 120_000 });
    const deadLetters = new FileDeadLetterSink(join(dir, prefix, 'dead'));
    const sink = new EventSink({
      store: store.events, spoolDir: join(dir, prefix, 'spool'), deadLetters, batchSize: 50, flushIntervalMs: 20, inFlight: 2, maxMemoryEvents: 100,
    });
    // As startCollection wires it.
    const server = new SyslogServer({
      tcpPort: 0, onMessage: syslogHandler({ source: 'syslog', sink, assets, deadLetters }), saturated: () => sink.saturated,
      whenSinkFree: () => sink.whenFree(), overloaded: () => sink.overloaded, maxInFlight: 1000,
    });
    await server.start();
    const socket = connect(server.ports.tcp!, '127.0.0.1');
    socket.on('error', () => undefined);
    try {
      relay.state.hold = true;
      // Another source (a log file) fills the sink to its bound; its events wait for the store.
      const file: ShouwangEvent[] = Array.from({ length: 100 }, (_, i) => ({ id: `${prefix}-f${i}`, '@timestamp': '2026-11-20T02:00:00Z', message: `file ${i}` }));
      const fileWritten = sink.write(file);
      expect(sink.overloaded).toBe(true);
      // The connection's first bytes (no whole message yet) are read: it adds nothing, and is paused.
      socket.write('<13>Nov 20 10:00:00 rsj-shbx-app01 app: tcp ');
      await eventually(() => expect(server.pausedConnections).toBe(1));
      expect(sink.memoryEvents).toBe(100);
      socket.end(`0\n${Array.from({ length: 20 }, (_, n) => `<13>Nov 20 10:00:00 rsj-shbx-app01 app: tcp ${n + 1}\n`).join('')}`);

      // None of its own events is waiting: the sink draining below the bound is what resumes it.
      relay.state.hold = false;
      relay.held.splice(0).forEach((request) => request.forward());
      await fileWritten;
      await eventually(async () => {
        await store.client.indices.refresh({ index: `${prefix}-*` });
        expect((await store.client.count({ index: `${prefix}-*` })).count).toBe(121);
      });
      expect(server.pausedConnections).toBe(0);
    } finally {
      socket.destroy();
      relay.state.hold = false;
      relay.held.splice(0).forEach((request) => request.forward());
      await server.close();
      await sink.close();
      await store.close();
      await relay.close();
      await dropTestIndices(url, prefix);
    }
  }, 60_000);
});

describe('the sink’s memory bound across concurrent HTTP requests', () => {
  it('counts what admitted requests will add, so 20 concurrent posts together stay within the bound plus one request; the rest get 503 + Retry-After, and their retries store every record once', async () => {
    const env = await collectThroughRelay({ http: { port: 0, sources: [{ id: 'app', token: TOKEN, format: 'json' }] } });
    const REQUESTS = 20;
    const RECORDS = 300;
    const body = (i: number) => Array.from({ length: RECORDS }, (_, j) => JSON.stringify({ '@timestamp': '2026-11-20T02:00:00Z', message: `http ${i} ${j}` })).join('\n');
    const post = (i: number) => fetch(`http://127.0.0.1:${env.collection.httpPort}/ingest/app`, {
      method: 'POST', headers: { 'content-type': 'application/x-ndjson', authorization: `Bearer ${TOKEN}` }, body: body(i),
    });
    /**
     * A sender that asks first (`Expect: 100-continue`, as curl does for large bodies): Node answers 100 Continue right
     * before the request reaches the source, so once all have it, all 20 were admitted or refused before any body came.
     */
    const ask = (i: number) => {
      const socket = connect(env.collection.httpPort!, '127.0.0.1');
      socket.on('error', () => undefined);
      let answer = '';
      socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
      socket.write(`POST /ingest/app HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/x-ndjson\r\n`
        + `Content-Length: ${Buffer.byteLength(body(i))}\r\nExpect: 100-continue\r\n\r\n`);
      /** The final answer's status line and headers, once there. */
      const final = () => /HTTP\/1\.1 [2-5]\d\d [^]*?\r\n\r\n/.exec(answer)?.[0];
      return { i, socket, answer: () => answer, final };
    };
    const senders = Array.from({ length: REQUESTS }, (_, i) => ask(i));
    try {
      env.relay.state.hold = true;
      await eventually(() => expect(senders.filter((sender) => sender.answer().startsWith('HTTP/1.1 100 Continue'))).toHaveLength(REQUESTS));
      senders.forEach((sender) => sender.socket.write(body(sender.i)));
      // Every request was either refused or taken (its records in the sink, waiting for the store).
      const refused = () => senders.filter((sender) => sender.final()?.startsWith('HTTP/1.1 503 '));
      await eventually(() => expect(refused().length + env.collection.sink.memoryEvents / RECORDS).toBe(REQUESTS));
      console.log(`HTTP ${REQUESTS} concurrent posts: sink memory peak ${env.peak.value} (bound ${MAX_MEMORY}), ${refused().length} refused`);
      expect(env.peak.value).toBeLessThanOrEqual(MAX_MEMORY - 1 + RECORDS);
      expect(refused().length).toBeGreaterThan(0);
      for (const sender of refused()) expect(sender.final()).toMatch(/\r\nretry-after: 5\r\n/i);

      // Released: the taken requests are answered, and each refused one goes through on a retry.
      const taken = senders.filter((sender) => !refused().includes(sender));
      env.release();
      await eventually(() => expect(taken.map((sender) => sender.final()?.slice(0, 13))).toEqual(taken.map(() => 'HTTP/1.1 200 ')));
      for (const { i } of refused()) await eventually(async () => expect((await post(i)).status).toBe(200), { interval: 100 });
      expect(env.peak.value).toBeLessThanOrEqual(MAX_MEMORY - 1 + RECORDS);

      const stored = await env.storedMessages();
      expect(stored).toHaveLength(REQUESTS * RECORDS);
      expect(new Set(stored).size).toBe(REQUESTS * RECORDS);
      await eventually(() => expect(env.collection.sink.memoryEvents).toBe(0));
    } finally {
      senders.forEach((sender) => sender.socket.destroy());
      await env.close();
    }
  }, 180_000);

  it('reserves by bodyLimit a chunked body being read, at most a quarter of the bound per request, and releases every reservation: success, refusal, bad body, aborted upload', async () => {
    const prefix = `test-${randomUUID().slice(0, 8)}`;
    const store = await ElasticsearchStore.open({ url, indexPrefix: prefix });
    const deadLetters = new FileDeadLetterSink(join(dir, prefix, 'dead'));
    const sink = new EventSink({
      store: store.events, spoolDir: join(dir, prefix, 'spool'), deadLetters, batchSize: 50, flushIntervalMs: 20, maxMemoryEvents: 100,
    });
    // 64 KiB of records may be 256 of them: more than the sink's bound alone.
    const http = new HttpSource({ port: 0, sink, assets, deadLetters, bodyLimit: 64 * 1024, sources: [{ id: 'app', token: TOKEN, format: 'json' }] });
    await http.start();
    const record = (n: number) => JSON.stringify({ '@timestamp': '2026-11-20T02:00:00Z', message: `r ${n}` });
    const post = (body: string, type = 'application/x-ndjson') => fetch(`http://127.0.0.1:${http.port}/ingest/app`, {
      method: 'POST', headers: { 'content-type': type, authorization: `Bearer ${TOKEN}` }, body,
    });
    const sockets: Socket[] = [];
    /** A raw request whose headers (and a first part of its body) are sent; the rest when asked. */
    const upload = (headers: string, first: string) => {
      const socket = connect(http.port!, '127.0.0.1');
      sockets.push(socket);
      socket.on('error', () => undefined);
      let answer = '';
      socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
      socket.write(`POST /ingest/app HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/x-ndjson\r\n${headers}\r\n${first}`);
      return { socket, answer: () => answer };
    };
    const chunk = (text: string) => `${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`;
    try {
      // A chunked upload declares no size: it is counted at bodyLimit while read (256 records), but one request reserves
      // at most a quarter of the bound (25), so one slow upload alone never refuses the others; four read at once do.
      const first = upload('Transfer-Encoding: chunked\r\n', chunk(`${record(10)}\n`));
      await eventually(() => expect(http.reservedRecords).toBe(25));
      const chunked = [first, ...[11, 12, 13].map((n) => upload('Transfer-Encoding: chunked\r\n', chunk(`${record(n)}\n`)))];
      await eventually(() => expect(http.reservedRecords).toBe(100));
      const meanwhile = await post(record(1));
      expect(meanwhile.status).toBe(503);
      expect(meanwhile.headers.get('retry-after')).toBe('5');
      chunked.forEach((sender, k) => sender.socket.write(`${chunk(`${record(20 + k)}\n`)}0\r\n\r\n`));
      await eventually(() => expect(chunked.map((sender) => sender.answer().slice(0, 13))).toEqual(chunked.map(() => 'HTTP/1.1 200 ')));
      chunked.forEach((sender) => sender.socket.destroy());
      expect(http.reservedRecords).toBe(0);

      // Every other way a request ends gives its reservation back.
      expect((await post(record(3))).status).toBe(200);
      expect((await post('{"broken', 'application/json')).status).toBe(400);
      expect((await post(record(4), 'text/html')).status).toBe(415);
      expect((await post('x'.repeat(65 * 1024))).status).toBe(413);
      const aborted = upload('Content-Length: 60000\r\n', `${record(5)}\n`);
      await eventually(() => expect(http.reservedRecords).toBeGreaterThan(0));
      aborted.socket.destroy();
      await eventually(() => expect(http.reservedRecords).toBe(0));
      expect((await post(`${record(6)}\n${record(7)}`)).status).toBe(200);
      expect(http.reservedRecords).toBe(0);

      await store.client.indices.refresh({ index: `${prefix}-*` });
      const found = await store.client.search<ShouwangEvent>({ index: `${prefix}-*`, size: 100, _source: ['message'] });
      expect(found.hits.hits.map((hit) => hit._source?.message).sort()).toEqual(['r 10', 'r 11', 'r 12', 'r 13', 'r 20', 'r 21', 'r 22', 'r 23', 'r 3', 'r 6', 'r 7']);
    } finally {
      sockets.forEach((socket) => socket.destroy());
      await http.close();
      await sink.close();
      await store.close();
      await dropTestIndices(url, prefix);
    }
  }, 60_000);
});
