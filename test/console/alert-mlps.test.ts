import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createLogger, createMetricsRegistry } from '../../core/index.js';
import { EmbeddedStore } from '../../store/index.js';
import { buildApp } from '../../console/index.js';
import { login, seedTwoDepartments, seedUser, type Client } from './support.js';

const dir = mkdtempSync(join(tmpdir(), 'shouwang-alert-mlps-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('alert detail resolves its MLPS clauses through the catalog', () => {
  const store = new EmbeddedStore({ path: join(dir, 'api.db') });
  let app: FastifyInstance;
  let admin: Client;
  let seeded: Awaited<ReturnType<typeof seedTwoDepartments>>;

  beforeAll(async () => {
    seeded = await seedTwoDepartments(store);
    await seedUser(store, 'root', 'admin');
    app = await buildApp({ store, registry: createMetricsRegistry({ defaultMetrics: false }), logger: createLogger({ level: 'silent' }) });
    admin = await login(app, 'root');
  });
  afterAll(async () => {
    await app.close();
    await store.close();
  });

  it('returns each cited clause with its requirement text and 测评单元', async () => {
    const response = await admin.get(`/api/alerts/${seeded.a.alert}`);
    expect(response.statusCode).toBe(200);
    const body = response.json() as { mlps: string[]; mlpsRequirements: unknown[] };
    expect(body.mlps).toEqual(['8.1.4.3 a)']);
    expect(body.mlpsRequirements).toEqual([{
      ref: '8.1.4.3 a)', clause: '8.1.4.3 a)', level: 3, testUnit: 'L3-CES1-12',
      control: { zh: '安全审计', en: 'Security audit' },
      requirement: { zh: '应启用安全审计功能，审计覆盖到每个用户，对重要的用户行为和重要安全事件进行审计', en: expect.stringMatching(/audit/i) },
    }]);
  });
});
