// An admitted request's reservation (bodyLimit/256 for a chunked body, Content-Length/256 otherwise) is counted against
// collect.maxMemoryEvents until the request ends, and Fastify 5 sets no requestTimeout: a sender that stops mid-body (host
// lost, link cut without RST) held it for ever. Uncapped, with the defaults, it alone refused every other HTTP source; now
// one request reserves at most a quarter of the bound, and a connection idle for idleTimeoutMs (60 s) is closed.
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AssetIndex, loadInventory } from '../../core/index.js';
import { EventSink, FileDeadLetterSink, HttpSource } from '../../collectors/index.js';
import { EmbeddedStore } from '../../store/index.js';
import { eventually } from '../support/eventually.js';

const dir = mkdtempSync(join(tmpdir(), 'shouwang-http-stall-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const assets = new AssetIndex(loadInventory('config/inventory.demo.yaml'));
const A = 'token-a-0123456789abcdef';
const B = 'token-b-0123456789abcdef';
const record = (n: number) => JSON.stringify({ '@timestamp': '2026-11-20T02:00:00Z', message: `r ${n}` });

describe('HTTP admission with the default settings', () => {
  for (const stalled of ['Transfer-Encoding: chunked\r\n', `Content-Length: ${6 << 20}\r\n`]) {
    it(`a sender that stalls mid-body (${stalled.trim()}) reserves at most a quarter of the bound, so another source's post is taken`, async () => {
      const embedded = new EmbeddedStore({ path: join(dir, `${stalled.length}.db`) });
      const deadLetters = new FileDeadLetterSink(join(dir, `dead-${stalled.length}`));
      // Defaults as in production: maxMemoryEvents 20,000, bodyLimit 10 MiB.
      const sink = new EventSink({ store: embedded.events, spoolDir: join(dir, `spool-${stalled.length}`), deadLetters, flushIntervalMs: 20 });
      const http = new HttpSource({
        port: 0, sink, assets, deadLetters,
        sources: [{ id: 'a', token: A, format: 'json' }, { id: 'b', token: B, format: 'json' }],
      });
      await http.start();
      const sockets: Socket[] = [];
      try {
        const socket = connect(http.port!, '127.0.0.1');
        sockets.push(socket);
        socket.on('error', () => undefined);
        const first = `${record(0)}\n`;
        const body = stalled.startsWith('Transfer') ? `${Buffer.byteLength(first).toString(16)}\r\n${first}\r\n` : first;
        socket.write(`POST /ingest/a HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${A}\r\nContent-Type: application/x-ndjson\r\n${stalled}\r\n${body}`);
        await eventually(() => expect(http.reservedRecords).toBeGreaterThan(0));
        // ... and then nothing more from that sender. Another department's source posts one small record:
        const other = await fetch(`http://127.0.0.1:${http.port}/ingest/b`, {
          method: 'POST', headers: { 'content-type': 'application/x-ndjson', authorization: `Bearer ${B}` }, body: record(1),
        });
        // The stalled request still holds its reservation, a quarter of the default bound of 20,000.
        expect({ status: other.status, reserved: http.reservedRecords }).toEqual({ status: 200, reserved: 5000 });
      } finally {
        sockets.forEach((s) => s.destroy());
        await http.close();
        await sink.close();
        await embedded.close();
      }
    });
  }

  it('closes a connection that sends nothing for idleTimeoutMs mid-body, and gives its reservation back', async () => {
    const embedded = new EmbeddedStore({ path: join(dir, 'idle.db') });
    const deadLetters = new FileDeadLetterSink(join(dir, 'dead-idle'));
    const sink = new EventSink({ store: embedded.events, spoolDir: join(dir, 'spool-idle'), deadLetters, flushIntervalMs: 20 });
    const http = new HttpSource({ port: 0, sink, assets, deadLetters, idleTimeoutMs: 300, sources: [{ id: 'a', token: A, format: 'json' }] });
    await http.start();
    const socket = connect(http.port!, '127.0.0.1');
    try {
      socket.on('error', () => undefined);
      const closed = new Promise((resolve) => socket.once('close', resolve));
      socket.write(`POST /ingest/a HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${A}\r\nContent-Type: application/x-ndjson\r\nContent-Length: 100000\r\n\r\n${record(0)}\n`);
      await eventually(() => expect(http.reservedRecords).toBeGreaterThan(0));
      // ... and then nothing: the server ends the connection (before, it waited for ever) and the reservation goes.
      await closed;
      await eventually(() => expect(http.reservedRecords).toBe(0));
    } finally {
      socket.destroy();
      await http.close();
      await sink.close();
      await embedded.close();
    }
  });
});
