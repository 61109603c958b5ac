import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AssetIndex, ConfigSchema, createLogger, createMetricsRegistry, loadInventory, type Config, type ShouwangEvent } from '../../core/index.js';
import {
  createIngestMetrics, EventSink, FileDeadLetterSink, HttpSource, startCollection, type HttpSourceOptions,
} from '../../collectors/index.js';
import { EmbeddedStore, StoreErrors, type EventStore } from '../../store/index.js';
import { eventually } from '../support/eventually.js';

const dir = mkdtempSync(join(tmpdir(), 'shouwang-http-'));
const assets = new AssetIndex(loadInventory('config/inventory.demo.yaml'));
const TOKEN = 'app-token-0123456789abcdef';
const ACCESS_TOKEN = 'web-token-0123456789abcdef';
const apacheLines = readFileSync('test/fixtures/logs/elastic-examples-apache_logs/apache_logs', 'utf8').split('\n').slice(0, 5);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A real embedded store that can be switched off: while down it answers as an unreachable store does. */
class SwitchableStore implements Pick<EventStore, 'write'> {
  down = false;
  gate: Promise<void> | undefined;
  /** Writes that reached the store, gated or not. */
  asked = 0;
  constructor(readonly inner: EventStore) {}
  async write(events: readonly ShouwangEvent[]) {
    this.asked += 1;
    await this.gate;
    if (this.down) throw StoreErrors.unavailable('test: store stopped');
    return this.inner.write(events);
  }
}

async function setup(name: string, extra: Partial<HttpSourceOptions> = {}) {
  const base = join(dir, name);
  const embedded = new EmbeddedStore({ path: join(base, 'store.db') });
  const store = new SwitchableStore(embedded.events);
  const registry = createMetricsRegistry({ defaultMetrics: false });
  const metrics = createIngestMetrics(registry);
  const deadLetters = new FileDeadLetterSink(join(base, 'dead'));
  const sink = new EventSink({
    store: store as unknown as EventStore, spoolDir: join(base, 'spool'), deadLetters, flushIntervalMs: 20, replayIntervalMs: 60_000, metrics, name: 'http',
  });
  const source = new HttpSource({
    port: 0, sink, assets, deadLetters, metrics,
    sources: [{ id: 'app-json', token: TOKEN, format: 'json' }, { id: 'web', token: ACCESS_TOKEN, format: 'access-log' }],
    ...extra,
  });
  await source.start();
  const post = (path: string, body: string, headers: Record<string, string> = {}) =>
    fetch(`http://127.0.0.1:${source.port}${path}`, {
      method: 'POST', body, headers: { 'content-type': 'application/x-ndjson', authorization: `Bearer ${TOKEN}`, ...headers },
    });
  const close = async () => {
    await source.close();
    await source.close();
    await sink.close();
    await embedded.close();
  };
  const deadLetterLines = () => readdirSync(join(base, 'dead')).flatMap((file) =>
    readFileSync(join(base, 'dead', file), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { reason: string; raw: string; source: string }));
  return { embedded, store, registry, sink, source, post, close, deadLetterLines };
}

