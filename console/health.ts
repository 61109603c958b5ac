import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { hasBearer } from './metrics.js';

export type HealthCheck = () => Promise<{ ok: boolean; detail: string }>;

const CHECK_TIMEOUT_MS = 2000;

async function runCheck(check: HealthCheck): Promise<{ ok: boolean; detail: string }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<{ ok: boolean; detail: string }>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, detail: `no answer in ${CHECK_TIMEOUT_MS} ms` }), CHECK_TIMEOUT_MS);
  });
  try {
    return await Promise.race([check().catch((error: Error) => ({ ok: false, detail: error.message })), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export interface HealthOptions {
  checks: Record<string, HealthCheck>;
  /** The scrape token: a monitor sending it as a bearer gets each component's detail. */
  token?: string;
  /** Whether the request has a console session: a logged-in user gets each component's detail. */
  hasSession: (request: FastifyRequest) => Promise<boolean>;
}

/**
 * `/healthz` answers 200 while the process serves (liveness) and lists each component;
 * `status` says `degraded` when one is down, so a monitor can tell the two apart. Anonymous callers
 * get only `ok` per component: the detail names the database path, Redis host:port and errors.
 */
export const healthPlugin: FastifyPluginAsync<HealthOptions> = async (app, { checks, token, hasSession }) => {
  app.get('/healthz', async (request) => {
    const names = Object.keys(checks);
    const results = await Promise.all(names.map((name) => runCheck(checks[name]!)));
    const detailed = (token !== undefined && hasBearer(request, token)) || await hasSession(request);
    const components = Object.fromEntries(names.map((name, i) => [name, detailed ? results[i] : { ok: results[i]!.ok }]));
    return { status: results.every((r) => r.ok) ? 'ok' : 'degraded', components };
  });
};
