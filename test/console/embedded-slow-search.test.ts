import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type ShouwangEvent } from '../../core/index.js';
import { EmbeddedStore, openStore, type Store } from '../../store/index.js';
import { login, seedUser, testApp } from './support.js';

const dir = mkdtempSync(join(tmpdir(), 'shouwang-slow-search-'));
const path = join(dir, 'events.db');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Leading wildcards SQLite answers only by reading every row's keyword values, once per clause. */
const SLOW = Array.from({ length: 24 }, (_, i) => `*zz${i}*q*x`).concat('*root7*').join(' OR ');
const tag = randomUUID().slice(0, 6);

beforeAll(async () => {
  const store = new EmbeddedStore({ path });
  await store.events.write(Array.from({ length: 6_000 }, (_, i) => ({
    id: `e-${i}`, '@timestamp': new Date(Date.UTC(2026, 10, 1) + i * 1000).toISOString(),
    message: `Failed password for root from 10.0.0.${i % 200}`, user: { name: `root${i % 13}` }, host: { name: `web-${i % 9}` },
    shouwang: { department: 'd1', system: 's1' },
  } as ShouwangEvent)));
  await seedUser(store, `viewer-${tag}`, 'ops');
  await store.close();
});

describe('console search on the embedded store', () => {
  it('answers /healthz and a login while a slow search of another user is still running', async () => {
    const store = new EmbeddedStore({ path });
    const app = await testApp(store);
    try {
      const viewer = await login(app, `viewer-${tag}`);
      await viewer.get('/api/events?size=1'); // the reader's cold start is not what this shows
      let searched = false;
      const search = viewer.get(`/api/events?q=${encodeURIComponent(SLOW)}&size=20`).then((response) => {
        searched = true;
        return response;
      });
      expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
      await login(app, `viewer-${tag}`);
      expect(searched).toBe(false);
      expect((await search).statusCode).toBe(200);
    } finally {
      await app.close();
      await store.close();
    }
  });

  it('refuses a search past embedded.queryTimeoutMs with 503 SW_ERR_STORE_QUERY_TIMEOUT in both languages, then searches again', async () => {
    // The setting as an operator gives it: SHOUWANG_EMBEDDED_QUERY_TIMEOUT_MS, through the config and openStore.
    writeFileSync(join(dir, 'shouwang.yaml'), 'log:\n  level: silent\n');
    const { config } = loadConfig({ file: join(dir, 'shouwang.yaml'), env: { SHOUWANG_EMBEDDED_PATH: path, SHOUWANG_EMBEDDED_QUERY_TIMEOUT_MS: '100' } });
    expect(config.embedded.queryTimeoutMs).toBe(100);
    const store: Store = await openStore(config);
    const app = await testApp(store);
    try {
      const viewer = await login(app, `viewer-${tag}`);
      await viewer.get('/api/events?size=1');
      const slow = await viewer.get(`/api/events?q=${encodeURIComponent(SLOW)}&size=20`);
      expect(slow.statusCode).toBe(503);
      expect(slow.json()).toEqual({ code: 'SW_ERR_STORE_QUERY_TIMEOUT', message: expect.stringMatching(/^查询超过 100 ms.* \/ query stopped after 100 ms/) });
      const next = await viewer.get('/api/events?q=host.name:web-3&size=5');
      expect(next.statusCode).toBe(200);
      expect(next.json()).toMatchObject({ total: expect.any(Number) });
      expect((next.json() as { total: number }).total).toBeGreaterThan(0);
    } finally {
      await app.close();
      await store.close();
    }
  });
});
