import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { alertPriority, ConfigSchema, type Alert, type RuleLevel } from '../../core/index.js';
import { NotifyPlanner, watchSubscribers } from '../../analyzers/index.js';
import type { Store } from '../../store/index.js';
import { login, onBothStores, seedUser, testApp, type Client, type OpenStore, type RefreshStore } from './support.js';

const dir = mkdtempSync(join(tmpdir(), 'shouwang-me-notify-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function alert(department: string | undefined, level: RuleLevel): Alert {
  const at = new Date().toISOString();
  return {
    id: `alert-${randomUUID()}`, rule: { id: `rule-${randomUUID()}`, title: '测试 / test', level }, mlps: [], ...(department ? { department } : {}),
    system: `sys-${randomUUID()}`, mlpsLevel: 3, priority: alertPriority(level, 3), status: 'new', timeline: [], firstSeen: at, lastSeen: at, count: 1, sampleEventIds: [],
  };
}

function describePrefs(name: string, open: OpenStore, refresh: RefreshStore = async () => {}) {
  describe(`my notification preferences: ${name}`, () => {
    const tag = randomUUID().slice(0, 6);
    const a = `dept-a-${tag}`;
    const b = `dept-b-${tag}`;
    let store: Store;
    let app: FastifyInstance;
    let viewerA: Client;
    let officerB: Client;
    let admin: Client;
    let quiet: Client;

    beforeAll(async () => {
      store = await open();
      await seedUser(store, `viewer-a-${tag}`, 'department_viewer', [a]);
      await seedUser(store, `officer-b-${tag}`, 'security_officer', [b]);
      await seedUser(store, `admin-${tag}`, 'admin');
      await seedUser(store, `quiet-${tag}`, 'ops');
      await refresh(store);
      app = await testApp(store);
      viewerA = await login(app, `viewer-a-${tag}`);
      officerB = await login(app, `officer-b-${tag}`);
      admin = await login(app, `admin-${tag}`);
      quiet = await login(app, `quiet-${tag}`);
    });
    afterAll(async () => {
      await app?.close();
      await store?.close();
    });

    it('answers defaults, then what the user set, for that user only', async () => {
      expect((await viewerA.get('/api/me/notifications')).json()).toEqual({ minLevel: 'high', optOut: false });
      const put = await viewerA.send('PUT', '/api/me/notifications', { email: 'a@dept-a.gov.cn', phone: '+86 138-0000-0001', minLevel: 'medium' });
      expect(put.statusCode).toBe(200);
      expect(put.json()).toEqual({ email: 'a@dept-a.gov.cn', phone: '+86 138-0000-0001', minLevel: 'medium', optOut: false });
      expect((await viewerA.get('/api/me/notifications')).json()).toMatchObject({ email: 'a@dept-a.gov.cn', minLevel: 'medium' });
      expect((await officerB.get('/api/me/notifications')).json()).toEqual({ minLevel: 'high', optOut: false });
      expect((await store.users.get(`viewer-a-${tag}`))?.notifications).toMatchObject({ email: 'a@dept-a.gov.cn' });
      const audit = (await store.audit.list({})).items.filter((e) => e.action === 'user.notifications');
      expect(audit.map((e) => [e.actor, e.target])).toEqual([[`viewer-a-${tag}`, `viewer-a-${tag}`]]);
      expect(JSON.stringify(audit)).not.toContain('a@dept-a.gov.cn');
    });

    it('cannot set another user, and refuses bad input with 400 (never a 5xx)', async () => {
      const other = await officerB.send('PUT', '/api/me/notifications', { username: `viewer-a-${tag}`, email: 'evil@x.cn' });
      expect(other.statusCode).toBe(400);
      for (const body of [
        { email: 'not an email' }, { phone: 'call me' }, { minLevel: 'urgent' }, { optOut: 'yes' }, { email: `${'a'.repeat(300)}@x.cn` }, { email: `${'a'.repeat(65)}@x.cn` },
        { phone: '1'.repeat(100) }, [], 'x', { email: { $ne: null } },
      ]) {
        const response = await officerB.send('PUT', '/api/me/notifications', body);
        // A bare string is not JSON the route takes (415); everything else is a validation error.
        expect(response.statusCode, JSON.stringify(body)).toBe(body === 'x' ? 415 : 400);
      }
      expect((await store.users.get(`viewer-a-${tag}`))?.notifications?.email).toBe('a@dept-a.gov.cn');
      expect((await app.inject({ method: 'GET', url: '/api/me/notifications' })).statusCode).toBe(401);
      expect((await app.inject({ method: 'PUT', url: '/api/me/notifications', payload: { optOut: true } })).statusCode).toBe(401);
    });

    it('routes with toUsers reach users within their department scope only, at or above their level, unless opted out', async () => {
      expect((await officerB.send('PUT', '/api/me/notifications', { email: 'b@dept-b.gov.cn', minLevel: 'high' })).statusCode).toBe(200);
      expect((await admin.send('PUT', '/api/me/notifications', { phone: '13800000009', minLevel: 'critical' })).statusCode).toBe(200);
      expect((await quiet.send('PUT', '/api/me/notifications', { email: 'quiet@x.gov.cn', minLevel: 'informational', optOut: true })).statusCode).toBe(200);
      await refresh(store);
      const subscribers = await watchSubscribers(() => store.users.list(), 60_000, (error) => { throw error; });
      const config = ConfigSchema.parse({
        notify: {
          channels: [{ id: 'mail', type: 'email', host: 'smtp.example.gov.cn', from: 'soc@example.gov.cn', to: ['soc@example.gov.cn'] }],
          routes: [{ id: 'users', channels: ['mail'], toUsers: true }, { id: 'plain', channels: ['mail'] }],
          digestLevels: [],
        },
      }).notify;
      const planner = new NotifyPlanner({ config, usersOf: subscribers.current });
      const recipientsOf = (a: Alert) => {
        const [users, plain] = planner.accept(a);
        expect(plain!.recipients).toBeUndefined();
        const { emails, phones } = users!.recipients ?? { emails: [], phones: [] };
        return { emails: [...emails].sort(), phones: [...phones].sort() };
      };
      // Department A's alert: never the officer scoped to B; the admin only from critical.
      expect(recipientsOf(alert(a, 'medium'))).toEqual({ emails: ['a@dept-a.gov.cn'], phones: ['+86 138-0000-0001'] });
      expect(recipientsOf(alert(a, 'critical'))).toEqual({ emails: ['a@dept-a.gov.cn'], phones: ['+86 138-0000-0001', '13800000009'].sort() });
      // Department B's alert: never the viewer scoped to A.
      expect(recipientsOf(alert(b, 'high'))).toEqual({ emails: ['b@dept-b.gov.cn'], phones: [] });
      // Another department's, or none: only unscoped users.
      expect(recipientsOf(alert(`dept-other-${tag}`, 'critical'))).toEqual({ emails: [], phones: ['13800000009'] });
      expect(recipientsOf(alert(undefined, 'critical'))).toEqual({ emails: [], phones: ['13800000009'] });
      // Below everyone's level: nobody (the opted-out user asked for everything but opted out).
      expect(recipientsOf(alert(a, 'low'))).toEqual({ emails: [], phones: [] });
      subscribers.close();
    });
  });
}

onBothStores(dir, 'me-notify.db', describePrefs);
