import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { ConfigSchema } from '../../core/index.js';
import { EmbeddedStore } from '../../store/index.js';
import { startNotifier, type Notifier } from '../../analyzers/index.js';
import { startReceiver } from '../analyzers/notify/receivers.js';
import { login, seedUser, testApp, type Client } from './support.js';

const dir = mkdtempSync(join(tmpdir(), 'shouwang-notify-api-'));
const tag = randomUUID().slice(0, 6);

describe('notify API', () => {
  const store = new EmbeddedStore({ path: join(dir, 'notify.db') });
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let notifier: Notifier;
  let app: FastifyInstance;
  let admin: Client;
  let scopedAdmin: Client;
  let officer: Client;

  beforeAll(async () => {
    receiver = await startReceiver();
    const config = ConfigSchema.parse({
      notify: {
        channels: [
          { id: 'wecom', type: 'wecom', url: `${receiver.url}/cgi-bin/webhook/send?key=ROBOT-KEY-${tag}` },
          { id: 'hook', type: 'webhook', url: `http://user:URL-PASS-${tag}@127.0.0.1:1/h`, secret: `HOOK-SECRET-${tag}` },
          { id: 'mail', type: 'email', host: 'smtp.example.gov.cn', user: 'u', password: `MAIL-PASS-${tag}`, from: 'a@example.gov.cn', to: ['b@example.gov.cn'] },
          { id: 'feishu', type: 'webhook', url: `https://open.feishu.cn/open-apis/bot/v2/hook/PATH-TOKEN-${tag}-0123456789` },
        ],
        routes: [{ id: 'crit', match: { minLevel: 'critical' }, channels: ['wecom'] }],
      },
    }).notify;
    notifier = await startNotifier({ config, redis: inject('redisUrl'), prefix: `test-${randomUUID()}`, alerts: store.alerts, worker: false });
    await seedUser(store, `admin-${tag}`, 'admin');
    await seedUser(store, `scoped-admin-${tag}`, 'admin', ['d1']);
    await seedUser(store, `officer-${tag}`, 'security_officer');
    app = await testApp(store, { notify: { config, sendTest: (id, actor) => notifier.sendTest(id, actor) } });
    admin = await login(app, `admin-${tag}`);
    scopedAdmin = await login(app, `scoped-admin-${tag}`);
    officer = await login(app, `officer-${tag}`);
  });
  afterAll(async () => {
    await app.close();
    await notifier.close();
    await receiver.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists channels and routes for an unscoped admin, never a secret, a robot key or URL credentials', async () => {
    const response = await admin.get('/api/notify');
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body.channels.map((c: { id: string }) => c.id)).toEqual(['wecom', 'hook', 'mail', 'feishu']);
    // A token in the path is as good as a key: long segments are masked.
    expect(body.channels[3]).toMatchObject({ target: 'https://open.feishu.cn/open-apis/bot/v2/hook/***' });
    expect(body.channels[1]).toMatchObject({ type: 'webhook', target: 'http://127.0.0.1:1/h', secretSet: true });
    expect(body.routes[0]).toMatchObject({ id: 'crit', channels: ['wecom'] });
    expect(response.body).not.toMatch(new RegExp(`ROBOT-KEY|URL-PASS|HOOK-SECRET|MAIL-PASS|PATH-TOKEN`));
  });

  it('is for unscoped admins only', async () => {
    expect((await officer.get('/api/notify')).statusCode).toBe(403);
    expect((await officer.send('POST', '/api/notify/channels/wecom/test')).statusCode).toBe(403);
    expect((await scopedAdmin.get('/api/notify')).statusCode).toBe(403);
    expect((await scopedAdmin.send('POST', '/api/notify/channels/wecom/test')).statusCode).toBe(403);
    expect(receiver.requests).toHaveLength(0);
  });

  it('sends a test message, audits it, and answers our errors for an unknown or failing channel', async () => {
    const ok = await admin.send('POST', '/api/notify/channels/wecom/test');
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ ok: true });
    expect(JSON.parse(receiver.requests[0]!.body)).toMatchObject({ msgtype: 'markdown' });
    expect(JSON.parse(receiver.requests[0]!.body).markdown.content).toContain('测试消息');
    const unknown = await admin.send('POST', '/api/notify/channels/nope/test');
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().code).toBe('SW_ERR_NOTIFY_UNKNOWN_CHANNEL');
    const failing = await admin.send('POST', '/api/notify/channels/hook/test');
    expect(failing.statusCode).toBe(502);
    expect(failing.json().code).toBe('SW_ERR_NOTIFY_SEND');
    expect(failing.body).not.toMatch(/URL-PASS|HOOK-SECRET/);
    const audit = (await store.audit.list({})).items.filter((e) => e.action === 'notify.test');
    expect(audit.map((e) => [e.target, e.actor])).toEqual(expect.arrayContaining([['wecom', `admin-${tag}`], ['hook', `admin-${tag}`]]));
  });

  it('refuses test messages past a few a minute per channel, so clicks cannot use up a robot\'s quota', async () => {
    const before = receiver.requests.length;
    const answers: number[] = [];
    for (let i = 0; i < 6; i += 1) answers.push((await admin.send('POST', '/api/notify/channels/wecom/test')).statusCode);
    const refused = await admin.send('POST', '/api/notify/channels/wecom/test');
    expect(refused.statusCode).toBe(429);
    expect(refused.json().code).toBe('SW_ERR_NOTIFY_TEST_RATE');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(receiver.requests.length - before).toBeLessThanOrEqual(3);
    expect(answers.filter((code) => code === 200).length).toBeLessThanOrEqual(3);
  });
});