describe('HTTP ingest source', () => {
  let env: Awaited<ReturnType<typeof setup>>;
  beforeAll(async () => {
    env = await setup('main', { bodyLimit: 4096 });
    return () => env.close();
  });

  it('stores NDJSON events tagged from the inventory, says which lines failed and why, and keeps them as dead letters', async () => {
    const body = [
      JSON.stringify({ '@timestamp': '2026-11-20T02:00:00Z', message: '用户登录成功 login ok', host: { name: 'rsj-shbx-app01' }, user: { name: 'zhang' } }),
      '{"message": "broken',
      JSON.stringify({ message: 'no timestamp: now is used', host: { name: 'unknown-host-9' } }),
      JSON.stringify({ '@timestamp': 'yesterday-ish', message: 'bad date' }),
      '',
    ].join('\n');
    const response = await env.post('/ingest/app-json', body);
    expect(response.status).toBe(207);
    const answer = await response.json() as { accepted: number; failed: { line: number; reason: string }[] };
    expect(answer.accepted).toBe(2);
    expect(answer.failed).toEqual([
      { line: 2, reason: expect.stringMatching(/invalid JSON/) },
      { line: 4, reason: expect.stringMatching(/@timestamp is not a date/) },
    ]);
    // The answer came after the sink acknowledged: the events are already in the store.
    const stored = (await env.embedded.events.search({ filters: { 'shouwang.source': 'app-json' } }, { order: 'asc' })).items;
    expect(stored).toHaveLength(2);
    expect(stored.find((event) => event.user)).toMatchObject({
      '@timestamp': '2026-11-20T02:00:00.000Z', message: '用户登录成功 login ok', user: { name: 'zhang' },
      log: { source: { address: '127.0.0.1' } },
      shouwang: { system: 'rsj-shbx', department: 'rsj', mlps_level: 3, source: 'app-json' },
    });
    expect(stored.find((event) => !event.user)?.shouwang).toMatchObject({ unknown_asset: true, source: 'app-json' });
    const letters = env.deadLetterLines().filter((letter) => letter.source === 'app-json');
    expect(letters.map((letter) => letter.raw)).toEqual(['{"message": "broken', JSON.stringify({ '@timestamp': 'yesterday-ish', message: 'bad date' })]);
  });

  it('stores a retried request once: ids come from the content', async () => {
    const body = [1, 2, 2].map((n) => JSON.stringify({ '@timestamp': '2026-11-20T03:00:00Z', message: `retry ${n}` })).join('\n');
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const response = await env.post('/ingest/app-json', body);
      expect(await response.json()).toEqual({ accepted: 3, deadLettered: 0, failed: [] });
    }
    const stored = await env.embedded.events.search({ text: 'retry' });
    expect(stored.total).toBe(3); // the two identical lines of one request stay two events
  });

  it('stores Windows events posted as NDJSON (Winlogbeat and NXLog JSON) in the Winlogbeat shape (issue #17)', async () => {
    const winlogbeat = (JSON.parse(readFileSync('test/fixtures/windows/winlogbeat-1102.golden.json', 'utf8')) as unknown[])[0];
    const nxlog = { EventTime: '2026-11-20 10:00:00', Hostname: 'rsj-shbx-app01', EventID: 4625, Channel: 'Security', SourceName: 'Microsoft-Windows-Security-Auditing', EventType: 'AUDIT_FAILURE', TargetUserName: 'zhang', IpAddress: '10.9.9.9' };
    const response = await env.post('/ingest/app-json', [JSON.stringify(winlogbeat), JSON.stringify(nxlog)].join('\n'));
    expect(await response.json()).toEqual({ accepted: 2, deadLettered: 0, failed: [] });
    const stored = (await env.embedded.events.search({ filters: { 'event.dataset': 'windows.security' } }, { order: 'asc' })).items;
    expect(stored.map((e) => (e.winlog as { event_id: number }).event_id)).toEqual([1102, 4625]);
    expect(stored[1]).toMatchObject({ '@timestamp': '2026-11-20T02:00:00.000Z', user: { name: 'zhang' }, shouwang: { system: 'rsj-shbx' } });
  });

  it('decodes a JSON array of raw lines with the source’s record format', async () => {
    const response = await env.post('/ingest/web', JSON.stringify(apacheLines), { 'content-type': 'application/json', authorization: `Bearer ${ACCESS_TOKEN}` });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ accepted: 5, deadLettered: 0, failed: [] });
    const stored = await env.embedded.events.search({ filters: { 'shouwang.source': 'web' } });
    expect(stored.items[0]).toMatchObject({ event: { dataset: 'web.access' }, source: { ip: '83.149.9.216' } });
  });

  it('answers unknown sources, bad tokens, wrong content types, bad arrays and oversized bodies with clear errors', async () => {
    const line = JSON.stringify({ message: 'x' });
    const expectError = async (response: Response, status: number, code: string, text: RegExp) => {
      expect(response.status).toBe(status);
      const answer = await response.json() as { code: string; message: string };
      expect(answer.code).toBe(code);
      expect(answer.message).toMatch(text);
    };
    await expectError(await env.post('/ingest/nope', line), 404, 'SW_ERR_INGEST_SOURCE', /未配置.*"nope"/);
    await expectError(await env.post('/ingest/app-json', line, { authorization: 'Bearer wrong-token-0123456789' }), 401, 'SW_ERR_INGEST_TOKEN', /令牌/);
    await expectError(await env.post('/ingest/app-json', line, { authorization: '' }), 401, 'SW_ERR_INGEST_TOKEN', /bearer token/);
    // Another source's token does not open this one.
    await expectError(await env.post('/ingest/app-json', line, { authorization: `Bearer ${ACCESS_TOKEN}` }), 401, 'SW_ERR_INGEST_TOKEN', /app-json/);
    await expectError(await env.post('/ingest/app-json', '<x/>', { 'content-type': 'application/xml' }), 415, 'SW_ERR_INGEST_MEDIA_TYPE', /application\/xml/);
    await expectError(await env.post('/ingest/app-json', '{"a":1}', { 'content-type': 'application/json' }), 400, 'SW_ERR_INGEST_BODY', /array/);
    await expectError(await env.post('/ingest/app-json', `${line}\n`.repeat(500)), 413, 'SW_ERR_INGEST_TOO_LARGE', /4096 bytes/);
  });
});

