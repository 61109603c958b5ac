import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { BackupQueues, postgresDrillServer, startBackupWorkers, type BackupWorkers } from '../../backup/index.js';
import { alertId, createLogger, createMetricsRegistry, parseInventory, type Alert, type ShouwangEvent } from '../../core/index.js';
import { EmbeddedStore } from '../../store/index.js';
import { buildApp, hashPassword, RuleSwitches } from '../../console/index.js';
import { postgresSourceDump, writeSet } from '../backup/fixtures/drill-sources.js';
import { launchChromium, screenshot, VIEWPORT } from '../harness/browser.js';

const dir = mkdtempSync(join(tmpdir(), 'shouwang-browser-'));
const PASSWORD = 'browser test password 1';
const tag = randomUUID().slice(0, 6);
const ids = {
  tax: `tax-${tag}`, health: `health-${tag}`, drill: `drill-${tag}`,
  portal: `tax-portal-${tag}`, his: `health-his-${tag}`, db: `drill-db-${tag}`, archives: `archives-${tag}`,
};
// 02:30 UTC is 10:30 in Asia/Shanghai; the browser runs in UTC, so a shown 10:30 proves the conversion.
const SEEN_AT = '2026-11-20T02:30:00.000Z';
const SEEN_IN_SHANGHAI = '2026/11/20 10:30:00';
/** The shipped SSH brute-force correlation (rules/shouwang/linux/ssh_bruteforce.yml). */
const SSH_BRUTE_RULE = '8a247f59-7a5f-52f6-b3ba-85a1cea5169e';

function seedAlert(system: string, department: string, level: Alert['rule']['level'], mlpsLevel: number, title: string, eventIds: string[]): Alert {
  const ruleId = `rule-${level}-${tag}`;
  return {
    id: alertId(ruleId, system, SEEN_AT), rule: { id: ruleId, title, level }, mlps: ['8.1.4.3 a)'], department, system, mlpsLevel,
    priority: (['informational', 'low', 'medium', 'high', 'critical'].indexOf(level) + 1) * mlpsLevel, status: 'new',
    timeline: [{ at: SEEN_AT, actor: 'analyzer', action: 'raised' }], firstSeen: SEEN_AT, lastSeen: SEEN_AT, count: eventIds.length,
    sampleEventIds: eventIds,
  };
}

