import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ConfigSchema, createLogger, createMetricsRegistry } from '../../core/index.js';
import { EmbeddedStore } from '../../store/index.js';
import { buildApp } from '../../console/index.js';
import { startNotifier, type Notifier } from '../../analyzers/index.js';
import { startReceiver, verifyWebhook } from '../analyzers/notify/receivers.js';
import { PASSWORD, seedUser } from '../console/support.js';
import { launchChromium, screenshot, VIEWPORT } from '../harness/browser.js';

const dir = mkdtempSync(join(tmpdir(), 'shouwang-browser-notify-'));
const tag = randomUUID().slice(0, 6);
const SECRET = `HOOK-SECRET-${tag}`;

describe('notifications page in Debian chromium', () => {
  const store = new EmbeddedStore({ path: join(dir, 'notify.db') });
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let notifier: Notifier;
  let app: FastifyInstance;
  let browser: Browser;
  let base: string;
  const pageErrors: string[] = [];

  async function signIn(username: string): Promise<Page> {
    const context = await browser.newContext({ viewport: VIEWPORT, locale: 'zh-CN', timezoneId: 'UTC' });
    const page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => { if (message.type() === 'error') pageErrors.push(`${message.text()} ${message.location().url}`); });
    await page.goto(base);
    await page.getByLabel('用户名').fill(username);
    await page.getByLabel('密码').fill(PASSWORD);
    await page.getByRole('button', { name: '登录' }).click();
    await page.locator('#logout').waitFor();
    return page;
  }

  beforeAll(async () => {
    receiver = await startReceiver();
    const config = ConfigSchema.parse({
      notify: {
        channels: [
          { id: 'soc-hook', type: 'webhook', url: `${receiver.url}/hook?token=URL-TOKEN-${tag}`, secret: SECRET },
          // Nothing listens on port 1: the page must show why the test failed.
          { id: 'dead-hook', type: 'webhook', url: 'http://127.0.0.1:1/h' },
        ],
        routes: [{
          id: 'critical', match: { minLevel: 'high', mlpsLevels: [3, 4] }, channels: ['soc-hook'], toDepartment: true,
          escalation: [{ channels: ['dead-hook'] }],
        }],
        attempts: 1,
      },
    }).notify;
    notifier = await startNotifier({ config, redis: inject('redisUrl'), prefix: `test-${randomUUID()}`, alerts: store.alerts, worker: false });
    await seedUser(store, 'root', 'admin');
    await seedUser(store, `officer-${tag}`, 'security_officer');
    await seedUser(store, `scoped-admin-${tag}`, 'admin', ['d1']);
    app = await buildApp({
      store, registry: createMetricsRegistry({ defaultMetrics: false }), logger: createLogger({ level: 'silent' }),
      notify: { config, sendTest: (id, actor) => notifier.sendTest(id, actor) },
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await notifier?.close();
    await receiver?.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists channels and routes without secrets, and a test message reaches the receiver signed', async () => {
    const page = await signIn('root');
    await page.getByRole('navigation').getByRole('link', { name: '通知', exact: true }).click();
    const hook = page.locator('tr', { has: page.locator('[data-test-channel="soc-hook"]') });
    await hook.waitFor();
    expect(await hook.textContent()).toContain('已设置');
    expect(await hook.textContent()).toContain(`${receiver.url}/hook`);
    const routes = await page.locator('#routes-h + div').textContent();
    expect(routes).toContain('级别 ≥ 高；等保级别：3，4');
    expect(routes).toContain('部门联系人与值班人员');
    expect(await page.locator('#routes-h + div ol li').allTextContents()).toEqual(['dead-hook']);
    expect(await page.content()).not.toMatch(/HOOK-SECRET|URL-TOKEN/);

    await page.locator('[data-test-channel="soc-hook"]').click();
    await expect.poll(() => page.locator('[data-test-result="soc-hook"]').textContent()).toMatch(/^已送达（\d+ 毫秒）$/);
    expect(receiver.requests).toHaveLength(1);
    expect(verifyWebhook(SECRET, receiver.requests[0]!)).toBe(true);
    expect(receiver.requests[0]!.body).toContain('测试消息');

    await page.locator('[data-test-channel="dead-hook"]').click();
    const failed = page.locator('[data-test-result="dead-hook"]');
    await expect.poll(() => failed.getAttribute('class')).toBe('form-status error');
    expect(await failed.textContent()).toMatch(/^发送失败：\S/);
    await screenshot(page, 'notify-01-channels');
    // The 401 is the page asking for a session before the login; the 502 is the dead channel, answered on purpose.
    expect(pageErrors.filter((text) => !/status of (401|502) /.test(text))).toEqual([]);
    // English mode: the page has no Chinese left (channel and route ids are ASCII).
    await page.locator('#lang-switch').click();
    await page.getByRole('heading', { name: 'Channels' }).waitFor();
    expect(await page.locator('main').textContent()).not.toMatch(/\p{Script=Han}/u);
    expect(await page.locator('#routes-h + div').textContent()).toContain('level ≥ high; MLPS levels: 3, 4');
    await screenshot(page, 'notify-02-english');
    await page.context().close();
  });

  it('is not offered to a non-admin or a department-scoped admin, and the API answers them 403', async () => {
    for (const username of [`officer-${tag}`, `scoped-admin-${tag}`]) {
      const page = await signIn(username);
      expect(await page.getByRole('navigation').getByRole('link', { name: '通知', exact: true }).count()).toBe(0);
      await page.goto(`${base}/#/notify`);
      await page.getByRole('alert').filter({ hasText: '没有权限查看此页面' }).waitFor();
      expect((await page.context().request.get(`${base}/api/notify`)).status()).toBe(403);
      await page.context().close();
    }
    expect(receiver.requests).toHaveLength(1);
  });

  it('lets any user set their own notification preferences', async () => {
    const page = await signIn(`officer-${tag}`);
    await page.getByRole('navigation').getByRole('link', { name: '我的通知' }).click();
    await page.getByLabel('邮箱').fill('officer@example.gov.cn');
    await page.getByLabel('最低级别').selectOption('medium');
    await page.getByRole('button', { name: '保存' }).click();
    await expect.poll(() => page.getByRole('status').filter({ hasText: '已保存' }).count()).toBe(1);
    expect((await store.users.get(`officer-${tag}`))?.notifications).toEqual({ email: 'officer@example.gov.cn', minLevel: 'medium', optOut: false });
    await page.getByLabel('手机').fill('call me');
    await page.getByRole('button', { name: '保存' }).click();
    await expect.poll(() => page.locator('.form-status.error').count()).toBe(1);
    await screenshot(page, 'notify-03-my-preferences');
    await page.context().close();
  });
});
