import type { FastifyInstance } from 'fastify';
import { CoreErrors } from '../core/index.js';

/** Addresses only this machine can reach; anything else (0.0.0.0, a LAN address, a name) is "beyond loopback". */
export const isLoopbackHost = (host: string): boolean => /^(127\.\d+\.\d+\.\d+|::1|\[::1\]|localhost)$/i.test(host);

/**
 * The only place the console listens on a socket. Beyond loopback, `/metrics` (alert counts by level
 * and status, request routes) would be open to the whole network: refuse to start without a scrape token.
 */
export async function listen(app: FastifyInstance, options: { host: string; port: number; metricsToken?: string | undefined }): Promise<string> {
  checkListenOptions(options);
  return app.listen({ host: options.host, port: options.port });
}

/** The same refusal, early: `start` checks it before it creates the first admin or touches anything. */
export function checkListenOptions(options: { host: string; metricsToken?: string | undefined }): void {
  if (!isLoopbackHost(options.host) && !options.metricsToken) {
    throw CoreErrors.configInvalid('http.metricsToken',
      `http.host ${options.host} 不是回环地址，必须设置 http.metricsToken（SHOUWANG_HTTP_METRICS_TOKEN）/ `
      + `http.host ${options.host} is not loopback: set http.metricsToken (SHOUWANG_HTTP_METRICS_TOKEN) so /metrics needs a token`);
  }
}
