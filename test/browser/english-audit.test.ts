import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import Database from 'better-sqlite3';
import type { FastifyInstance } from 'fastify';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertId, createLogger, createMetricsRegistry, parseInventory, type Alert, type ShouwangEvent } from '../../core/index.js';
import { EmbeddedStore } from '../../store/index.js';
import { buildApp, hashPassword, RuleSwitches } from '../../console/index.js';
import { launchChromium, screenshot, VIEWPORT } from '../harness/browser.js';

const dir = mkdtempSync(join(tmpdir(), 'shouwang-english-'));
const dbPath = join(dir, 'console.db');
const PASSWORD = 'english audit password 1';
const tag = randomUUID().slice(0, 6);
const ids = { tax: `tax-${tag}`, health: `health-${tag}`, portal: `tax-portal-${tag}`, his: `health-his-${tag}` };
const SEEN_AT = '2026-11-20T02:30:00.000Z';

/** CJK ideographs and CJK/full-width punctuation (，：（）): none may remain in English mode. */
const CJK = /[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]/;
/**
 * User data that has no English form, allowed in English mode: people's names (owners, the display
 * names of users) and a rule title written only in Chinese (most shipped rules are, see the report).
 * Everything else the console writes itself must be English.
 */
const CN_ONLY_TITLE = '数据库批量导出（查询次数异常）';
const DATA_WITHOUT_ENGLISH = ['李工', '王工', '管理员', '审查员', CN_ONLY_TITLE];

function seedAlert(system: string, department: string, level: Alert['rule']['level'], title: string, eventIds: string[]): Alert {
  const ruleId = `rule-${level}-${tag}`;
  return {
    id: alertId(ruleId, system, SEEN_AT), rule: { id: ruleId, title, level }, mlps: ['8.1.4.3 a)', '8.1.3.5 b)'], department, system, mlpsLevel: 3,
    priority: 12, status: 'new', assignee: 'root',
    timeline: [
      { at: SEEN_AT, actor: 'analyzer', action: 'raised' },
      { at: SEEN_AT, actor: 'root', action: 'status', from: 'new', to: 'acknowledged' },
      { at: SEEN_AT, actor: 'root', action: 'assign', assignee: 'root' },
      { at: SEEN_AT, actor: 'root', action: 'comment', comment: 'called the owner' },
    ],
    firstSeen: SEEN_AT, lastSeen: SEEN_AT, count: eventIds.length, sampleEventIds: eventIds,
  } as Alert;
}

/** The lines of the header and the page that still hold CJK once the allowed data is taken out. */
async function untranslated(page: Page): Promise<string[]> {
  // The header without the language switch, whose "中文" names Chinese in Chinese, as language pickers do.
  const top = `${await page.locator('#top .brand').innerText()}\n${await page.locator('#top nav').innerText()}\n${await page.locator('#logout').innerText()}`;
  const text = `${top}\n${await page.locator('#main').innerText()}\n${await page.title()}`;
  return text.split('\n').filter((line) => CJK.test(DATA_WITHOUT_ENGLISH.reduce((rest, allowed) => rest.split(allowed).join(''), line)));
}

