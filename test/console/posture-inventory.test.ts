import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import type { Inventory } from '../../core/index.js';
import { EmbeddedStore } from '../../store/index.js';
import { login, seedUser, testApp, type Client } from './support.js';

const dir = mkdtempSync(join(tmpdir(), 'shouwang-inventory-api-'));
const tag = randomUUID().slice(0, 6);

const inventory = (systems: number) => ({
  departments: [{ id: `d1-${tag}`, name: '市一局' }, { id: `d2-${tag}`, name: '市二局' }],
  systems: Array.from({ length: systems }, (_, i) => ({
    id: `s${i}-${tag}`, name: `系统 ${i}`, department: i % 2 ? `d2-${tag}` : `d1-${tag}`, mlpsLevel: 3, zone: '政务外网',
    owner: { name: '张' }, hosts: [`h${i}-${tag}`],
  })),
});

describe('inventory editing (资产, admins)', () => {
  const store = new EmbeddedStore({ path: join(dir, 'inventory.db') });
  const replaced: Inventory[] = [];
  let app: FastifyInstance;
  let admin: Client;
  let officer: Client;

  beforeAll(async () => {
    await store.assets.replaceInventory(inventory(1) as Inventory);
    await seedUser(store, `admin-${tag}`, 'admin');
    await seedUser(store, `officer-${tag}`, 'security_officer');
    app = await testApp(store, { onInventory: (next) => void replaced.push(next) });
    admin = await login(app, `admin-${tag}`);
    officer = await login(app, `officer-${tag}`);
  });
  afterAll(async () => {
    await app.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const put = (client: Client, payload: unknown) => app.inject({
    method: 'PUT', url: '/api/inventory', headers: { cookie: client.cookie, 'x-csrf-token': client.csrf }, payload: payload as object,
  });

  it('replaces the inventory, tells the runtime and writes an audit entry', async () => {
    const response = await put(admin, inventory(3));
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ departments: 2, systems: 3 });
    expect((await admin.get('/api/inventory')).json().systems.map((s: { id: string }) => s.id)).toEqual([0, 1, 2].map((i) => `s${i}-${tag}`));
    expect(replaced.at(-1)?.systems).toHaveLength(3);
    const audit = (await store.audit.list({}, { size: 1 })).items[0];
    expect(audit).toMatchObject({ action: 'inventory.replace', actor: `admin-${tag}`, detail: { departments: 2, systems: 3 } });
  });

  it('refuses an invalid inventory naming the field, and keeps the stored one', async () => {
    const bad = inventory(2);
    (bad.systems[1] as { mlpsLevel: number }).mlpsLevel = 7;
    bad.systems[0]!.hosts = [`h1-${tag}`];
    const response = await put(admin, bad);
    expect(response.statusCode).toBe(400);
    expect(response.json().code).toBe('SW_ERR_INVENTORY_INVALID');
    expect(response.json().message).toContain('systems[1].mlpsLevel: Too big');
    expect(response.json().message).toContain('systems[1].hosts[0]: already belongs to system');
    expect((await admin.get('/api/inventory')).json().systems).toHaveLength(3);
  });

  it('answers forbidden, malformed and oversized requests with 4xx', async () => {
    expect((await put(officer, inventory(1))).statusCode).toBe(403);
    expect((await put(admin, { departments: 'x', systems: [] })).statusCode).toBe(400);
    expect((await put(admin, [1, 2])).statusCode).toBe(400);
    expect((await app.inject({
      method: 'PUT', url: '/api/inventory', headers: { cookie: admin.cookie, 'x-csrf-token': admin.csrf, 'content-type': 'application/json' }, payload: '{"departments": [',
    })).statusCode).toBe(400);
    expect((await put(admin, { ...inventory(1), padding: 'x'.repeat(1_100_000) })).statusCode).toBe(413);
    expect((await app.inject({ method: 'PUT', url: '/api/inventory', headers: { cookie: admin.cookie }, payload: inventory(1) })).statusCode).toBe(403);
    expect((await admin.get('/api/inventory')).json().systems).toHaveLength(3);
  });
});
