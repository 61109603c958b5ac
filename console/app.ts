import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { ShouwangError, type Logger } from '../core/index.js';
import type { Store } from '../store/index.js';
import { healthPlugin, type HealthCheck } from './health.js';
import { metricsPlugin } from './metrics.js';

export interface AppDeps {
  store: Store;
  registry: Registry;
  logger: Logger;
  /** More components for /healthz, e.g. Redis. */
  checks?: Record<string, HealthCheck>;
  metricsToken?: string;
}

/** Builds the console without listening, so tests can `inject()` or listen on port 0. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({ loggerInstance: deps.logger as FastifyBaseLogger, bodyLimit: 1 << 20 });
  app.setErrorHandler((error: Error, request, reply) => {
    if (error instanceof ShouwangError) {
      return reply.status(error.statusCode).send({ code: error.code, message: error.message });
    }
    const status = (error as { statusCode?: number }).statusCode ?? 500;
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    return reply.status(status).send({
      code: (error as { code?: string }).code ?? 'SW_ERR_INTERNAL',
      message: status >= 500 ? '内部错误 / internal error' : error.message,
    });
  });
  await app.register(healthPlugin, { checks: { store: () => deps.store.health(), ...deps.checks } });
  await app.register(metricsPlugin, { registry: deps.registry, ...(deps.metricsToken ? { token: deps.metricsToken } : {}) });
  return app;
}
