import type { TestProject } from 'vitest/node';
import { ensureBuilt } from './built.js';
import { startElasticsearch } from './elasticsearch.js';
import { startMariadb } from './mariadb.js';
import { startPostgres } from './postgres.js';
import { startRedis } from './redis.js';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
    postgresUrl: string;
    mariadbUrl: string;
    elasticsearchUrl: string;
  }
}

/**
 * Starts the real services the tests talk to, once per run, on free loopback ports, and builds dist/ when
 * it is older than the sources. Only the integration project has this setup (vitest.config.ts).
 * Set SHOUWANG_TEST_REDIS_URL / _POSTGRES_URL / _MARIADB_URL / _ELASTICSEARCH_URL to use servers of your
 * own instead. (Not SHOUWANG_ELASTICSEARCH_URL: that one is the product's own setting, and a test that runs
 * the CLI in-process would read it and write to Elasticsearch instead of the store it checks.)
 */
export default async function setup(project: TestProject) {
  const env = process.env;
  const started = await Promise.allSettled([
    env.SHOUWANG_TEST_REDIS_URL ? undefined : startRedis(),
    env.SHOUWANG_TEST_POSTGRES_URL ? undefined : startPostgres(),
    env.SHOUWANG_TEST_MARIADB_URL ? undefined : startMariadb(),
    env.SHOUWANG_TEST_ELASTICSEARCH_URL ? undefined : startElasticsearch(),
    ensureBuilt().then(() => undefined), // tests that run the built CLI (./built.ts) never see a stale dist/
  ]);
  const stopAll = () =>
    Promise.all(started.map((s) => (s.status === 'fulfilled' && s.value ? s.value.stop() : undefined)));
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await stopAll();
    throw failed.reason;
  }
  const [redis, postgres, mariadb, elasticsearch] = started.map((s) => (s as PromiseFulfilledResult<{ url: string } | undefined>).value);
  project.provide('redisUrl', env.SHOUWANG_TEST_REDIS_URL ?? redis!.url);
  project.provide('postgresUrl', env.SHOUWANG_TEST_POSTGRES_URL ?? postgres!.url);
  project.provide('mariadbUrl', env.SHOUWANG_TEST_MARIADB_URL ?? mariadb!.url);
  project.provide('elasticsearchUrl', env.SHOUWANG_TEST_ELASTICSEARCH_URL ?? elasticsearch!.url);
  return async () => {
    await stopAll();
  };
}
