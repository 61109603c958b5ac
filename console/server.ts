import type { FastifyInstance } from 'fastify';

/** The only place the console listens on a socket. */
export async function listen(app: FastifyInstance, options: { host: string; port: number }): Promise<string> {
  return app.listen({ host: options.host, port: options.port });
}
