import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, createMetricsRegistry } from '../../core/index.js';
import { EmbeddedStore } from '../../store/index.js';
import { buildApp } from '../../console/index.js';

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
    expect(up.json()).toMatchObject({ status: 'ok', components: { store: { ok: true }, redis: { ok: true } } });
    redisUp = false;
    expect((await app.inject('/healthz')).json()).toMatchObject({ status: 'degraded', components: { redis: { ok: false, detail: 'connect ECONNREFUSED' } } });
    await app.close();
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