describe('console in Debian chromium', () => {
  const store = new EmbeddedStore({ path: join(dir, 'console.db') });
  const prefix = `test-${randomUUID()}`;
  let queues: BackupQueues;
  let workers: BackupWorkers;
  let app: FastifyInstance;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let base: string;
  let taxAlert: Alert;
  let bruteAlert: Alert;
  let bulkAlerts: Alert[];
  /** Script errors and CSP violations the pages caused; 4xx answers the tests provoke are expected. */
  const pageErrors: string[] = [];

  beforeAll(async () => {
    // A real PostgreSQL dump in both backup sites of the drill system.
    const dumpFile = join(dir, 'permits.dump');
    await postgresSourceDump(inject('postgresUrl'), dumpFile, 40);
    const sameCity = join(dir, 'same-city');
    const offSite = join(dir, 'off-site');
    const setName = new Date(Date.now() - 3600_000).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
    for (const root of [sameCity, offSite]) writeSet(root, setName, { 'permits.dump': dumpFile });

    const inventory = parseInventory({
      departments: [
        { id: ids.tax, name: '税务局', nameEn: 'Tax Bureau' },
        { id: ids.health, name: '卫生健康委', nameEn: 'Health Commission' },
        { id: ids.drill, name: '大数据中心', nameEn: 'Big Data Center' },
        // No systems yet: no data, not a perfect 0.
        { id: ids.archives, name: '档案馆', nameEn: 'Archives' },
      ],
      systems: [
        { id: ids.portal, name: '电子税务门户', department: ids.tax, mlpsLevel: 3, zone: '互联网区', owner: { name: '李工' } },
        { id: ids.his, name: '医院信息平台', department: ids.health, mlpsLevel: 4, zone: '政务外网', owner: { name: '王工' } },
        {
          id: ids.db, name: '证照库', department: ids.drill, mlpsLevel: 3, zone: '政务内网', owner: { name: '赵工' },
          backup: {
            rpo: '1d', rto: '4h', sameCity: { type: 'path', path: sameCity }, offSite: { type: 'path', path: offSite },
            validationQueries: [{ name: '证照数 citizens', sql: 'SELECT count(*) FROM citizens', expect: { equals: 40 } }],
          },
        },
      ],
    }, 'browser test');
    await store.assets.replaceInventory(inventory);

    const events: ShouwangEvent[] = [ids.portal, ids.his].flatMap((system, s) => [1, 2, 3].map((n) => ({
      id: `${system}-ev${n}`, '@timestamp': SEEN_AT, message: `Failed password for root from 10.0.${s}.${n} port 22 ssh2`,
      event: { outcome: 'failure', dataset: 'linux.auth' }, user: { name: 'root' }, host: { name: `${system}-host` }, source: { ip: `10.0.${s}.${n}` },
      shouwang: { department: s === 0 ? ids.tax : ids.health, system, mlps_level: s === 0 ? 3 : 4 },
    })));
    await store.events.write(events);
    taxAlert = seedAlert(ids.portal, ids.tax, 'high', 3, 'SSH 暴力破解 / SSH brute force', [`${ids.portal}-ev1`, `${ids.portal}-ev2`]);
    await store.alerts.upsert([taxAlert, seedAlert(ids.his, ids.health, 'critical', 4, '数据库批量导出 / bulk database export', [`${ids.his}-ev1`])]);
    // A priority-16 alert (high × level 4) of a shipped rule, so the detail can say why it matched; two more for bulk triage.
    bruteAlert = {
      ...seedAlert(ids.his, ids.health, 'high', 4, 'SSH 暴力破解 / SSH brute force', [`${ids.his}-ev2`, `${ids.his}-ev3`]),
      id: alertId(SSH_BRUTE_RULE, ids.his, SEEN_AT), rule: { id: SSH_BRUTE_RULE, title: 'SSH 暴力破解 / SSH brute force', level: 'high' },
      mlps: ['9.1.4.1 a)', '9.1.3.3 a)'],
    };
    bulkAlerts = [
      { ...seedAlert(ids.db, ids.drill, 'medium', 3, '数据库授予全部权限 / grant all', []), id: alertId('bulk-1', tag, SEEN_AT) },
      { ...seedAlert(ids.db, ids.drill, 'low', 3, '新建数据库账户 / database user created', []), id: alertId('bulk-2', tag, SEEN_AT) },
    ];
    await store.alerts.upsert([bruteAlert, ...bulkAlerts]);

    const now = new Date().toISOString();
    await store.users.create({
      username: 'root', displayName: '管理员', role: 'admin', departments: [], passwordHash: await hashPassword(PASSWORD),
      disabled: false, failedLogins: 0, sessionEpoch: 0, createdAt: now, updatedAt: now,
    });
    // The officer the triage form assigns an alert to: an assignee must be a user who sees the alert.
    await store.users.create({
      username: 'officer-zhao', displayName: '赵', role: 'security_officer', departments: [], passwordHash: await hashPassword(PASSWORD),
      disabled: false, failedLogins: 0, sessionEpoch: 0, createdAt: now, updatedAt: now,
    });

    const redisUrl = inject('redisUrl');
    queues = new BackupQueues({ redis: redisUrl, prefix, attempts: 1 });
    const systems = new Map(inventory.systems.map((s) => [s.id, s]));
    workers = startBackupWorkers({
      redis: redisUrl, prefix, store, findSystem: (id) => systems.get(id), drillServers: { postgresql: postgresDrillServer(inject('postgresUrl')) },
    });
    const catalog = [{
      id: `ssh-brute-${tag}`, title: 'SSH 暴力破解 / SSH brute force', level: 'high' as const, kind: 'detection' as const, tags: [],
      mlps: ['8.1.4.3 a)'], file: 'ssh.yml', line: 1,
    }];
    app = await buildApp({
      store, registry: createMetricsRegistry({ defaultMetrics: false }), logger: createLogger({ level: 'silent' }), backupQueues: queues,
      rules: { catalog: () => catalog, switches: await RuleSwitches.open() },
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;

    browser = await launchChromium();
    context = await browser.newContext({ viewport: VIEWPORT, locale: 'zh-CN', timezoneId: 'UTC' });
    page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => { if (message.type() === 'error') pageErrors.push(message.text()); });
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await workers?.close();
    await queues?.verify.obliterate({ force: true }).catch(() => undefined);
    await queues?.drill.obliterate({ force: true }).catch(() => undefined);
    await queues?.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the pages without a session, with a strict CSP, and never data', async () => {
    const index = await app.inject({ url: '/' });
    expect(index.statusCode).toBe(200);
    expect(index.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(index.headers['content-security-policy']).toContain("script-src 'self'");
    expect(index.headers['content-security-policy']).not.toContain('unsafe');
    expect(index.body).not.toContain('税务局');
    const script = await app.inject({ url: '/assets/js/main.js' });
    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8');
    const revalidated = await app.inject({ url: '/assets/js/main.js', headers: { 'if-none-match': String(script.headers.etag) } });
    expect(revalidated.statusCode).toBe(304);
    expect((await app.inject({ url: '/assets/echarts.min.js' })).statusCode).toBe(200);
    for (const url of ['/assets/../package.json', '/assets/%2e%2e/console/app.ts', '/assets/nope.js']) {
      expect((await app.inject({ url })).statusCode, url).toBe(404);
    }
    expect((await app.inject({ url: '/api/me' })).statusCode).toBe(401);
  });

  it('logs in, showing the API error for a wrong password', async () => {
    await page.goto(base);
    await page.getByLabel('用户名').fill('root');
    await page.getByLabel('密码').fill('not the password');
    await page.getByRole('button', { name: '登录' }).click();
    const error = page.locator('.form-status.error');
    await expect.poll(() => error.textContent()).toMatch(/[\u4e00-\u9fff]/);
    await screenshot(page, '01-login');

    await page.getByLabel('密码').fill(PASSWORD);
    await page.getByRole('button', { name: '登录' }).click();
    await page.getByRole('navigation').getByRole('link', { name: '告警' }).waitFor();
    expect(await page.locator('h1').textContent()).toBe('态势总览');
  });

  it('reads the posture and drills down department → system → its alerts and events', async () => {
    await page.goto(`${base}/#/posture`);
    const rows = page.locator('section table tbody tr');
    await rows.first().waitFor();
    // The table shows the API's ranking; the critical alert on a level-4 system outweighs the high one on a level-3 system.
    const posture = await (await context.request.get(`${base}/api/posture`)).json() as { departments: { name: string; score: number }[] };
    const shown = await rows.evaluateAll((trs) => trs.map((tr) => tr.firstElementChild?.textContent));
    expect(shown).toEqual(posture.departments.map((d) => d.name));
    expect(shown.indexOf('卫生健康委')).toBeLessThan(shown.indexOf('税务局'));
    // A department with nothing measured says so, last, instead of a green 0.
    expect(shown.at(-1)).toBe('档案馆');
    expect(await rows.last().locator('td').nth(1).textContent()).toBe('无数据');
    // A department's reasons come from several systems: each says whose it is.
    const bigData = rows.filter({ hasText: '大数据中心' }).locator('.reasons li');
    expect(await bigData.allTextContents()).toContainEqual(expect.stringContaining('证照库：同城备份：8 天内未核验'));
    await page.locator('#department-chart canvas').first().waitFor();
    await page.locator('#trend-chart canvas').first().waitFor();
    await page.locator('#top-risks li').first().waitFor();
    await page.locator('#department-chart canvas').first().hover({ position: { x: 200, y: 60 } });
    await screenshot(page, '02-posture');

    await page.getByRole('link', { name: '税务局' }).click();
    await page.getByRole('link', { name: '电子税务门户' }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe('系统：电子税务门户');
    await page.getByRole('link', { name: 'SSH 暴力破解 / SSH brute force', exact: true }).waitFor();
    await page.getByText('Failed password for root from 10.0.0.1').first().waitFor();
    // Each score says why: the alert group behind it, linked to that rule's open alerts on this system.
    const reason = page.locator('dd .reasons a').first();
    expect(await reason.textContent()).toMatch(/^SSH 暴力破解 \/ SSH brute force（1 条，优先级 \d+）$/);
    expect(await reason.getAttribute('href')).toBe(`#/alerts?system=${ids.portal}&rule=rule-high-${tag}&status=new%2Cacknowledged%2Cin_progress`);
    // The alert, backup and coverage points are the score's components, not "the reason" (that is the list above).
    expect(await page.locator('dl.facts dt').allTextContents()).toContain('评分构成');
    expect(await page.locator('dl.facts dt').allTextContents()).not.toContain('原因');
    await screenshot(page, '03-posture-system');
  });

  it('triages an alert: acknowledge with a comment, seen through the API and in the timeline', async () => {
    // Several levels at once: the checked ones go into the link and the API query as one list.
    await page.goto(`${base}/#/alerts`);
    const filters = page.getByRole('form', { name: '筛选' });
    const rows = page.locator('table tbody tr');
    await filters.getByRole('checkbox', { name: '严重' }).check();
    await filters.getByRole('button', { name: '查询' }).click();
    await expect.poll(() => rows.count()).toBe(1);
    await filters.getByRole('checkbox', { name: '高' }).check();
    await filters.getByRole('button', { name: '查询' }).click();
    await expect.poll(() => new URL(page.url()).hash).toBe('#/alerts?level=critical%2Chigh');
    await expect.poll(() => rows.count()).toBe(3);

    await page.goto(`${base}/#/alerts?status=new&system=${ids.portal}`);
    const row = page.locator('tr', { has: page.getByRole('link', { name: 'SSH 暴力破解 / SSH brute force' }) });
    await row.getByRole('checkbox').check();
    await page.locator('#bulk-action').selectOption('acknowledged');
    await page.locator('#bulk-comment').fill('已联系税务局核实 / called the tax bureau');
    await screenshot(page, '04-alerts');
    await page.locator('form.bulk').getByRole('button', { name: '提交' }).click();
    await expect.poll(() => page.locator('form.bulk .form-status').textContent()).toBe('已处置 1 条，失败 0 条');

    const response = await context.request.get(`${base}/api/alerts/${taxAlert.id}`);
    const alert = await response.json() as Alert;
    expect(alert.status).toBe('acknowledged');
    expect(alert.timeline).toEqual(expect.arrayContaining([
      expect.objectContaining({ actor: 'root', action: 'status', from: 'new', to: 'acknowledged' }),
      expect.objectContaining({ actor: 'root', comment: '已联系税务局核实 / called the tax bureau' }),
    ]));

    await page.goto(`${base}/#/alerts/${taxAlert.id}`);
    await page.locator('#timeline').getByText('已联系税务局核实 / called the tax bureau').waitFor();
    expect(await page.locator('.facts').textContent()).toContain(SEEN_IN_SHANGHAI);
    await screenshot(page, '05-alert-detail');
    await page.getByRole('link', { name: SEEN_IN_SHANGHAI }).first().click();
    await expect.poll(() => page.locator('h1').textContent()).toBe(`事件详情：${SEEN_IN_SHANGHAI}`);
  });

  it('lists the worst alerts first, sorts by a column and groups by rule and by system', async () => {
    await page.goto(`${base}/#/alerts`);
    const rows = page.locator('#alert-results table tbody tr');
    const priorities = () => rows.evaluateAll((trs) => trs.map((tr) => Number(tr.querySelector('.prio')?.textContent)));
    await expect.poll(priorities).toEqual([20, 16, 12, 9, 6]);
    expect(await page.locator('th[aria-sort="descending"]').textContent()).toContain('优先级');
    await screenshot(page, '04a-alerts-sorted');
    await page.locator('a.sort[data-sort="priority"]').click();
    await expect.poll(priorities).toEqual([6, 9, 12, 16, 20]);
    await page.locator('a.sort[data-sort="system"]').click();
    await expect.poll(() => new URL(page.url()).hash).toBe('#/alerts?sort=system&order=desc');
    // Two a page: next and previous walk the cursor, in the sorted order.
    await page.goto(`${base}/#/alerts?size=2`);
    await expect.poll(priorities).toEqual([20, 16]);
    const pager = page.locator('nav.pager');
    await pager.getByRole('button', { name: '下一页' }).click();
    await expect.poll(priorities).toEqual([12, 9]);
    await pager.getByRole('button', { name: '下一页' }).click();
    await expect.poll(priorities).toEqual([6]);
    expect(await pager.getByRole('button', { name: '下一页' }).isDisabled()).toBe(true);
    await pager.getByRole('button', { name: '上一页' }).click();
    await expect.poll(priorities).toEqual([12, 9]);
    await page.locator('#page-size').selectOption('50');
    await expect.poll(() => new URL(page.url()).hash).toBe('#/alerts?size=50');
    await expect.poll(() => rows.count()).toBe(5);

    await page.locator('button[data-group="rule"]').click();
    const groups = page.locator('#alert-results table tbody tr');
    await expect.poll(() => groups.count()).toBe(5);
    expect(await groups.first().textContent()).toContain('数据库批量导出 / bulk database export');
    await screenshot(page, '04b-alerts-grouped-rule');
    await page.locator('button[data-group="system"]').click();
    await expect.poll(() => groups.evaluateAll((trs) => trs.map((tr) => tr.firstElementChild?.textContent))).toEqual(['医院信息平台', '电子税务门户', '证照库']);
    expect(await groups.first().textContent()).toContain('卫生健康委');
    await screenshot(page, '04c-alerts-grouped-system');
    await groups.first().getByRole('link').click();
    await expect.poll(() => new URL(page.url()).hash).toBe(`#/alerts?system=${ids.his}`);
    await expect.poll(() => rows.count()).toBe(2);

    // Filter by rule (chosen by title) and by the system's MLPS level.
    await page.goto(`${base}/#/alerts`);
    const filters = page.getByRole('form', { name: '筛选' });
    await filters.locator('select[name="rule"]').selectOption({ label: '数据库批量导出 / bulk database export' });
    await filters.getByRole('button', { name: '查询' }).click();
    await expect.poll(priorities).toEqual([20]);
    await page.goto(`${base}/#/alerts`);
    await filters.getByRole('checkbox', { name: '3 级' }).check();
    await filters.getByRole('button', { name: '查询' }).click();
    await expect.poll(() => new URL(page.url()).hash).toBe('#/alerts?mlpsLevel=3');
    await expect.poll(priorities).toEqual([12, 9, 6]);
  });

  it('triages a priority-16 alert to closed through its detail page: why it matched, entities, clauses, response, timeline', async () => {
    await page.goto(`${base}/#/alerts`);
    const row = page.locator('#alert-results tr', { has: page.locator('.prio', { hasText: /^16$/ }) });
    await row.getByRole('link', { name: 'SSH 暴力破解 / SSH brute force' }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe('告警详情：SSH 暴力破解 / SSH brute force');

    const why = page.locator('#why');
    await why.getByText('SSH brute force: 10 or more failed SSH logins').waitFor();
    // The correlation groups by source.ip; its base rule looks for event.outcome failure: the sample's values are shown.
    expect(await why.locator('tr', { hasText: 'source.ip' }).textContent()).toContain('10.0.1.2');
    expect(await why.locator('tr', { hasText: 'event.outcome' }).textContent()).toContain('failure');
    const host = page.locator('#entities a[data-field="host.name"]');
    expect(await host.textContent()).toBe(`${ids.his}-host`);
    expect(await host.getAttribute('href')).toBe(`#/events?q=${encodeURIComponent(`host.name:"${ids.his}-host"`)}`);
    expect(await page.locator('#entities a[data-field="user.name"]').textContent()).toBe('root');
    expect(await page.locator('#requirements').textContent()).toMatch(/9\.1\.4\.1 a\).*测评单元 L4-/);
    expect(await page.locator('#response').textContent()).toContain('封禁来源地址');
    // Related: the critical alert on the same host within the hour.
    await page.locator('#related').getByRole('link', { name: '数据库批量导出 / bulk database export' }).waitFor();
    expect(await page.locator('#related').textContent()).toContain(`host.name:${ids.his}-host`);
    await screenshot(page, '05a-alert-detail-new');

    await page.locator('#triage-status').selectOption('acknowledged');
    await page.locator('#triage-assignee').fill('officer-zhao');
    await page.locator('#triage-submit').click();
    const timeline = page.locator('#timeline');
    await timeline.getByText('状态：新建 → 确认').waitFor();
    await timeline.getByText('分配给 officer-zhao').waitFor();
    await page.locator('#triage-status').selectOption('resolved');
    await page.locator('#triage-comment').fill('已封禁源地址并重置口令 / blocked and reset');
    await page.locator('#triage-submit').click();
    await timeline.getByText('状态：确认 → 已解决').waitFor();
    expect(await timeline.locator('li').first().textContent()).toContain('触发');
    expect((await store.alerts.get(bruteAlert.id))).toMatchObject({ status: 'resolved', assignee: 'officer-zhao' });
    // Closed: only reopening is offered now.
    expect(await page.locator('#triage-status option').evaluateAll((os) => os.map((o) => (o as unknown as { value: string }).value))).toEqual(['', 'in_progress']);
    await screenshot(page, '05b-alert-detail-closed');
    await page.locator('#related').scrollIntoViewIfNeeded();
    await screenshot(page, '05c-alert-detail-lower');
  });

  it('bulk-acknowledges two alerts selected in the list', async () => {
    await page.goto(`${base}/#/alerts?system=${ids.db}`);
    const rows = page.locator('#alert-results table tbody tr');
    await expect.poll(() => rows.count()).toBe(2);
    const submit = page.locator('form.bulk').getByRole('button', { name: '提交' });
    expect(await submit.isDisabled()).toBe(true);
    await page.locator('#select-all').check();
    await expect.poll(() => page.locator('form.bulk .count').textContent()).toBe('已选 2 条');
    await page.locator('#bulk-action').selectOption('acknowledged');
    await page.locator('#bulk-comment').fill('批量确认 / bulk acknowledged');
    await screenshot(page, '04d-alerts-bulk-selected');
    await submit.click();
    await expect.poll(() => page.locator('form.bulk .form-status').textContent()).toBe('已处置 2 条，失败 0 条');
    for (const alert of bulkAlerts) expect((await store.alerts.get(alert.id))?.status).toBe('acknowledged');
    // The list reloads in place: the rows now say 已确认 and nothing is selected.
    await expect.poll(() => rows.evaluateAll((trs) => trs.map((tr) => tr.querySelector('.badge-acknowledged')?.textContent))).toEqual(['已确认', '已确认']);
    expect(await page.locator('form.bulk .count').textContent()).toBe('已选 0 条');
  });

  it('suppresses a noisy alert from its detail: repeats are stored but hidden from the list unless asked, and the suppression ends early', async () => {
    const noisy = bulkAlerts[0]!;
    await page.goto(`${base}/#/alerts/${noisy.id}`);
    await page.locator('#suppress-days').fill('14');
    await page.locator('#suppress-reason').fill('已知漏洞扫描器 / known scanner');
    await page.locator('#suppress-submit').click();
    await expect.poll(() => page.locator('form.suppress .form-status').textContent()).toMatch(/^已屏蔽，至 /);
    const [suppression] = await store.alerts.activeSuppressions(new Date());
    expect(suppression).toMatchObject({ ruleId: noisy.rule.id, department: ids.drill, reason: '已知漏洞扫描器 / known scanner', createdBy: 'root' });
    // The scanner keeps going: the repeat is counted and marked, and the list hides it by default.
    expect((await store.alerts.upsert([{ ...noisy, timeline: [] }])).suppressed).toEqual([noisy.id]);
    await page.goto(`${base}/#/alerts?system=${ids.db}`);
    const rows = page.locator('#alert-results table tbody tr');
    await expect.poll(() => rows.count()).toBe(1);
    await page.locator('#filter-suppressed').selectOption('only');
    await page.locator('form.filters').getByRole('button', { name: '查询' }).click();
    await expect.poll(() => page.locator('#alert-results table tbody tr .badge-suppressed').count()).toBe(1);
    // The list names the rule by its title, not only its id.
    await expect.poll(() => page.locator('#suppressions table tbody').textContent()).toContain(noisy.rule.id);
    expect(await page.locator('#suppressions table tbody').textContent()).toContain(noisy.rule.title); // zh-CN keeps "中文 / English"
    await screenshot(page, '04e-alerts-suppressed');
    await page.locator(`#suppressions button[data-id="${suppression!.id}"]`).click();
    await expect.poll(async () => (await store.alerts.activeSuppressions(new Date())).length).toBe(0);
    expect((await store.audit.list({}, { size: 20 })).items.map((e) => e.action)).toEqual(expect.arrayContaining(['alert.suppress', 'alert.unsuppress']));
  });

  it('searches events with a query and a field filter', async () => {
    await page.goto(`${base}/#/events?q=password&filter=host.name:${ids.his}-host`);
    const rows = page.locator('table tbody tr');
    await expect.poll(() => rows.count()).toBe(3);
    expect(await page.locator('table').textContent()).toContain('医院信息平台');
    await screenshot(page, '06-events');
  });

  it('switches to English and remembers it', async () => {
    await page.goto(`${base}/#/alerts`);
    await page.getByRole('button', { name: 'English' }).click();
    await page.getByRole('navigation').getByRole('link', { name: 'Alerts' }).waitFor();
    expect(await page.locator('h1').textContent()).toBe('Alerts');
    await page.reload();
    await page.getByRole('navigation').getByRole('link', { name: 'Backups' }).waitFor();
    await page.locator('table tbody tr').first().waitFor();
    expect(await page.locator('table').textContent()).toContain('Tax Bureau');
    await screenshot(page, '07-alerts-english');
    await page.goto(`${base}/#/alerts/${bruteAlert.id}`);
    await page.locator('#timeline').getByText('Status: New → Acknowledged').waitFor();
    expect(await page.locator('#timeline').textContent()).toContain('Assigned to officer-zhao');
    expect(await page.locator('#response').textContent()).toContain('Block the source address');
    expect(await page.locator('#why h2').textContent()).toBe('Why it matched');
    expect(await page.locator('h1').textContent()).toBe('Alert: SSH brute force');
    // Every string comes from the table: a missing key would show as its name (tlStatus, entity.host.name, …).
    const shown = await page.locator('main').innerText();
    expect(shown).not.toMatch(/\b(tl[A-Z]\w+|entity\.[a-z.]+|alertDetailTitle|listSeparator|falsePositivesList|mlpsLevelN|sortBy|groupBy\w*)\b/);
    expect(shown).not.toMatch(/状态：|处置建议|命中原因|相关告警|等保要求|测评单元/);
    await screenshot(page, '07b-alert-detail-english');
    await page.goto(`${base}/#/alerts?group=rule`);
    await page.locator('#alert-results table tbody tr').first().waitFor();
    await screenshot(page, '07c-alerts-grouped-english');
    await page.getByRole('button', { name: '中文' }).click();
    await page.getByRole('navigation').getByRole('link', { name: '告警' }).waitFor();
  });

  it('is keyboard reachable: skip link, then the navigation, with a visible focus', async () => {
    await page.goto(`${base}/#/posture`);
    await page.locator('h1').waitFor();
    // Clicking the (unfocusable) brand puts the keyboard's starting point at the top of the page.
    await page.locator('.brand').click();
    await page.keyboard.press('Shift+Tab');
    expect(await page.evaluate('document.activeElement.id')).toBe('skip-link');
    await page.keyboard.press('Tab');
    // Strings, evaluated in the page: the test's own TypeScript has no DOM types.
    expect(await page.evaluate('document.activeElement.textContent')).toBe('态势总览');
    await page.keyboard.press('Tab');
    const focused = await page.evaluate('({ text: document.activeElement.textContent, outline: getComputedStyle(document.activeElement).outlineStyle })');
    expect(focused).toEqual({ text: '告警', outline: 'solid' });
    await page.keyboard.press('Enter');
    await expect.poll(() => page.evaluate('location.hash')).toBe('#/alerts');
    // The keyboard continues in the new page: the next Tab lands in the main region.
    await page.locator('#alert-filters select').first().waitFor();
    await page.keyboard.press('Tab');
    expect(await page.evaluate("document.getElementById('main').contains(document.activeElement)")).toBe(true);
  });

  it('switches a rule off and tests a pasted rule against pasted events', async () => {
    await page.goto(`${base}/#/rules`);
    const toggle = page.locator('tr', { hasText: `ssh-brute-${tag}` }).getByRole('button');
    await toggle.click();
    await expect.poll(() => toggle.getAttribute('aria-pressed')).toBe('false');
    const rules = await (await context.request.get(`${base}/api/rules`)).json() as { items: { id: string; enabled: boolean }[] };
    expect(rules.items).toEqual([expect.objectContaining({ id: `ssh-brute-${tag}`, enabled: false })]);

    await page.locator('#test-events').fill([
      { process: { name: 'sshd' }, event: { outcome: 'failure' } }, { process: { name: 'sudo' }, event: { outcome: 'failure' } },
    ].map((e) => JSON.stringify(e)).join('\n'));
    await page.getByRole('button', { name: '运行测试' }).click();
    await expect.poll(() => page.locator('#test-result').textContent()).toBe('命中 1 条');
    await screenshot(page, '08-rules');
  });

  it('lets an admin edit the inventory, manage a user (unlock, role, disable, delete) and read the audit trail', async () => {
    await page.goto(`${base}/#/inventory`);
    const editor = page.locator('#inventory-json');
    const inventory = JSON.parse(await editor.inputValue()) as { systems: { id: string; name: string }[] };
    inventory.systems.find((s) => s.id === ids.portal)!.name = '电子税务局门户';
    await editor.fill(JSON.stringify(inventory));
    await page.getByRole('button', { name: '保存' }).click();
    await expect.poll(() => page.locator('form.editor .form-status').textContent()).toBe('已保存');
    expect((await store.assets.getInventory()).systems.find((s) => s.id === ids.portal)?.name).toBe('电子税务局门户');

    await editor.fill('{"departments": [], "systems": [');
    await page.getByRole('button', { name: '保存' }).click();
    await expect.poll(() => page.locator('form.editor .form-status').textContent()).toMatch(/^JSON 格式错误/);

    // A viewer locked out after five wrong passwords: the admin unlocks, changes, disables and deletes them.
    const now = new Date().toISOString();
    await store.users.create({
      username: 'zhangsan', displayName: '张三', role: 'department_viewer', departments: [ids.tax], passwordHash: await hashPassword(PASSWORD),
      disabled: false, failedLogins: 5, lockedUntil: new Date(Date.now() + 3_600_000).toISOString(), sessionEpoch: 0, createdAt: now, updatedAt: now,
    });
    await page.goto(`${base}/#/users`);
    await page.getByRole('cell', { name: '管理员', exact: true }).first().waitFor();
    await page.getByRole('cell', { name: 'inventory.replace' }).waitFor();
    await page.getByRole('cell', { name: 'alert.bulk_update' }).first().waitFor();
    const edit = page.locator('button[data-user="zhangsan"]');
    const form = page.getByRole('form', { name: '编辑 zhangsan' });
    await edit.click();
    await form.getByRole('button', { name: '解锁' }).click();
    await expect.poll(async () => (await store.users.get('zhangsan'))?.failedLogins).toBe(0);
    // The list reloads after the change: wait for the row without a lock before opening the form again.
    const lockCell = page.locator('tr', { hasText: 'zhangsan' }).locator('td').nth(5);
    await expect.poll(() => lockCell.textContent()).toBe('—');
    await edit.click();
    await form.waitFor();
    expect(await form.getByRole('button', { name: '解锁' }).count()).toBe(0);
    await form.locator('select[name="role"]').selectOption('compliance_reviewer');
    await form.locator('input[name="disabled"]').check();
    await screenshot(page, '09-users-audit');
    await form.getByRole('button', { name: '保存' }).click();
    await expect.poll(async () => (await store.users.get('zhangsan'))?.disabled).toBe(true);
    expect(await store.users.get('zhangsan')).toMatchObject({ role: 'compliance_reviewer', departments: [ids.tax] });
    await expect.poll(() => page.locator('tr', { hasText: 'zhangsan' }).locator('td').nth(2).textContent()).toBe('合规审查');
    await edit.click();
    page.once('dialog', (dialog) => void dialog.accept());
    await form.getByRole('button', { name: '删除' }).click();
    await expect.poll(async () => store.users.get('zhangsan')).toBeUndefined();
    await page.getByRole('cell', { name: 'user.delete' }).first().waitFor();
  });

  it('verifies the backups and runs a restore drill, watching each job finish', async () => {
    await page.goto(`${base}/#/backups`);
    const row = page.locator('tr', { has: page.locator(`button[data-system="${ids.db}"]`) });
    await row.waitFor();
    expect(await row.textContent()).toContain('未核验');

    await row.locator('button[data-action="verify"]').click();
    await page.locator('li.job[data-state="completed"]').waitFor({ timeout: 30_000 });
    const sameCity = row.locator('td').nth(2);
    await expect.poll(() => sameCity.textContent(), { timeout: 10_000 }).not.toContain('未核验');
    expect(await sameCity.textContent()).toMatch(/RPO 1 天/);

    await row.locator('button[data-action="drill"]').click();
    await page.locator('li.job[data-state="completed"]').nth(1).waitFor({ timeout: 60_000 });
    const history = page.locator('section', { has: page.locator('#drills-h') }).locator('tbody tr');
    await history.first().waitFor();
    expect(await history.first().textContent()).toContain('达标');
    await screenshot(page, '10-backups');

    const drills = await store.jobResults.search({ kind: 'restore-drill', system: ids.db });
    expect(drills.items.map((r) => r.status)).toEqual(['pass']);

    // The same drill from the off-site copy, chosen on the page.
    await row.locator('select[data-role="drill-site"]').selectOption('off-site');
    await row.locator('button[data-action="drill"]').click();
    await page.locator('li.job[data-state="completed"][data-site="off-site"]').waitFor({ timeout: 60_000 });
    const offSite = await store.jobResults.search({ kind: 'restore-drill', system: ids.db });
    expect(offSite.items.map((r) => `${r.site} ${r.status}`).sort()).toEqual(['off-site pass', 'same-city pass']);
  }, 150_000);

  it('ran every page without a script error or a Content-Security-Policy violation', () => {
    expect(pageErrors.filter((text) => !/Failed to load resource: the server responded with a status of 4\d\d/.test(text))).toEqual([]);
  });
});
