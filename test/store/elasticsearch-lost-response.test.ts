import { randomUUID } from 'node:crypto';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { AlertBuilder, AlertSink } from '../../analyzers/alerts/index.js';
import type { Signal } from '../../analyzers/types.js';
import { ElasticsearchStore } from '../../store/index.js';

/**
 * A node that dies after passing a write on, as seen by the client: the write lands, its answer never comes.
 * A plain HTTP relay in front of the real test node drops the connection instead of answering the requests
 * `lose` picks (once each); everything else is relayed as is.
 */
function lossyRelay(target: string, lose: (method: string, url: string, body: string) => boolean, twice: (url: string, body: string) => boolean = () => false) {
  const lost: string[] = [];
  const server: Server = createServer((incoming: IncomingMessage, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const body = Buffer.concat(chunks);
      const drop = lose(incoming.method!, incoming.url!, body.toString('utf8'));
      const upstream = request(new URL(incoming.url!, target), { method: incoming.method, headers: incoming.headers }, (answer) => {
        if (drop) {
          answer.resume();
          answer.on('end', () => {
            lost.push(`${incoming.method} ${incoming.url}`);
            incoming.socket.destroy();
          });
          return;
        }
        outgoing.writeHead(answer.statusCode!, answer.headers);
        answer.pipe(outgoing);
      });
      upstream.on('error', () => incoming.socket.destroy()); // the test node went away: so does the relay's answer
      if (!twice(incoming.url!, body.toString('utf8'))) {
        upstream.end(body);
        return;
      }
      // Sent twice, the second answer relayed: as Elasticsearch re-sends an item to a new primary after a node died.
      const first = request(new URL(incoming.url!, target), { method: incoming.method, headers: incoming.headers }, (answer) => {
        answer.resume();
        answer.on('end', () => upstream.end(body));
      });
      first.on('error', () => incoming.socket.destroy());
      first.end(body);
    });
  });
  return {
    lost,
    listen: () => new Promise<string>((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`))),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const url = inject('elasticsearchUrl');
const prefix = `test-${randomUUID().slice(0, 8)}`;
let armed = false;
let doubled = false;
const relay = lossyRelay(url, (method, path, body) => {
  const hit = armed && ((method === 'POST' && path.startsWith('/_bulk') && body.includes(`${prefix}-alerts`))
    || (method === 'PUT' && path.startsWith(`/${prefix}-audit/_create/`)));
  if (hit) armed = false;
  return hit;
}, (path, body) => {
  const hit = doubled && path.startsWith('/_bulk') && body.includes(`${prefix}-alerts`);
  if (hit) doubled = false;
  return hit;
});
let store: ElasticsearchStore;

beforeAll(async () => {
  store = await ElasticsearchStore.open({ url: await relay.listen(), indexPrefix: prefix, requestTimeoutMs: 10_000 });
});

afterAll(async () => {
  await store.client.indices.delete({ index: `${prefix}-*`, ignore_unavailable: true, allow_no_indices: true });
  await store.client.indices.deleteIndexTemplate({ name: `${prefix}-events` }).catch(() => undefined);
  await store.close();
  await relay.close();
});

describe('a write whose answer is lost (the node passing it on died)', () => {
  it('counts an alert’s events once: the client does not resend the upsert, and the sink re-reads what landed', async () => {
    const builder = new AlertBuilder();
    const T0 = Date.parse('2026-12-01T08:00:00Z');
    const sink = new AlertSink({ store: store.alerts, latenessMs: 3_600_000, flushMs: 600_000 }); // flushes only when told
    const signals: Signal[] = Array.from({ length: 5 }, (_, i) => ({
      rule: { id: 'ssh-brute', title: 'SSH 暴力破解', level: 'high', tags: [] }, eventId: `e${i}`, time: T0 + i * 1000,
      event: { shouwang: { system: 'sys-lost', department: 'd-fin', mlps_level: 3 } },
    }));
    for (const signal of signals.slice(0, 2)) sink.add(builder.fromSignal(signal));
    await sink.flush(); // created with count 2
    armed = true;
    for (const signal of signals.slice(2)) sink.add(builder.fromSignal(signal));
    await expect(sink.flush()).rejects.toMatchObject({ code: 'SW_ERR_STORE_UNAVAILABLE' }); // landed, answer lost
    expect(relay.lost).toHaveLength(1);
    expect(await sink.flush()).toMatchObject({ created: 0, updated: 0, skipped: 3 }); // already in the store
    await sink.close();
    const id = builder.fromSignal(signals[0]!).alert.id;
    expect(await store.alerts.get(id)).toMatchObject({ count: 5 });
  });

  it('counts an alert’s events once when its write comes back as a conflict with itself (re-sent after a failover)', async () => {
    const builder = new AlertBuilder();
    const T0 = Date.parse('2026-12-02T08:00:00Z');
    const signals: Signal[] = Array.from({ length: 4 }, (_, i) => ({
      rule: { id: 'ssh-brute', title: 'SSH 暴力破解', level: 'high', tags: [] }, eventId: `f${i}`, time: T0 + i * 1000,
      event: { shouwang: { system: 'sys-twice', department: 'd-fin', mlps_level: 3 } },
    }));
    const [first, second] = [signals.slice(0, 2), signals.slice(2)].map((batch) => batch.map((signal) => builder.fromSignal(signal).alert));
    doubled = true;
    expect(await store.alerts.upsert(first!)).toEqual({ created: 1, updated: 0 }); // the create meets its own copy
    doubled = true;
    expect(await store.alerts.upsert(second!)).toEqual({ created: 0, updated: 1 }); // the seq_no-guarded index too
    expect(doubled).toBe(false);
    const stored = await store.alerts.get(first![0]!.id);
    expect(stored).toMatchObject({ count: 4 });
    expect(stored).not.toHaveProperty('writes'); // the tokens stay in the store
  });

  it('appends an audit entry once', async () => {
    await store.audit.append({ at: '2026-12-01T08:00:00Z', actor: 'a', action: 'session.login' });
    armed = true;
    await expect(store.audit.append({ at: '2026-12-01T08:00:01Z', actor: 'b', action: 'session.login' })).rejects.toMatchObject({ code: 'SW_ERR_STORE_UNAVAILABLE' });
    expect(relay.lost).toHaveLength(2);
    await store.client.indices.refresh({ index: store.names.audit });
    const entries = await store.audit.list({});
    expect(entries.items.map((entry) => [entry.seq, entry.actor]).sort()).toEqual([[1, 'a'], [2, 'b']]);
    expect(await store.audit.verify()).toMatchObject({ ok: true, count: 2 });
  });
});
