import type { FastifyPluginAsync } from 'fastify';

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

/**
 * `/healthz` answers 200 while the process serves (liveness) and lists each component;
 * `status` says `degraded` when one is down, so a monitor can tell the two apart.
 */
export const healthPlugin: FastifyPluginAsync<{ checks: Record<string, HealthCheck> }> = async (app, { checks }) => {
  app.get('/healthz', async () => {
    const names = Object.keys(checks);
    const results = await Promise.all(names.map((name) => runCheck(checks[name]!)));
    const components = Object.fromEntries(names.map((name, i) => [name, results[i]]));
    return { status: results.every((r) => r.ok) ? 'ok' : 'degraded', components };
  });
};