describe('HTTP ingest backpressure and per-source metrics', () => {
  it('answers only once the sink has acknowledged, and 503 with Retry-After while the sink is saturated', async () => {
    const env = await setup('busy', { maxPendingRecords: 2, retryAfterSeconds: 7 });
    try {
      let release!: () => void;
      env.store.gate = new Promise<void>((resolve) => (release = resolve)); // the store is slow
      let firstAnswered = false;
      const first = env.post('/ingest/app-json', [1, 2].map((n) => JSON.stringify({ message: `slow ${n}` })).join('\n'))
        .then((response) => ((firstAnswered = true), response));
      await eventually(() => expect(env.store.asked, 'the first request at the store').toBe(1));
      const second = await env.post('/ingest/app-json', JSON.stringify({ message: 'refused' }));
      expect(second.status).toBe(503);
      expect(second.headers.get('retry-after')).toBe('7');
      expect(((await second.json()) as { code: string }).code).toBe('SW_ERR_INGEST_BUSY');
      expect(firstAnswered).toBe(false); // still waiting for the store
      release();
      expect((await first).status).toBe(200);
      expect((await env.embedded.events.range()).count).toBe(2);
    } finally {
      await env.close();
    }
  });

  it('counts received, decoded, failed, spooled, replayed and sink latency per source', async () => {
    const env = await setup('metrics');
    try {
      env.store.down = true;
      const jsonBody = [JSON.stringify({ message: 'a' }), 'not json', JSON.stringify({ message: 'b' })].join('\n');
      expect((await env.post('/ingest/app-json', jsonBody)).status).toBe(207); // acknowledged by the spool
      expect(await env.sink.spooledBytes()).toBeGreaterThan(0);
      env.store.down = false;
      const web = await env.post('/ingest/web', apacheLines.join('\n'), { authorization: `Bearer ${ACCESS_TOKEN}` });
      expect(web.status).toBe(200);
      await env.sink.replay();
      expect(await env.sink.spooledBytes()).toBe(0);
      expect((await env.embedded.events.range()).count).toBe(7);

      const text = await env.registry.metrics();
      const value = (name: string, labels: string) =>
        Number(new RegExp(`^shouwang_${name}\\{${labels}\\} (\\d+)`, 'm').exec(text)?.[1] ?? 'NaN');
      expect(value('ingest_received_total', 'source="app-json"')).toBe(3);
      expect(value('ingest_decoded_total', 'source="app-json"')).toBe(2);
      expect(value('ingest_failed_total', 'source="app-json"')).toBe(1);
      expect(value('ingest_lines_total', 'source="app-json",outcome="spooled"')).toBe(2);
      expect(value('ingest_lines_total', 'source="app-json",outcome="replayed"')).toBe(2);
      expect(value('ingest_lines_total', 'source="app-json",outcome="written"')).toBe(2);
      expect(value('ingest_received_total', 'source="web"')).toBe(5);
      expect(value('ingest_lines_total', 'source="web",outcome="written"')).toBe(5);
      // Sent after the store was back, but queued behind the spooled backlog so the store sees arrival order.
      expect(value('ingest_lines_total', 'source="web",outcome="spooled"')).toBe(5);
      expect(value('ingest_lines_total', 'source="web",outcome="replayed"')).toBe(5);
      expect(value('ingest_sink_seconds_count', 'source="web"')).toBe(1);
      expect(text).toMatch(/# HELP shouwang_ingest_lines_total .*spooled.*replayed/);
    } finally {
      await env.close();
    }
  });
});

describe('HTTP ingest in startCollection', () => {
  it('starts from collect.http, exposes its port, and stops with the collection', async () => {
    const dataDir = join(dir, 'collection');
    const config = { ...ConfigSchema.parse({
      dataDir, collect: { flushMs: 20, http: { port: 0, sources: [{ id: 'ops', token: TOKEN, format: 'syslog' }] } },
    }), store: 'embedded' } as Config;
    const embedded = new EmbeddedStore({ path: join(dataDir, 'store.db') });
    const registry = createMetricsRegistry({ defaultMetrics: false });
    const collection = await startCollection({
      config, store: embedded.events, assets, registry, metrics: createIngestMetrics(registry), logger: createLogger({ level: 'silent' }),
    });
    try {
      expect(collection.httpPort).toBeGreaterThan(0);
      const response = await fetch(`http://127.0.0.1:${collection.httpPort}/ingest/ops`, {
        method: 'POST', headers: { 'content-type': 'text/plain', authorization: `Bearer ${TOKEN}` },
        body: '<38>Nov 20 10:00:01 rsj-shbx-app01 sshd[7]: Failed password for root from 203.0.113.9 port 4000 ssh2\n',
      });
      expect(await response.json()).toEqual({ accepted: 1, deadLettered: 0, failed: [] });
      expect((await embedded.events.search({})).items[0]).toMatchObject({ event: { outcome: 'failure' }, shouwang: { source: 'ops', system: 'rsj-shbx' } });
    } finally {
      await collection.close();
      await collection.close();
      await embedded.close();
    }
    await expect(fetch(`http://127.0.0.1:${collection.httpPort}/ingest/ops`, { method: 'POST' })).rejects.toThrow();
  });

  it('names the field when a source has an unknown format', async () => {
    const config = { ...ConfigSchema.parse({
      dataDir: join(dir, 'bad-format'), collect: { http: { port: 0, sources: [{ id: 'x', token: TOKEN, format: 'yaml' }] } },
    }), store: 'embedded' } as Config;
    const embedded = new EmbeddedStore({ path: join(dir, 'bad-format.db') });
    const registry = createMetricsRegistry({ defaultMetrics: false });
    await expect(startCollection({
      config, store: embedded.events, assets, registry, metrics: createIngestMetrics(registry), logger: createLogger({ level: 'silent' }),
    })).rejects.toThrow(/collect\.http\.sources\.0\.format: expected json, syslog or one of .*access-log.*, got "yaml"/);
    await embedded.close();
  });
});

describe('HTTP ingest encodings', () => {
  it('tags encoding_invalid on the records whose bytes were invalid in the source’s encoding, and only on those', async () => {
    const GBK_TOKEN = 'gbk-token-0123456789abcdef';
    const t = await setup('gbk', { sources: [{ id: 'gbk-app', token: GBK_TOKEN, format: 'syslog', encoding: 'gbk' }] });
    try {
      const header = Buffer.from('<38>Nov 26 10:00:01 gaj-jwzh-app01 oa[7]: ');
      const body = Buffer.concat([
        header, Buffer.from([0xd6, 0xd0, 0xce, 0xc4]), Buffer.from('\n'), // 中文
        header, Buffer.from('bad '), Buffer.from([0x81, 0x20]), Buffer.from('\n'), // a lead byte without its trail
      ]);
      const response = await fetch(`http://127.0.0.1:${t.source.port}/ingest/gbk-app`, {
        method: 'POST', body, headers: { 'content-type': 'text/plain', authorization: `Bearer ${GBK_TOKEN}` },
      });
      expect(response.status).toBe(200);
      const page = await t.embedded.events.search({ filters: { 'shouwang.source': 'gbk-app' } }, { order: 'asc' });
      // Same time: sorted by message for a stable order.
      const got = page.items.map((event) => [event.message, event.tags]).sort((a, b) => String(a[0]).localeCompare(String(b[0])));
      expect(got).toEqual([['bad \uFFFD ', ['encoding_invalid']], ['中文', undefined]]);
    } finally {
      await t.close();
    }
  });
});
