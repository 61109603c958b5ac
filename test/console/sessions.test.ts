import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { EmbeddedStore } from '../../store/index.js';
import { ensureFirstAdmin, UNKNOWN_USER, verifyPassword } from '../../console/index.js';
import { eventually } from '../support/eventually.js';
import { login, PASSWORD, seedUser, testApp } from './support.js';

const dir = mkdtempSync(join(tmpdir(), 'shouwang-console-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A property of `target`, methods bound to it (they use private fields, which a Proxy as `this` lacks). */
function bound(target: object, key: string | symbol): unknown {
  const value: unknown = Reflect.get(target, key, target);
  return typeof value === 'function' ? value.bind(target) : value;
}

const tryLogin = (app: FastifyInstance, username: string, password: string, ip = '10.0.0.1') =>
  app.inject({ method: 'POST', url: '/api/session', payload: { username, password }, remoteAddress: ip });

describe('first start', () => {
  it('creates admin with a random password printed once, which logs in; a second start creates nothing', async () => {
    const store = new EmbeddedStore({ path: join(dir, 'first.db') });
    const printed: string[] = [];
    expect(await ensureFirstAdmin(store, (text) => printed.push(text))).toBe(true);
    const password = /password: (\S+)/.exec(printed.join(''))?.[1];
    expect(password).toMatch(/^[A-Za-z0-9_-]{24}$/);
    const admin = await store.users.get('admin');
    expect(admin).toMatchObject({ role: 'admin', departments: [], disabled: false });
    expect(admin!.passwordHash).toMatch(/^scrypt\$15\$8\$1\$/);
    expect(admin!.passwordHash).not.toContain(password!);
    expect(await verifyPassword(password!, admin!.passwordHash)).toBe(true);

    expect(await ensureFirstAdmin(store, (text) => printed.push(text))).toBe(false);
    expect(printed).toHaveLength(1);
    const app = await testApp(store);
    expect((await login(app, 'admin', password!).then((c) => c.get('/api/me'))).json()).toMatchObject({ username: 'admin', role: 'admin' });
    await app.close();
    await store.close();
  });
});

describe('console sessions', () => {
  const store = new EmbeddedStore({ path: join(dir, 'sessions.db') });
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await testApp(store, { sessions: { secureCookies: true, perUser: { max: 8, windowMs: 60_000 } } });
    for (const name of ['alice', 'bob', 'carol', 'dave', 'erin']) await seedUser(store, name, 'security_officer');
  });
  afterAll(async () => {
    await app.close();
    await store.close();
  });

  it('logs in with an HttpOnly, SameSite=Strict, Secure session cookie and keeps only its hash', async () => {
    const response = await tryLogin(app, 'alice', PASSWORD);
    expect(response.statusCode).toBe(200);
    const cookie = String(response.headers['set-cookie']);
    expect(cookie).toMatch(/^sw_session=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=43200; HttpOnly; SameSite=Strict; Secure$/);
    const body = response.json();
    expect(body).toMatchObject({ user: { username: 'alice', role: 'security_officer' }, csrfToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
    expect(body.user).not.toHaveProperty('passwordHash');
    const id = /sw_session=([^;]+)/.exec(cookie)![1]!;
    expect(await store.sessions.get(id)).toBeUndefined();
    expect(await store.sessions.get(createHash('sha256').update(id).digest('hex'))).toMatchObject({ username: 'alice' });
  });

  it('leaves Secure off when configured for plain http on loopback', async () => {
    const plain = await testApp(store, { sessions: { secureCookies: false } });
    const response = await tryLogin(plain, 'alice', PASSWORD);
    expect(String(response.headers['set-cookie'])).not.toMatch(/Secure/);
    expect(String(response.headers['set-cookie'])).toMatch(/HttpOnly; SameSite=Strict/);
    await plain.close();
  });

  it('answers a wrong password and an unknown user the same way, and audits both', async () => {
    const wrong = await tryLogin(app, 'bob', 'not the password');
    const unknown = await tryLogin(app, 'nobody-here', 'not the password');
    expect(wrong.statusCode).toBe(401);
    expect(unknown.statusCode).toBe(401);
    expect(wrong.json()).toEqual(unknown.json());
    expect(wrong.json()).toMatchObject({ code: 'SW_ERR_LOGIN_FAILED', message: expect.stringMatching(/用户名或密码错误.*wrong username or password/) });
    expect(wrong.headers['set-cookie']).toBeUndefined();
    const trail = (await store.audit.list({}, { size: 1000 })).items;
    expect(trail.filter((e) => e.action === 'session.login_failed').map((e) => e.target)).toContain('bob');
    expect(trail.some((e) => e.action === 'session.login_failed' && e.target?.startsWith(UNKNOWN_USER))).toBe(true);
  });

  it('audits a failed login for a username nobody has as (unknown user) and a keyed fingerprint, never the text typed', async () => {
    // People type their password into the username field: the audit trail (read by reviewers) must not collect it.
    const typed = `Pa55w0rd!-${randomUUID()}`;
    // Oldest first, whatever order the list answers in.
    const failures = async () => (await store.audit.list({}, { size: 1000 })).items
      .filter((e) => e.action === 'session.login_failed').sort((a, b) => a.seq - b.seq);
    const keyed = await testApp(store, { fingerprintKey: Buffer.alloc(32, 7) });
    expect((await tryLogin(keyed, typed, 'x', '10.0.0.7')).statusCode).toBe(401);
    expect((await tryLogin(keyed, typed, 'y', '10.0.0.8')).statusCode).toBe(401);
    expect((await tryLogin(keyed, `${typed}2`, 'y', '10.0.0.8')).statusCode).toBe(401);
    const entries = (await failures()).slice(-3);
    expect(JSON.stringify(entries)).not.toContain(typed);
    for (const entry of entries) {
      expect(entry.actor).toBe(UNKNOWN_USER);
      expect(entry.target).toMatch(/^\(unknown user\) #[0-9a-f]{16}$/);
    }
    // The same string twice correlates; another string does not.
    expect(entries[0]!.target).toBe(entries[1]!.target);
    expect(entries[2]!.target).not.toBe(entries[0]!.target);
    // Keyed: another key gives another fingerprint, so nobody can test guesses against the trail without it.
    const other = await testApp(store, { fingerprintKey: Buffer.alloc(32, 9) });
    expect((await tryLogin(other, typed, 'x', '10.0.0.9')).statusCode).toBe(401);
    expect((await failures()).at(-1)!.target).not.toBe(entries[0]!.target);
    // An existing user keeps their name, whatever the key.
    expect((await tryLogin(keyed, 'bob', 'wrong', '10.0.0.7')).statusCode).toBe(401);
    expect((await failures()).at(-1)).toMatchObject({ actor: 'bob', target: 'bob' });
    await keyed.close();
    await other.close();
  });

  it('needs a session on every API route but login, and 404s unknown routes as JSON', async () => {
    for (const url of ['/api/me', '/api/session', '/api/alerts', '/api/events', '/api/inventory', '/api/backup/results', '/api/users', '/api/audit', '/api/docs']) {
      const response = await app.inject(url);
      expect(response.statusCode, url).toBe(401);
      expect(response.json(), url).toMatchObject({ code: 'SW_ERR_AUTH_REQUIRED' });
    }
    const bogus = await app.inject({ url: '/api/me', headers: { cookie: 'sw_session=forged-session-id' } });
    expect(bogus.statusCode).toBe(401);
    const unknown = await app.inject('/api/nothing');
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ code: 'SW_ERR_ROUTE_NOT_FOUND' });
  });

  it('asks for the CSRF token on state-changing requests: missing or wrong → 403, right → done', async () => {
    const client = await login(app, 'carol');
    const noToken = await app.inject({ method: 'DELETE', url: '/api/session', headers: { cookie: client.cookie } });
    expect(noToken.statusCode).toBe(403);
    expect(noToken.json()).toMatchObject({ code: 'SW_ERR_CSRF' });
    const wrongToken = await app.inject({ method: 'DELETE', url: '/api/session', headers: { cookie: client.cookie, 'x-csrf-token': `${client.csrf.slice(0, -1)}x` } });
    expect(wrongToken.statusCode).toBe(403);
    expect((await client.get('/api/session')).json()).toMatchObject({ csrfToken: client.csrf, user: { username: 'carol' } });
    // A token from another session does not do either.
    const other = await login(app, 'dave');
    const crossed = await app.inject({ method: 'DELETE', url: '/api/session', headers: { cookie: client.cookie, 'x-csrf-token': other.csrf } });
    expect(crossed.statusCode).toBe(403);
    expect((await client.get('/api/me')).statusCode).toBe(200);
  });

  it('logs out one session, and logs out everywhere', async () => {
    const first = await login(app, 'dave');
    const second = await login(app, 'dave');
    const logout = await first.send('DELETE', '/api/session');
    expect(logout.statusCode).toBe(204);
    expect(String(logout.headers['set-cookie'])).toMatch(/^sw_session=; Path=\/; Max-Age=0/);
    expect((await first.get('/api/me')).statusCode).toBe(401);
    expect((await second.get('/api/me')).statusCode).toBe(200);

    const third = await login(app, 'dave');
    expect((await second.send('POST', '/api/session/logout-all')).statusCode).toBe(204);
    expect((await second.get('/api/me')).statusCode).toBe(401);
    expect((await third.get('/api/me')).statusCode).toBe(401);
    expect((await login(app, 'dave').then((c) => c.get('/api/me'))).statusCode).toBe(200);
    const actions = (await store.audit.list({}, { size: 1000 })).items.filter((e) => e.actor === 'dave').map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['session.login', 'session.logout', 'session.logout_all']));
  });

  it('ends a session idle for longer than the idle timeout', async () => {
    const client = await login(app, 'alice');
    expect((await client.get('/api/me')).statusCode).toBe(200);
    const idHash = createHash('sha256').update(client.cookie.slice('sw_session='.length)).digest('hex');
    await store.sessions.touch(idHash, new Date(Date.now() - 31 * 60_000).toISOString());
    expect((await client.get('/api/me')).statusCode).toBe(401);
    expect(await store.sessions.get(idHash)).toBeUndefined();
  });

  it('locks an account for one address after 5 failures from it: even the right password fails there until unlocked', async () => {
    for (let n = 0; n < 5; n += 1) expect((await tryLogin(app, 'erin', `wrong-${n}`)).statusCode).toBe(401);
    // Written after the answer (a known user's wait would tell it from an unknown one).
    await eventually(async () => expect((await store.users.get('erin'))?.lockedUntil).toBeDefined());
    const locked = await tryLogin(app, 'erin', PASSWORD);
    expect(locked.statusCode).toBe(401);
    expect(locked.json()).toEqual((await tryLogin(app, 'nobody-at-all', PASSWORD)).json());
    // An admin unlocks it.
    await seedUser(store, 'root-admin', 'admin');
    const admin = await login(app, 'root-admin');
    expect((await admin.send('PATCH', '/api/users/erin', { unlock: true })).statusCode).toBe(200);
    expect((await tryLogin(app, 'erin', PASSWORD)).statusCode).toBe(200);
  });

  it('5 wrong passwords from one address do not lock the only unscoped admin out: the right one from another address logs in', async () => {
    await seedUser(store, 'only-admin', 'admin');
    for (let n = 0; n < 6; n += 1) expect((await tryLogin(app, 'only-admin', `wrong-${n}`, '203.0.113.66')).statusCode).toBe(401);
    expect((await tryLogin(app, 'only-admin', PASSWORD, '203.0.113.66')).statusCode).toBe(401);
    expect((await tryLogin(app, 'only-admin', PASSWORD, '10.0.0.7')).statusCode).toBe(200);
    // The attacker's address stays locked out of that account.
    expect((await tryLogin(app, 'only-admin', PASSWORD, '203.0.113.66')).statusCode).toBe(401);
  });

  it('counts wrong passwords sent at the same time, so a burst of guesses still locks the account for that address', async () => {
    await seedUser(store, 'frank', 'ops');
    const answers = await Promise.all(Array.from({ length: 5 }, (_, n) => tryLogin(app, 'frank', `wrong-${n}`)));
    expect(answers.map((answer) => answer.statusCode)).toEqual([401, 401, 401, 401, 401]);
    await eventually(async () => expect((await store.users.get('frank'))?.lockedUntil).toBeDefined());
    expect((await tryLogin(app, 'frank', PASSWORD)).statusCode).toBe(401);
    expect((await tryLogin(app, 'frank', PASSWORD, '10.0.0.8')).statusCode).toBe(200);
  });

  it('a wrong password for a known user answers without waiting for its failure count to be written (no timing tell), and a success still resets the count', async () => {
    await seedUser(store, 'gina', 'ops');
    // The real store, with the users' writes held until released: the answer must not depend on them.
    let release!: () => void;
    const held = new Promise<void>((resolve) => { release = resolve; });
    const users = new Proxy(store.users, {
      get: (target, key) => (key === 'update'
        ? async (...args: Parameters<typeof target.update>) => { await held; return target.update(...args); }
        : bound(target, key)),
    });
    const gated = new Proxy(store, {
      get: (target, key) => (key === 'users' ? users : bound(target, key)),
    });
    const heldApp = await testApp(gated);
    const wrong = await tryLogin(heldApp, 'gina', 'wrong', '10.7.7.1');
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json()).toEqual((await tryLogin(heldApp, 'nobody-gina', 'wrong', '10.7.7.1')).json());
    release();
    await eventually(async () => expect((await store.users.get('gina'))?.failedLogins).toBe(1));
    expect((await tryLogin(heldApp, 'gina', PASSWORD, '10.7.7.2')).statusCode).toBe(200);
    expect((await store.users.get('gina'))?.failedLogins).toBe(0);
    await heldApp.close();
  });

  it('limits login attempts per address and per username with 429 and Retry-After', async () => {
    const limited = await testApp(store, { sessions: { perIp: { max: 3, windowMs: 60_000 }, perUser: { max: 2, windowMs: 60_000 } } });
    expect((await tryLogin(limited, 'bob', 'wrong', '10.9.9.1')).statusCode).toBe(401);
    expect((await tryLogin(limited, 'bob', 'wrong', '10.9.9.2')).statusCode).toBe(401);
    // bob's failure window is full: the addresses that failed for him wait, even with the right password…
    const perUser = await tryLogin(limited, 'bob', PASSWORD, '10.9.9.1');
    expect(perUser.statusCode).toBe(429);
    expect(perUser.json()).toMatchObject({ code: 'SW_ERR_LOGIN_RATE_LIMIT' });
    expect(Number(perUser.headers['retry-after'])).toBeGreaterThan(0);
    // …while a clean address still logs him in: failing on purpose cannot shut him out.
    expect((await tryLogin(limited, 'bob', PASSWORD, '10.9.9.3')).statusCode).toBe(200);

    for (const name of ['x1', 'x2']) expect((await tryLogin(limited, name, 'wrong', '10.9.9.4')).statusCode).toBe(401);
    // 10.9.9.4 has made 2 attempts; the third is allowed (and fails), the fourth is over the per-address limit.
    expect((await tryLogin(limited, 'x3', 'wrong', '10.9.9.4')).statusCode).toBe(401);
    expect((await tryLogin(limited, 'alice', PASSWORD, '10.9.9.4')).statusCode).toBe(429);
    expect((await tryLogin(limited, 'alice', PASSWORD, '10.9.9.5')).statusCode).toBe(200);
    await limited.close();
  });
});
