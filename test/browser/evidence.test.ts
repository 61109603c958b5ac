import { randomUUID } from 'node:crypto';
import { readFileSync, truncateSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { QueueEvents } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { redisConnection } from '../../backup/index.js';
import {
  EVIDENCE_QUEUE, EvidenceQueue, bundlePath, generateSigningKey, readZipEntries, startEvidenceWorker,
} from '../../evidence/index.js';
import { login, PASSWORD, seedUser, testApp } from '../console/support.js';
import { DEPT_A, DEPT_B, GOOD, PARTIAL, PERIOD, SILENT, seedFixture, type Fixture } from '../evidence/fixture.js';
import { launchChromium, screenshot, VIEWPORT } from '../harness/browser.js';

describe('evidence page in Debian chromium', () => {
  const prefix = `test-${randomUUID()}`;
  const key = generateSigningKey();
  let fixture: Fixture;
  let queue: EvidenceQueue;
  let worker: ReturnType<typeof startEvidenceWorker>;
  let events: QueueEvents;
  let app: FastifyInstance;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let base: string;
  let jobId: string;
  /** Script errors and CSP violations the page caused; 4xx answers the tests provoke are expected. */
  const pageErrors: string[] = [];

  beforeAll(async () => {
    // Two departments: A (sys-good, sys-silent) and B (sys-partial), with events, alerts, backup checks and a drill in June 2026.
    fixture = await seedFixture();
    const redisUrl = inject('redisUrl');
    queue = new EvidenceQueue({ redis: redisUrl, prefix });
    worker = startEvidenceWorker({ redis: redisUrl, prefix, store: fixture.store, dataDir: fixture.dir, key });
    events = new QueueEvents(EVIDENCE_QUEUE, { connection: redisConnection(redisUrl), prefix });
    await events.waitUntilReady();
    await seedUser(fixture.store, 'reviewer-a', 'compliance_reviewer', [DEPT_A]);
    await seedUser(fixture.store, 'reviewer-b', 'compliance_reviewer', [DEPT_B]);
    app = await testApp(fixture.store, { evidence: { queue, dataDir: fixture.dir, publicKey: key.publicKey } });
    await app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;

    browser = await launchChromium();
    context = await browser.newContext({ viewport: VIEWPORT, locale: 'zh-CN', timezoneId: 'UTC', acceptDownloads: true });
    page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => { if (message.type() === 'error') pageErrors.push(message.text()); });
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await worker?.close();
    await events?.close();
    await queue?.queue.obliterate({ force: true }).catch(() => undefined);
    await queue?.close();
    await fixture?.close();
  });

  it('offers a department reviewer only their own department and its systems, the last 30 days by default', async () => {
    await page.goto(base);
    await page.getByLabel('用户名').fill('reviewer-a');
    await page.getByLabel('密码').fill(PASSWORD);
    await page.getByRole('button', { name: '登录' }).click();
    await page.getByRole('navigation').getByRole('link', { name: '等保证据' }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe('等保证据');

    const department = page.locator('#evidence-department');
    await department.waitFor({ state: 'attached' });
    expect(await department.locator('option').evaluateAll((os) => os.map((o) => o.getAttribute('value')))).toEqual([DEPT_A]);
    expect(await page.locator('#evidence-system option').evaluateAll((os) => os.map((o) => o.getAttribute('value')))).toEqual([GOOD, SILENT]);
    expect(await page.getByRole('radio', { name: '我负责的全部部门' }).count()).toBe(1);

    // Default period: 30 days back to today, as dates in Asia/Shanghai.
    const day = (ms: number) => new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(new Date(ms));
    const to = await page.locator('#evidence-to').inputValue();
    const from = await page.locator('#evidence-from').inputValue();
    expect([day(Date.now() - 60_000), day(Date.now())]).toContain(to);
    expect(Date.parse(to) - Date.parse(from)).toBe(30 * 86_400_000);

    // The system select shows only when "system" is the scope.
    expect(await page.locator('#evidence-system').isVisible()).toBe(false);
    await page.getByRole('radio', { name: '系统', exact: true }).check();
    expect(await page.locator('#evidence-system').isVisible()).toBe(true);
    await page.getByRole('radio', { name: '部门', exact: true }).check();
    await page.locator('#evidence-from').fill('2026-06-01');
    await page.locator('#evidence-to').fill('2026-06-30');
    await screenshot(page, 'evidence-01-before-export');
  });

  it('refuses a period that ends before it starts, without starting a job', async () => {
    await page.locator('#evidence-to').fill('2026-05-01');
    await page.getByRole('button', { name: '导出证据包' }).click();
    await expect.poll(() => page.locator('.evidence-form .form-status').textContent()).toBe('请填写开始与结束日期，且开始不晚于结束');
    expect(await page.locator('#evidence-job').isVisible()).toBe(false);
    await page.locator('#evidence-to').fill('2026-06-30');
  });

  it('exports the department bundle with progress, then shows the bundle verified', async () => {
    await page.getByRole('button', { name: '导出证据包' }).click();
    const section = page.locator('#evidence-job');
    await section.locator('progress').waitFor();
    await screenshot(page, 'evidence-02-during-export');
    jobId = new URL(page.url()).hash.replace('#/evidence/', '');
    expect(jobId).toMatch(/^[A-Za-z0-9_-]{22}$/);

    await expect.poll(() => section.getAttribute('data-state'), { timeout: 60_000 }).toBe('completed');
    expect(await section.locator('progress').getAttribute('value')).toBe('100');
    // The period is both whole days in Asia/Shanghai: 1 June 00:00 to 1 July 00:00 (+08:00).
    const state = await (await context.request.get(`${base}/api/evidence/${jobId}`)).json() as { selection: unknown; result: { systems: number } };
    expect(state.selection).toEqual({ department: DEPT_A, from: '2026-05-31T16:00:00.000Z', to: '2026-06-30T16:00:00.000Z' });
    expect(state.result.systems).toBe(2);
    expect(await section.locator('.selection').textContent()).toContain('大数据局');

    const verify = page.locator('#evidence-verify');
    await expect.poll(() => verify.getAttribute('data-ok'), { timeout: 30_000 }).toBe('true');
    const text = await verify.textContent();
    expect(text).toContain('校验结果');
    expect(text).toContain('签名：有效');
    expect(text).toContain('本实例的签名公钥');
    expect(text).not.toMatch(/[{}"]/);
    await screenshot(page, 'evidence-03-verified');
  }, 90_000);

  it('downloads the bundle: a ZIP with a manifest naming only the department systems', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#evidence-download').click()]);
    expect(download.suggestedFilename()).toBe(`shouwang-evidence-${jobId}.zip`);
    const path = await download.path();
    expect(readFileSync(path).subarray(0, 4).toString('latin1')).toBe('PK\u0003\u0004');
    const entries = await readZipEntries(path);
    const manifest = JSON.parse(entries.get('manifest.json')!.toString('utf8')) as { selection: { systems: string[] } };
    expect(manifest.selection.systems).toEqual([GOOD, SILENT]);
    expect(entries.has('manifest.sig')).toBe(true);
  });

  it('shows the page in English without untranslated keys', async () => {
    await page.getByRole('button', { name: 'English' }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe('Evidence');
    await expect.poll(() => page.locator('#evidence-verify').getAttribute('data-ok'), { timeout: 30_000 }).toBe('true');
    // Redrawn from the address, the form keeps the followed job's choices.
    await expect.poll(() => page.locator('#evidence-from').inputValue()).toBe('2026-06-01');
    expect(await page.locator('#evidence-to').inputValue()).toBe('2026-06-30');
    expect(await page.locator('#evidence-department').inputValue()).toBe(DEPT_A);
    // Each text node on its own (without the key fingerprints: base64 may look like anything).
    const texts = await page.evaluate(`(() => {
      const walker = document.createTreeWalker(document.getElementById('main'), NodeFilter.SHOW_TEXT);
      const out = [];
      while (walker.nextNode()) if (!walker.currentNode.parentElement.closest('code')) out.push(walker.currentNode.textContent);
      return out;
    })()`) as string[];
    expect(texts.join('\n')).toContain('Signature: valid');
    // A key left untranslated shows as its camelCase name. The job's random id may look like one: it is taken out first.
    expect(texts.filter((text) => /\b[a-z]+[A-Z][a-zA-Z]+\b/.test(text.replaceAll(jobId, '')))).toEqual([]);
    await screenshot(page, 'evidence-04-english');
    await page.getByRole('button', { name: '中文' }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe('等保证据');
  });

  it('answers 404 to another department id, and to the job for a reviewer of another department', async () => {
    const session = await (await context.request.get(`${base}/api/session`)).json() as { csrfToken: string };
    const post = (data: unknown) => context.request.post(`${base}/api/evidence`, { data, headers: { 'x-csrf-token': session.csrfToken } });
    expect((await post({ department: DEPT_B, ...PERIOD })).status()).toBe(404);
    expect((await post({ system: PARTIAL, ...PERIOD })).status()).toBe(404);
    expect((await context.request.get(`${base}/api/evidence/${"A".repeat(22)}/verify`)).status()).toBe(404);
    expect((await context.request.get(`${base}/api/evidence/..%2F1/verify`)).status()).toBe(400);

    const other = await login(app, 'reviewer-b');
    for (const url of [`/api/evidence/${jobId}`, `/api/evidence/${jobId}/download`, `/api/evidence/${jobId}/verify`]) {
      expect((await other.get(url)).statusCode, url).toBe(404);
    }
    expect((await app.inject({ url: `/api/evidence/${jobId}/verify` })).statusCode).toBe(401);
  });

  it('verifies against the instance key: a bundle signed by another key is not OK', async () => {
    const otherKey = generateSigningKey();
    const other = await testApp(fixture.store, { evidence: { queue, dataDir: fixture.dir, publicKey: otherKey.publicKey } });
    try {
      const reviewer = await login(other, 'reviewer-a');
      const report = (await reviewer.get(`/api/evidence/${jobId}/verify`)).json() as { ok: boolean; wrongKey: boolean; keySource: string };
      expect(report).toMatchObject({ ok: false, wrongKey: true, keySource: 'pinned' });
    } finally {
      await other.close();
    }
  });

  it('shows a damaged stored bundle as not OK, with the reason', async () => {
    truncateSync(bundlePath(fixture.dir, jobId), 100);
    await page.getByRole('button', { name: '重新校验' }).click();
    const verify = page.locator('#evidence-verify');
    await expect.poll(() => verify.getAttribute('data-ok')).toBe('false');
    expect(await verify.textContent()).toContain('未通过');
    expect(await verify.locator('.problems li').first().textContent()).toMatch(/^证据包无法读取/);
    await screenshot(page, 'evidence-05-damaged');
  });

  it('shows a failed export with its reason, followed from the address', async () => {
    const failed = await queue.enqueue({ selection: { ...PERIOD, system: 'no-such-system' }, requestedBy: 'reviewer-a', scope: { departments: [DEPT_A] } });
    await expect(failed.waitUntilFinished(events, 30_000)).rejects.toThrow(/no-such-system/);
    await page.goto(`${base}/#/evidence/${failed.id}`);
    const section = page.locator('#evidence-job');
    await expect.poll(() => section.getAttribute('data-state')).toBe('failed');
    expect(await section.locator('.error').textContent()).toMatch(/^导出失败：.*no-such-system/);
    expect(await page.locator('#evidence-download').count()).toBe(0);
    // No bundle, nothing to verify or download.
    expect((await context.request.get(`${base}/api/evidence/${failed.id}/verify`)).status()).toBe(404);
    await screenshot(page, 'evidence-06-failed');
  });

  it('offers an unscoped admin every department', async () => {
    await seedUser(fixture.store, 'evidence-admin', 'admin');
    const admin = await browser.newContext({ viewport: VIEWPORT, locale: 'zh-CN', timezoneId: 'UTC' });
    try {
      const adminPage = await admin.newPage();
      await adminPage.goto(base);
      await adminPage.getByLabel('用户名').fill('evidence-admin');
      await adminPage.getByLabel('密码').fill(PASSWORD);
      await adminPage.getByRole('button', { name: '登录' }).click();
      await adminPage.getByRole('navigation').getByRole('link', { name: '等保证据' }).click();
      const department = adminPage.locator('#evidence-department');
      await department.waitFor({ state: 'attached' });
      expect(await department.locator('option').evaluateAll((os) => os.map((o) => o.getAttribute('value')))).toEqual([DEPT_A, DEPT_B]);
      expect(await adminPage.locator('#evidence-system option').evaluateAll((os) => os.map((o) => o.getAttribute('value')))).toEqual([GOOD, SILENT, PARTIAL]);
      expect(await adminPage.getByRole('radio', { name: '全部部门' }).count()).toBe(1);
    } finally {
      await admin.close();
    }
  });

  it('ran without a script error or a Content-Security-Policy violation', () => {
    expect(pageErrors.filter((text) => !/Failed to load resource: the server responded with a status of 4\d\d/.test(text))).toEqual([]);
  });
});
