import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, createMetricsRegistry, parseInventory } from '../../core/index.js';
import { EmbeddedStore } from '../../store/index.js';
import { buildApp, hashPassword } from '../../console/index.js';
import { launchChromium } from '../harness/browser.js';

const dir = mkdtempSync(join(tmpdir(), 'shouwang-browser-tz-'));
const PASSWORD = 'browser time zone password 1';
const tag = randomUUID().slice(0, 6);
const event = `tz-ev-${tag}`;
// 02:30 UTC on 20 November is 21:30 the day before in New York (EST) and 10:30 in Shanghai; the browser runs in UTC.
const SEEN_AT = '2026-11-20T02:30:00.000Z';
const SEEN_IN_NEW_YORK = '2026/11/19 21:30:00';

describe('console times in a configured zone other than Asia/Shanghai', () => {
  const store = new EmbeddedStore({ path: join(dir, 'tz.db') });
  let app: FastifyInstance;
  let browser: Browser;
  let page: Page;
  let base: string;

  beforeAll(async () => {
    await store.assets.replaceInventory(parseInventory({
      departments: [{ id: `tax-${tag}`, name: '税务局' }],
      systems: [{ id: `portal-${tag}`, name: '电子税务门户', department: `tax-${tag}`, mlpsLevel: 3, zone: '互联网区', owner: { name: '李工' } }],
    }, 'browser time zone test'));
    await store.events.write([{
      id: event, '@timestamp': SEEN_AT, message: 'Failed password for root', shouwang: { department: `tax-${tag}`, system: `portal-${tag}`, mlps_level: 3 },
    }]);
    const now = new Date().toISOString();
    await store.users.create({
      username: 'root', displayName: '管理员', role: 'admin', departments: [], passwordHash: await hashPassword(PASSWORD),
      disabled: false, failedLogins: 0, sessionEpoch: 0, createdAt: now, updatedAt: now,
    });
    app = await buildApp({
      store, registry: createMetricsRegistry({ defaultMetrics: false }), logger: createLogger({ level: 'silent' }), timeZone: 'America/New_York',
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    browser = await launchChromium();
    page = await (await browser.newContext({ locale: 'zh-CN', timezoneId: 'UTC' })).newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows an event\'s time in the configured zone after login and after a reload', async () => {
    await page.goto(base);
    await page.getByLabel('用户名').fill('root');
    await page.getByLabel('密码').fill(PASSWORD);
    await page.getByRole('button', { name: '登录' }).click();
    await page.getByRole('navigation').getByRole('link', { name: '告警' }).waitFor();
    await page.goto(`${base}/#/events/${event}`);
    await expect.poll(() => page.locator('h1').textContent()).toBe(`事件详情：${SEEN_IN_NEW_YORK}`);
    // A reload learns the zone from GET /api/session, not from the login answer.
    await page.reload();
    await expect.poll(() => page.locator('h1').textContent()).toBe(`事件详情：${SEEN_IN_NEW_YORK}`);
  });
});
