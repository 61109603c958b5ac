// One body within bodyLimit (10 MiB) can hold millions of tiny records (`{}` is 3 bytes a line): decoded in one
// synchronous loop and handed to the sink at once, it stalled every source for seconds and held many times the sink's
// bound. Such a body is refused (413, nothing taken) once counted, before any record is decoded (a JSON array before
// it is parsed).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { AssetIndex, loadInventory, type ShouwangEvent } from '../../core/index.js';
import { EventSink, FileDeadLetterSink, HttpSource } from '../../collectors/index.js';
import type { EventStore, WriteResult } from '../../store/index.js';

const dir = mkdtempSync(join(tmpdir(), 'shouwang-http-tiny-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const assets = new AssetIndex(loadInventory('config/inventory.demo.yaml'));
const TOKEN = 'token-a-0123456789abcdef';

/** An HTTP source on a sink (with a plain fake store that takes everything), counting what reaches the sink. */
async function ingest(name: string, maxMemoryEvents?: number) {
  const stored: ShouwangEvent[] = [];
  const store = {
    write: async (batch: readonly ShouwangEvent[]): Promise<WriteResult> => {
      stored.push(...batch);
      return { written: batch.length, duplicates: 0, rejected: [] };
    },
  } as unknown as EventStore;
  const deadLetters = new FileDeadLetterSink(join(dir, name, 'dead'));
  const sink = new EventSink({ store, spoolDir: join(dir, name, 'spool'), deadLetters, flushIntervalMs: 10, ...(maxMemoryEvents ? { maxMemoryEvents } : {}) });
  const handed: number[] = [];
  const write = sink.write.bind(sink);
  sink.write = (events) => {
    handed.push(events.length);
    return write(events);
  };
  const http = new HttpSource({ port: 0, sink, assets, deadLetters, sources: [{ id: 'a', token: TOKEN, format: 'json' }] });
  await http.start();
  const post = async (body: string, type = 'application/x-ndjson') => {
    const answer = await fetch(`http://127.0.0.1:${http.port}/ingest/a`, {
      method: 'POST', headers: { 'content-type': type, authorization: `Bearer ${TOKEN}` }, body,
    });
    return { status: answer.status, body: await answer.json() as { code?: string; message?: string; accepted?: number } };
  };
  const close = async () => {
    await http.close();
    await sink.close();
  };
  return { sink, stored, handed, post, close, http };
}

describe('an HTTP body of more records than collect.maxMemoryEvents', () => {
  it('(2 MiB of "{}" NDJSON lines, the default bound of 20,000) is refused with 413 before any record is decoded: nothing reaches the sink', async () => {
    const env = await ingest('ndjson');
    try {
      const answer = await env.post('{}\n'.repeat(Math.floor((2 << 20) / 3)));
      expect(answer.status).toBe(413);
      expect(answer.body.code).toBe('SW_ERR_INGEST_TOO_LARGE');
      expect(answer.body.message).toMatch(/^请求体记录过多.*more than 20000 records \(collect\.maxMemoryEvents\): split it/);
      await env.sink.flush();
      expect({ handed: env.handed, stored: env.stored.length, memory: env.sink.memoryEvents, reserved: env.http.reservedRecords })
        .toEqual({ handed: [], stored: 0, memory: 0, reserved: 0 });
    } finally {
      await env.close();
    }
  }, 60_000);

  it('(a JSON array of 20,001 "{}") is refused with 413 before any element is decoded', async () => {
    const env = await ingest('array');
    try {
      const answer = await env.post(JSON.stringify(Array.from({ length: 20_001 }, () => ({}))), 'application/json');
      expect({ status: answer.status, code: answer.body.code }).toEqual({ status: 413, code: 'SW_ERR_INGEST_TOO_LARGE' });
      await env.sink.flush();
      expect({ handed: env.handed, stored: env.stored.length }).toEqual({ handed: [], stored: 0 });
    } finally {
      await env.close();
    }
  }, 60_000);

  it('(a JSON array of 20,001 elements) is counted before it is parsed: never handed to JSON.parse, refused with 413 even when truncated', async () => {
    const env = await ingest('array-unparsed');
    const body = `[${Array.from({ length: 20_001 }, (_, i) => `{"n":[${i},{"s":"],}"}]}`).join(',')}]`;
    const parse = vi.spyOn(JSON, 'parse');
    try {
      for (const text of [body, body.slice(0, -1)]) {
        const answer = await env.post(text, 'application/json');
        expect({ status: answer.status, code: answer.body.code }).toEqual({ status: 413, code: 'SW_ERR_INGEST_TOO_LARGE' });
      }
      expect(parse.mock.calls.filter(([text]) => typeof text === 'string' && text.length >= body.length - 1)).toEqual([]);
    } finally {
      parse.mockRestore();
      await env.close();
    }
  }, 60_000);

  it('counts an array element once whatever its strings and nested values hold: 100 such elements are taken at a bound of 100', async () => {
    const env = await ingest('array-strings', 100);
    const element = (n: number) => ({ '@timestamp': '2026-11-20T02:00:00Z', message: `r ${n} ,[{ "quoted" \\ ,] }`, tags: [1, [2, 3], { a: ',' }] });
    try {
      const taken = await env.post(` \n[ ${Array.from({ length: 100 }, (_, i) => JSON.stringify(element(i))).join(' ,\n ')} ]\n`, 'application/json');
      expect({ status: taken.status, accepted: taken.body.accepted }).toEqual({ status: 200, accepted: 100 });
      expect((await env.post(JSON.stringify(Array.from({ length: 101 }, (_, i) => element(i))), 'application/json')).status).toBe(413);
      expect((await env.post('[]', 'application/json')).body.accepted).toBe(0);
      expect((await env.post('{"not":"an array"}', 'application/json')).status).toBe(400);
    } finally {
      await env.close();
    }
  });

  it('takes a body of exactly the bound (blank lines not counted) and refuses one record more, in either form', async () => {
    const env = await ingest('edge', 100);
    const record = (n: number) => JSON.stringify({ '@timestamp': '2026-11-20T02:00:00Z', message: `r ${n}` });
    const lines = (from: number, count: number) => Array.from({ length: count }, (_, i) => record(from + i));
    try {
      const exact = await env.post(`\n \t\r\n${lines(0, 100).join('\r\n\n')}\r\n  \n`);
      expect({ status: exact.status, accepted: exact.body.accepted }).toEqual({ status: 200, accepted: 100 });
      expect((await env.post(lines(100, 101).join('\n'))).status).toBe(413);
      expect((await env.post(JSON.stringify(lines(200, 101).map((line) => JSON.parse(line) as unknown)), 'application/json')).status).toBe(413);
      const array = await env.post(JSON.stringify(lines(300, 100).map((line) => JSON.parse(line) as unknown)), 'application/json');
      expect({ status: array.status, accepted: array.body.accepted }).toEqual({ status: 200, accepted: 100 });
      await env.sink.flush();
      expect(env.stored.map((event) => Number(String(event.message).slice(2))).sort((a, b) => a - b))
        .toEqual([...Array.from({ length: 100 }, (_, i) => i), ...Array.from({ length: 100 }, (_, i) => 300 + i)]);
    } finally {
      await env.close();
    }
  });
});
