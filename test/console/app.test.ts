import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, createMetricsRegistry } from '../../core/index.js';
import { EmbeddedStore } from '../../store/index.js';
import { buildApp } from '../../console/index.js';
import { login, seedUser } from './support.js';

describe('console health and metrics', () => {
  const store = new EmbeddedStore({ path: ':memory:' });
  afterAll(() => store.close());
  const logger = createLogger({ level: 'silent' });

  it('answers /healthz with each component, and says degraded when one is down', async () => {
    let redisUp = true;
    const app = await buildApp({
      store, registry: createMetricsRegistry(), logger,
      checks: { redis: async () => (redisUp ? { ok: true, detail: 'pong' } : Promise.reject(new Error('connect ECONNREFUSED'))) },
    });
    const up = await app.inject('/healthz');
    expect(up.statusCode).toBe(200);
    expect(up.json()).toEqual({ status: 'ok', components: { store: { ok: true }, redis: { ok: true } } });
    redisUp = false;
    expect((await app.inject('/healthz')).json()).toEqual({ status: 'degraded', components: { store: { ok: true }, redis: { ok: false } } });
    await app.close();
  });

  it('anonymous /healthz names no database path, Redis address or error; a session or the scrape token sees them', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'shouwang-health-')), 'secret-place.db');
    const fileStore = new EmbeddedStore({ path });
    const app = await buildApp({
      store: fileStore, registry: createMetricsRegistry(), logger, metricsToken: 'scrape-token-0123456789',
      checks: { redis: async () => ({ ok: true, detail: '10.20.30.40:6379' }) },
    });
    try {
      const anonymous = await app.inject('/healthz');
      expect(anonymous.json()).toEqual({ status: 'ok', components: { store: { ok: true }, redis: { ok: true } } });
      expect(anonymous.body).not.toMatch(/secret-place|10\.20\.30\.40/);
      const wrongToken = await app.inject({ url: '/healthz', headers: { authorization: 'Bearer scrape-token-0123456780' } });
      expect(wrongToken.body).not.toMatch(/secret-place|10\.20\.30\.40/);
      const monitor = await app.inject({ url: '/healthz', headers: { authorization: 'Bearer scrape-token-0123456789' } });
      expect(monitor.json()).toMatchObject({ components: { store: { ok: true, detail: expect.stringContaining('secret-place.db') }, redis: { detail: '10.20.30.40:6379' } } });
      await seedUser(fileStore, 'health-viewer', 'department_viewer', ['d1']);
      const viewer = await login(app, 'health-viewer');
      expect((await viewer.get('/healthz')).json()).toMatchObject({ components: { redis: { detail: '10.20.30.40:6379' } } });
    } finally {
      await app.close();
      await fileStore.close();
      rmSync(dirname(path), { recursive: true, force: true });
    }
  });

  describe('with a scrape token', () => {
    let app: Awaited<ReturnType<typeof buildApp>>;
    beforeAll(async () => {
      app = await buildApp({ store, registry: createMetricsRegistry(), logger, metricsToken: 'scrape-token-0123456789' });
    });
    afterAll(() => app.close());

    it('serves shouwang_* metrics, request latency included, to a scraper with the token', async () => {
      await app.inject('/healthz');
      const response = await app.inject({ url: '/metrics', headers: { authorization: 'Bearer scrape-token-0123456789' } });
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toMatch(/text\/plain/);
      expect(response.body).toMatch(/^shouwang_process_cpu_user_seconds_total /m);
      expect(response.body).toMatch(/shouwang_http_request_duration_seconds_count\{method="GET",route="\/healthz",status="200"\} 1/);
    });

    it('refuses a scrape without the right token', async () => {
      expect((await app.inject('/metrics')).statusCode).toBe(401);
      const wrong = await app.inject({ url: '/metrics', headers: { authorization: 'Bearer scrape-token-0123456780' } });
      expect(wrong.statusCode).toBe(401);
      expect(wrong.json()).toMatchObject({ code: 'SW_ERR_METRICS_TOKEN' });
    });

    it('answers unknown routes with 404 and a message, not a stack', async () => {
      const response = await app.inject('/nothing-here');
      expect(response.statusCode).toBe(404);
      expect(response.json().message).toMatch(/not found/i);
    });
  });
});
