import { timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { Registry } from 'prom-client';
import { gauge, histogram, RULE_LEVELS } from '../core/index.js';
import type { AlertStore } from '../store/index.js';

/** Constant-time comparison of a presented secret with the expected one. */
export function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Whether the request carries `Authorization: Bearer <token>`. */
export function hasBearer(request: FastifyRequest, token: string): boolean {
  const header = request.headers.authorization ?? '';
  return sameSecret(header.startsWith('Bearer ') ? header.slice(7) : '', token);
}

/** `/metrics` for Prometheus, behind a bearer scrape token when one is configured. */
export const metricsPlugin: FastifyPluginAsync<{ registry: Registry; token?: string; alerts?: AlertStore }> = async (
  app, { registry, token, alerts },
) => {
  const latency = histogram<'method' | 'route' | 'status'>(registry, {
    name: 'http_request_duration_seconds',
    help: 'Console HTTP request latency',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  });
  if (alerts) {
    // Counted at scrape time from the store (one grouped count per level), so every process reports the same truth.
    gauge<'level' | 'status'>(registry, {
      name: 'alerts',
      help: 'Alerts in the store by rule level and status',
      labelNames: ['level', 'status'],
      async collect() {
        this.reset();
        for (const level of RULE_LEVELS) {
          for (const bucket of await alerts.countBy({ level: [level] }, 'status')) this.set({ level, status: bucket.key }, bucket.count);
        }
      },
    });
  }
  app.addHook('onResponse', async (request, reply) => {
    // The route pattern, not the URL, keeps label cardinality bounded.
    const route = request.routeOptions.url ?? 'unmatched';
    latency.observe({ method: request.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });

  app.get('/metrics', async (request, reply) => {
    if (token) {
      if (!hasBearer(request, token)) {
        return reply.status(401).send({ code: 'SW_ERR_METRICS_TOKEN', message: '需要采集令牌 / scrape token required' });
      }
    }
    reply.header('content-type', registry.contentType);
    return registry.metrics();
  });
};

// Not encapsulated (what fastify-plugin does): the latency hook must see every route of the app.
Object.assign(metricsPlugin, { [Symbol.for('skip-override')]: true });
