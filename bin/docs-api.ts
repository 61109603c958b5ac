import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createLogger, createMetricsRegistry } from '../core/index.js';
import { buildApp, hashPassword } from '../console/index.js';
import { EmbeddedStore } from '../store/index.js';
import { renderHttpApi, type OpenApiDocument } from './openapi-markdown.js';

export const HTTP_API_PAGE = 'docs/reference/http-api.md';

/**
 * The console's OpenAPI document as a running app serves it: an app on a throwaway store with every
 * optional feature registered (evidence included), read through a logged-in `GET /api/docs`.
 */
export async function consoleOpenApi(): Promise<OpenApiDocument> {
  const dir = mkdtempSync(join(tmpdir(), 'shouwang-docs-api-'));
  const store = new EmbeddedStore({ path: join(dir, 'docs.db') });
  const unused = async () => { throw new Error('not used while reading the document'); };
  const app = await buildApp({
    store, registry: createMetricsRegistry({ defaultMetrics: false }), logger: createLogger({ level: 'silent' }),
    evidence: { queue: { enqueue: unused, get: unused }, dataDir: dir },
  });
  try {
    const password = 'docs-api-password-1';
    const now = new Date().toISOString();
    await store.users.create({
      username: 'docs', displayName: 'docs', role: 'admin', departments: [], passwordHash: await hashPassword(password),
      disabled: false, failedLogins: 0, sessionEpoch: 0, createdAt: now, updatedAt: now,
    });
    const login = await app.inject({ method: 'POST', url: '/api/session', payload: { username: 'docs', password } });
    const cookie = String(login.headers['set-cookie']).split(';')[0]!;
    const docs = await app.inject({ method: 'GET', url: '/api/docs', headers: { cookie } });
    if (docs.statusCode !== 200) throw new Error(`GET /api/docs answered ${docs.statusCode}: ${docs.body}`);
    return docs.json() as OpenApiDocument;
  } finally {
    await app.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  writeFileSync(HTTP_API_PAGE, renderHttpApi(await consoleOpenApi()));
  console.log(`${HTTP_API_PAGE} 已更新 / written`);
}