describe('English mode and the audit-trail page in Debian chromium', () => {
  const store = new EmbeddedStore({ path: dbPath });
  let stopAnchor: () => void;
  let app: FastifyInstance;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let base: string;
  let taxAlert: Alert;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    const inventory = parseInventory({
      departments: [
        { id: ids.tax, name: '税务局', nameEn: 'Tax Bureau' },
        { id: ids.health, name: '卫生健康委', nameEn: 'Health Commission' },
      ],
      systems: [
        {
          id: ids.portal, name: '电子税务门户', nameEn: 'E-tax portal', department: ids.tax, mlpsLevel: 3, zone: '互联网区', owner: { name: '李工' },
          backup: { rpo: '1d', rto: '4h', sameCity: { type: 'path', path: join(dir, 'same-city') }, offSite: { type: 'path', path: join(dir, 'off-site') } },
        },
        { id: ids.his, name: '医院信息平台', nameEn: 'Hospital information platform', department: ids.health, mlpsLevel: 4, zone: '政务外网', owner: { name: '王工' } },
      ],
    }, 'english test');
    await store.assets.replaceInventory(inventory);
    const events: ShouwangEvent[] = [ids.portal, ids.his].map((system, s) => ({
      id: `${system}-ev1`, '@timestamp': SEEN_AT, message: `Failed password for root from 10.0.${s}.1 port 22 ssh2`,
      event: { outcome: 'failure', dataset: 'linux.auth' }, user: { name: 'root' }, host: { name: `${system}-host` },
      shouwang: { department: s === 0 ? ids.tax : ids.health, system, mlps_level: 3 },
    }));
    await store.events.write(events);
    taxAlert = seedAlert(ids.portal, ids.tax, 'high', 'SSH 暴力破解 / SSH brute force', [`${ids.portal}-ev1`]);
    await store.alerts.upsert([taxAlert, seedAlert(ids.his, ids.health, 'critical', CN_ONLY_TITLE, [`${ids.his}-ev1`])]);

    const now = new Date().toISOString();
    const user = async (username: string, displayName: string, role: string, departments: string[]) => store.users.create({
      username, displayName, role, departments, passwordHash: await hashPassword(PASSWORD),
      disabled: false, failedLogins: 0, sessionEpoch: 0, createdAt: now, updatedAt: now,
    });
    await user('root', '管理员', 'admin', []);
    await user('reviewer', '审查员', 'compliance_reviewer', [ids.tax]);

    // Signed checkpoints as in production; then entries of both departments and city-wide ones,
    // 30 on the tax system so the reviewer's list needs a second page.
    stopAnchor = await store.audit.anchorWith(generateKeyPairSync('ed25519'));
    const at = (n: number) => new Date(Date.parse(SEEN_AT) + n * 60_000).toISOString();
    await store.audit.append({ at: at(0), actor: 'root', action: 'user.create', target: 'reviewer', ip: '10.1.1.1', detail: { role: 'compliance_reviewer' } });
    await store.audit.append({ at: at(1), actor: 'root', action: 'alert.update', target: taxAlert.id, departments: [ids.tax], ip: '10.1.1.1', detail: { status: 'acknowledged' } });
    await store.audit.append({ at: at(2), actor: 'doctor', action: 'alert.update', target: 'health-alert', departments: [ids.health], ip: '10.2.2.2' });
    for (let n = 0; n < 30; n += 1) {
      await store.audit.append({ at: at(3 + n), actor: 'ops1', action: 'backup.verify', target: ids.portal, departments: [ids.tax], ip: '10.3.3.3', detail: { job: `${n}` } });
    }
    await store.audit.append({ at: at(40), actor: 'ops2', action: 'backup.drill', target: ids.his, departments: [ids.health], ip: '10.4.4.4' });

    const catalog = [
      { id: `ssh-brute-${tag}`, title: 'SSH 暴力破解 / SSH brute force', level: 'high' as const, kind: 'detection' as const, tags: [], mlps: ['8.1.4.3 a)', '8.1.3.5 b)'], file: 'ssh.yml', line: 1 },
    ];
    app = await buildApp({
      store, registry: createMetricsRegistry({ defaultMetrics: false }), logger: createLogger({ level: 'silent' }),
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
    stopAnchor?.();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function logIn(p: Page, username: string) {
    await p.goto(base);
    await p.locator('input[name="username"]').fill(username);
    await p.locator('input[name="password"]').fill(PASSWORD);
    await p.locator('form.login button[type="submit"]').click();
    await p.locator('#top nav').waitFor();
  }

  it('shows every page in English, leaving only user data without an English form', async () => {
    await logIn(page, 'root');
    await page.locator('#lang-switch').click();
    await page.getByRole('navigation', { name: 'Main navigation' }).getByRole('link', { name: 'Audit trail' }).waitFor();
    const pages: [string, string, string][] = [
      ['posture', '#/posture', '#top-risks li'],
      ['posture-department', `#/posture/${ids.tax}`, 'main table tbody tr'],
      ['posture-system', `#/posture/${ids.tax}?system=${ids.portal}`, 'main table tbody tr'],
      ['alerts', '#/alerts', 'main table tbody tr'],
      ['alert-detail', `#/alerts/${encodeURIComponent(taxAlert.id)}`, '#timeline li'],
      ['events', '#/events', 'main table tbody tr'],
      ['backups', '#/backups', 'main table tbody tr'],
      ['inventory', '#/inventory', 'main table tbody tr'],
      ['rules', '#/rules', 'main table tbody tr'],
      ['audit', '#/audit', 'main table tbody tr'],
      ['users', '#/users', '#audit-h ~ div table tbody tr'],
    ];
    const found: Record<string, string[]> = {};
    for (const [name, hash, ready] of pages) {
      await page.goto(`${base}/${hash}`);
      await page.locator(ready).first().waitFor();
      await expect.poll(() => page.locator('.loading').count()).toBe(0);
      await screenshot(page, `en-${name}`);
      const left = await untranslated(page);
      if (left.length) found[name] = left;
    }
    expect(found).toEqual({});
    // Names, timeline words and the rule title's English half, not just the absence of Chinese.
    await page.goto(`${base}/#/alerts/${encodeURIComponent(taxAlert.id)}`);
    await page.locator('#timeline li').first().waitFor();
    expect(await page.locator('h1').textContent()).toBe('Alert: SSH brute force');
    expect(await page.locator('#timeline').innerText()).toMatch(/Raised[\s\S]*Status: New → Acknowledged[\s\S]*Assigned to root[\s\S]*Comment/);
    expect(await page.locator('.facts').innerText()).toContain('Tax Bureau');
    await page.goto(`${base}/#/inventory`);
    await page.locator('main table tbody tr').first().waitFor();
    expect(await page.locator('main').innerText()).toMatch(/E-tax portal\s+Tax Bureau\s+3\s+Internet zone/);
    await page.goto(`${base}/#/users`);
    await expect.poll(() => page.locator('tr', { hasText: 'reviewer' }).first().innerText()).toMatch(/compliance reviewer\s+Tax Bureau/);
  });

  it('names audit actions in both languages and verifies the chain in words, with a Chinese screenshot', async () => {
    await page.goto(`${base}/#/audit?action=alert.update`);
    const rows = page.locator('#audit-list tbody tr');
    await expect.poll(() => rows.count()).toBe(2);
    expect(await rows.first().innerText()).toMatch(/Triage alert alert\.update/);
    await page.locator('#verify-chain').click();
    const verdict = page.locator('#verify-result');
    await expect.poll(() => verdict.innerText()).toMatch(/^pass Chain intact: \d+ entries \(seq 1–\d+\), \d+ signed checkpoints/);
    expect(await verdict.innerText()).toContain('checkpoint signatures verified');
    expect(await verdict.innerText()).not.toContain('{');

    await page.locator('#lang-switch').click();
    await page.goto(`${base}/#/audit`);
    await page.locator('#audit-list tbody tr').first().waitFor();
    expect(await page.locator('#audit-list tbody tr', { hasText: 'backup.drill' }).innerText()).toMatch(/恢复演练 backup\.drill/);
    expect(await page.locator('#audit-list tbody tr', { hasText: 'session.login' }).first().innerText()).toMatch(/登录 session\.login\troot\t全市/);
    await page.locator('#verify-chain').click();
    await expect.poll(() => verdict.innerText()).toMatch(/哈希链完整：\d+ 条记录（序号 1–\d+），\d+ 个签名检查点/);
    await screenshot(page, 'audit-zh');
  });

  it('gives a department-scoped compliance reviewer the audit page: only its department, paged, and the chain verdict', async () => {
    const reviewerContext = await browser.newContext({ viewport: VIEWPORT, locale: 'zh-CN', timezoneId: 'UTC' });
    const reviewer = await reviewerContext.newPage();
    reviewer.on('pageerror', (error) => pageErrors.push(error.message));
    try {
      await logIn(reviewer, 'reviewer');
      const nav = reviewer.getByRole('navigation', { name: '主导航' });
      await nav.getByRole('link', { name: '审计记录' }).click();
      expect(await nav.getByRole('link', { name: '用户' }).count()).toBe(0);
      const rows = reviewer.locator('#audit-list tbody tr');
      await expect.poll(() => rows.count()).toBe(25);
      const departmentsOf = () => rows.evaluateAll((trs) => trs.map((tr) => tr.children[4]?.textContent));
      expect(new Set(await departmentsOf())).toEqual(new Set(['税务局']));
      expect(await reviewer.locator('.pager').innerText()).toContain('共 31 条');
      await reviewer.locator('.pager button').nth(1).click();
      await expect.poll(() => rows.count()).toBe(6);
      expect(new Set(await departmentsOf())).toEqual(new Set(['税务局']));
      const actions = await rows.evaluateAll((trs) => trs.map((tr) => tr.children[2]?.textContent));
      expect(actions).toContain('处置告警 alert.update');
      expect(actions.join()).not.toMatch(/backup\.drill|user\.create/);

      // Filtering by actor keeps the scope: the health department's "doctor" finds nothing.
      await reviewer.locator('input[name="actor"]').fill('doctor');
      await reviewer.getByRole('button', { name: '查询' }).click();
      await reviewer.locator('#audit-list .empty').waitFor();

      await reviewer.locator('#verify-chain').click();
      const verdict = reviewer.locator('#verify-result');
      await expect.poll(() => verdict.innerText()).toMatch(/^通过 哈希链完整：\d+ 条记录（序号 1–\d+）/);
      await screenshot(reviewer, 'audit-reviewer-zh');

      // Someone with the database file rewrites an entry: the reviewer learns the problem, not where it lies.
      const db = new Database(dbPath);
      db.exec('DROP TRIGGER audit_trail_no_update');
      const row = db.prepare('SELECT doc FROM audit_trail WHERE seq = 2').get() as { doc: string };
      db.prepare('UPDATE audit_trail SET doc = ? WHERE seq = 2').run(row.doc.replace('"acknowledged"', '"resolved"'));
      db.close();
      await reviewer.locator('#verify-chain').click();
      await expect.poll(() => verdict.innerText()).toMatch(/^失败 哈希链异常：记录与前一条不衔接或哈希不符/);
      expect(await verdict.innerText()).toContain('问题位置仅对全市范围的用户显示');
      await screenshot(reviewer, 'audit-reviewer-broken-zh');
    } finally {
      await reviewerContext.close();
    }
    // The admin, city-wide, is told where.
    await page.goto(`${base}/#/audit`);
    await page.locator('#verify-chain').click();
    await expect.poll(() => page.locator('#verify-result').innerText()).toMatch(/哈希链异常[\s\S]*首个问题位于序号 2/);
  });

  it('ran every page without a script error or a Content-Security-Policy violation', () => {
    expect(pageErrors.filter((text) => !/Failed to load resource: the server responded with a status of 4\d\d/.test(text))).toEqual([]);
  });
});
