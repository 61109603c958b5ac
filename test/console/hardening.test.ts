import { randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { ensurePrivateDirSync, loadConfig, seededRandom, startLocalRedis, tightenDataDirSync } from '../../core/index.js';
import { CorrelationStateFile } from '../../analyzers/correlation/index.js';
import { ensureSigningKey } from '../../evidence/index.js';
import { RuleSwitches } from '../../console/index.js';
import { DiskSpool, FileCheckpoints, FileDeadLetterSink, deadLetter } from '../../collectors/index.js';
import { isLoopbackHost, listen } from '../../console/index.js';
import { consoleSessionOptions, startRuntime } from '../../bin/runtime.js';
import { ElasticsearchStore, EmbeddedStore, type Store } from '../../store/index.js';
import { login, PASSWORD, seedTwoDepartments, seedUser, testApp, type Client } from './support.js';

const dir = mkdtempSync(join(tmpdir(), 'shouwang-hardening-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const mode = (path: string) => statSync(path).mode & 0o777;

/** Seeded: the fuzz inputs are the same on every run. */
const prng = seededRandom;

describe('user management: nobody lifts their own scope; only unscoped admins manage admins', () => {
  const store = new EmbeddedStore({ path: join(dir, 'users.db') });
  let app: FastifyInstance;
  let seeded: Awaited<ReturnType<typeof seedTwoDepartments>>;
  let scopedAdmin: Client;
  let root: Client;
  beforeAll(async () => {
    seeded = await seedTwoDepartments(store);
    await seedUser(store, 'root', 'admin');
    await seedUser(store, 'other-root', 'admin');
    await seedUser(store, 'admin-a', 'admin', [seeded.a.department]);
    await seedUser(store, 'viewer-a', 'department_viewer', [seeded.a.department]);
    await seedUser(store, 'viewer-b', 'department_viewer', [seeded.b.department]);
    await seedUser(store, 'officer-all', 'security_officer');
    app = await testApp(store);
    scopedAdmin = await login(app, 'admin-a');
    root = await login(app, 'root');
  });
  afterAll(async () => {
    await app.close();
    await store.close();
  });

  it('a scoped admin cannot lift its own scope, change its own role, or disable itself', async () => {
    for (const change of [{ departments: [] }, { departments: [seeded.a.department, seeded.b.department] }, { role: 'ops' }, { disabled: false }, { unlock: true }]) {
      const response = await scopedAdmin.send('PATCH', '/api/users/admin-a', change);
      expect(response.statusCode, JSON.stringify(change)).toBe(400);
      expect(response.json().code).toBe('SW_ERR_USER_INVALID');
    }
    expect((await store.users.get('admin-a'))!.departments).toEqual([seeded.a.department]);
    // Its own name and password stay its own to change.
    expect((await scopedAdmin.send('PATCH', '/api/users/admin-a', { displayName: 'A 管理员' })).statusCode).toBe(200);
    // An unscoped admin cannot change its own departments either (that would narrow or lock itself out).
    expect((await root.send('PATCH', '/api/users/root', { departments: [seeded.a.department] })).statusCode).toBe(400);
  });

  it('changing your own password needs currentPassword: missing or wrong is 400 SW_ERR_USER_INVALID, right is 200', async () => {
    const self = await login(app, 'other-root');
    const missing = await self.send('PATCH', '/api/users/other-root', { password: 'a stolen session password' });
    expect(missing.statusCode).toBe(400);
    expect(missing.json()).toMatchObject({ code: 'SW_ERR_USER_INVALID', message: expect.stringMatching(/currentPassword/) });
    const wrong = await self.send('PATCH', '/api/users/other-root', { password: 'a stolen session password', currentPassword: 'not the password' });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json()).toMatchObject({ code: 'SW_ERR_USER_INVALID', message: expect.stringMatching(/currentPassword is wrong/) });
    expect((await app.inject({ method: 'POST', url: '/api/session', payload: { username: 'other-root', password: PASSWORD } })).statusCode).toBe(200);
    const right = await self.send('PATCH', '/api/users/other-root', { password: 'my own new password', currentPassword: PASSWORD });
    expect(right.statusCode).toBe(200);
    const entry = (await store.audit.list({}, { size: 1 })).items[0]!;
    expect(entry).toMatchObject({ action: 'user.update', target: 'other-root', detail: { passwordReset: true } });
    expect(JSON.stringify(entry)).not.toMatch(/my own new password|correct horse/);
    // Another admin resetting it needs no current password.
    expect((await root.send('PATCH', '/api/users/other-root', { password: PASSWORD })).statusCode).toBe(200);
  });

  it('a scoped admin cannot create an admin, an unscoped user, or grant another department', async () => {
    const base = { displayName: 'x', password: 'long enough password' };
    const cases = [
      { username: `adm-${randomUUID().slice(0, 6)}`, role: 'admin', departments: [seeded.a.department] },
      { username: `all-${randomUUID().slice(0, 6)}`, role: 'security_officer', departments: [] },
      { username: `all2-${randomUUID().slice(0, 6)}`, role: 'ops' },
      { username: `b-${randomUUID().slice(0, 6)}`, role: 'department_viewer', departments: [seeded.b.department] },
      { username: `ab-${randomUUID().slice(0, 6)}`, role: 'department_viewer', departments: [seeded.a.department, seeded.b.department] },
    ];
    for (const body of cases) {
      const response = await scopedAdmin.send('POST', '/api/users', { ...base, ...body });
      expect(response.statusCode, body.username).toBe(403);
      expect(response.json().code).toBe('SW_ERR_USER_FORBIDDEN');
      expect(await store.users.get(body.username)).toBeUndefined();
    }
    const ok = await scopedAdmin.send('POST', '/api/users', { ...base, username: `ok-${randomUUID().slice(0, 6)}`, role: 'ops', departments: [seeded.a.department] });
    expect(ok.statusCode).toBe(201);
  });

  it('a scoped admin cannot edit, unlock, delete or even see admins and accounts beyond its departments', async () => {
    for (const target of ['root', 'other-root', 'viewer-b', 'officer-all']) {
      for (const change of [{ displayName: 'x' }, { unlock: true }, { password: 'long enough password' }, { disabled: true }]) {
        const response = await scopedAdmin.send('PATCH', `/api/users/${target}`, change);
        expect(response.statusCode, `${target} ${JSON.stringify(change)}`).toBe(404);
      }
      expect((await scopedAdmin.send('DELETE', `/api/users/${target}`)).statusCode, target).toBe(404);
      expect(await store.users.get(target)).toMatchObject({ disabled: false });
    }
    // Granting a user it manages more than its own departments, or the admin role, is refused.
    expect((await scopedAdmin.send('PATCH', '/api/users/viewer-a', { departments: [seeded.a.department, seeded.b.department] })).statusCode).toBe(403);
    expect((await scopedAdmin.send('PATCH', '/api/users/viewer-a', { role: 'admin' })).statusCode).toBe(403);
    expect((await scopedAdmin.send('PATCH', '/api/users/viewer-a', { role: 'ops', departments: [] })).statusCode).toBe(403);
    expect((await scopedAdmin.send('PATCH', '/api/users/viewer-a', { displayName: '查看者 A' })).statusCode).toBe(200);
    const listed = (await scopedAdmin.get('/api/users')).json().items.map((u: { username: string }) => u.username);
    expect(listed).toContain('admin-a');
    expect(listed).toContain('viewer-a');
    for (const hidden of ['root', 'other-root', 'viewer-b', 'officer-all']) expect(listed).not.toContain(hidden);
    expect((await scopedAdmin.get('/api/users')).body).not.toContain(seeded.b.department);
  });

  it('an unscoped admin still manages admins and every department', async () => {
    expect((await root.send('PATCH', '/api/users/other-root', { displayName: '另一位管理员' })).statusCode).toBe(200);
    expect((await root.send('PATCH', '/api/users/viewer-b', { unlock: true })).statusCode).toBe(200);
    const created = await root.send('POST', '/api/users', {
      username: `adm-${randomUUID().slice(0, 6)}`, displayName: 'x', password: 'long enough password', role: 'admin', departments: [seeded.b.department],
    });
    expect(created.statusCode).toBe(201);
    expect((await root.get('/api/users')).json().items.length).toBeGreaterThanOrEqual(7);
  });
});

/** Bad query input answers 4xx with a message in both stores; never a 500. */
function describeBadInput(name: string, open: () => Promise<Store>) {
  describe(`event search input: ${name}`, () => {
    let store: Store;
    let app: FastifyInstance;
    let viewer: Client;
    beforeAll(async () => {
      store = await open();
      const seeded = await seedTwoDepartments(store);
      const username = `officer-${randomUUID().slice(0, 6)}`;
      await seedUser(store, username, 'security_officer', [seeded.a.department]);
      app = await testApp(store);
      viewer = await login(app, username);
    });
    afterAll(async () => {
      await app?.close();
      await store?.close();
    });

    it('control characters in q are a 400 with a message, not an FTS 500', async () => {
      for (const q of ['%00%00%00', '%00', 'abc%01def', '%1b%5b31m', 'ab%7f', 'root%00%00%00%00']) {
        const response = await viewer.get(`/api/events?q=${q}`);
        expect(response.statusCode, q).toBe(400);
        expect(response.json(), q).toMatchObject({ code: 'SW_ERR_STORE_INVALID_QUERY', message: expect.stringContaining('control') });
      }
      // Spacing is still spacing.
      expect((await viewer.get('/api/events?q=failed%09password%0Aroot')).statusCode).toBe(200);
    });

    it('prototype field names in filter are a 400, whatever the segment', async () => {
      for (const filter of ['__proto__:x', 'constructor:x', 'prototype:x', 'user.__proto__:x', 'user.constructor.name:x', '__proto__.polluted:1']) {
        const response = await viewer.get(`/api/events?filter=${encodeURIComponent(filter)}`);
        expect(response.statusCode, filter).toBe(400);
        expect(response.json(), filter).toMatchObject({ code: 'SW_ERR_REQUEST_INVALID', message: expect.stringContaining('field') });
      }
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    it('random bytes in q and filter never get a 5xx (seed 16)', async () => {
      const random = prng(16);
      const bytes = (n: number) => Array.from({ length: n }, () => Math.floor(random() * 256));
      const encode = (list: number[]) => list.map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
      for (let round = 0; round < 60; round += 1) {
        const q = encode(bytes(1 + Math.floor(random() * 12)));
        const filter = `${encode(bytes(1 + Math.floor(random() * 6)))}:${encode(bytes(1 + Math.floor(random() * 6)))}`;
        for (const url of [`/api/events?q=${q}`, `/api/events?filter=${filter}`, `/api/events?q=${q}&filter=user.name:${q}`]) {
          const response = await viewer.get(url);
          expect(response.statusCode, url).toBeLessThan(500);
          expect(response.json(), url).toHaveProperty(response.statusCode === 200 ? 'items' : 'code');
        }
      }
    });
  });
}

describeBadInput('embedded', async () => new EmbeddedStore({ path: join(dir, `input-${randomUUID()}.db`) }));
const prefix = `test-${randomUUID().slice(0, 8)}`;
describeBadInput('elasticsearch', () => ElasticsearchStore.open({ url: inject('elasticsearchUrl'), indexPrefix: prefix }));
afterAll(async () => {
  const cleanup = await ElasticsearchStore.open({ url: inject('elasticsearchUrl'), indexPrefix: prefix });
  await cleanup.client.indices.delete({ index: `${prefix}-*`, ignore_unavailable: true, allow_no_indices: true });
  await cleanup.client.indices.deleteIndexTemplate({ name: `${prefix}-events` }).catch(() => undefined);
  await cleanup.close();
});

describe('login limits count failures, not successes', () => {
  const store = new EmbeddedStore({ path: join(dir, 'login.db') });
  afterAll(() => store.close());
  const tryLogin = (app: FastifyInstance, username: string, password: string, ip: string) =>
    app.inject({ method: 'POST', url: '/api/session', payload: { username, password }, remoteAddress: ip });

  it('30 correct logins from one address (a proxy) never lock out the admin', async () => {
    await seedUser(store, 'busy-admin', 'admin');
    await seedUser(store, 'colleague', 'ops');
    const app = await testApp(store, { sessions: { perIp: { max: 3, windowMs: 60_000 }, perUser: { max: 2, windowMs: 60_000 } } });
    for (let i = 0; i < 30; i += 1) expect((await tryLogin(app, 'busy-admin', PASSWORD, '10.1.1.1')).statusCode, `login ${i}`).toBe(200);
    // Everyone behind the same address still gets in.
    expect((await tryLogin(app, 'colleague', PASSWORD, '10.1.1.1')).statusCode).toBe(200);
    // Failures still count: 3 wrong guesses fill the address's budget.
    for (const name of ['g1', 'g2', 'g3']) expect((await tryLogin(app, name, 'wrong', '10.1.1.2')).statusCode).toBe(401);
    expect((await tryLogin(app, 'busy-admin', PASSWORD, '10.1.1.2')).statusCode).toBe(429);
    await app.close();
  });

  it('a success clears the username’s failure count', async () => {
    await seedUser(store, 'typo', 'ops');
    const app = await testApp(store, { sessions: { perIp: { max: 100, windowMs: 60_000 }, perUser: { max: 2, windowMs: 60_000 } } });
    expect((await tryLogin(app, 'typo', 'wrong', '10.2.2.1')).statusCode).toBe(401);
    expect((await tryLogin(app, 'typo', PASSWORD, '10.2.2.1')).statusCode).toBe(200);
    expect((await tryLogin(app, 'typo', 'wrong', '10.2.2.1')).statusCode).toBe(401);
    expect((await tryLogin(app, 'typo', PASSWORD, '10.2.2.1')).statusCode).toBe(200);
    await app.close();
  });
});

describe('http.trustProxy names the proxy: a client cannot choose its own address', () => {
  const store = new EmbeddedStore({ path: join(dir, 'proxy.db') });
  afterAll(() => store.close());

  it('with trustProxy 127.0.0.1, a spoofed X-Forwarded-For gives the address the proxy saw (203.0.113.5)', async () => {
    await seedUser(store, 'proxied', 'ops');
    const app = await testApp(store, { trustProxy: '127.0.0.1' });
    const viaProxy = (remoteAddress: string) => app.inject({
      method: 'POST', url: '/api/session', payload: { username: 'proxied', password: PASSWORD },
      headers: { 'x-forwarded-for': '6.6.6.6, 203.0.113.5' }, remoteAddress,
    });
    expect((await viaProxy('127.0.0.1')).statusCode).toBe(200);
    // A client reaching the console directly is not the proxy: its own address counts, whatever it writes.
    expect((await viaProxy('198.51.100.7')).statusCode).toBe(200);
    const logins = (await store.audit.list({}, { size: 10 })).items.filter((e) => e.action === 'session.login');
    expect(logins.map((e) => e.ip).sort()).toEqual(['198.51.100.7', '203.0.113.5']);
    await app.close();
  });

  it('config refuses trustProxy true (and a hop count), saying to give the proxy address', () => {
    for (const value of ['true', '1']) {
      expect(() => loadConfig({ file: '/dev/null', env: { SHOUWANG_HTTP_TRUST_PROXY: value } }), value)
        .toThrow(/http\.trustProxy[\s\S]*proxy's address\(es\) or CIDR/);
    }
    expect(() => loadConfig({ file: '/dev/null', env: { SHOUWANG_HTTP_TRUST_PROXY: '10.0.0.5, example.com' } })).toThrow(/not an IP address or CIDR: "example.com"/);
    const load = (value: string) => loadConfig({ file: '/dev/null', env: { SHOUWANG_HTTP_TRUST_PROXY: value } }).config.http.trustProxy;
    expect(load('10.0.0.5, 10.1.0.0/16, ::1')).toEqual(['10.0.0.5', '10.1.0.0/16', '::1']);
    expect(load('false')).toBe(false);
    expect(loadConfig({ file: '/dev/null', env: {} }).config.http.trustProxy).toBeUndefined();
  });
});

describe('response headers, cookies and media types', () => {
  const store = new EmbeddedStore({ path: join(dir, 'headers.db') });
  let app: FastifyInstance;
  let admin: Client;
  beforeAll(async () => {
    await seedUser(store, 'hdr-admin', 'admin');
    app = await testApp(store, { sessions: { secureCookies: false }, trustProxy: '127.0.0.1' });
    admin = await login(app, 'hdr-admin');
  });
  afterAll(async () => {
    await app.close();
    await store.close();
  });

  it('API answers, errors and 404s are no-store and nosniff', async () => {
    const answers = [
      await admin.get('/api/me'), await admin.get('/api/users'), await admin.get('/api/events?q=%00%00%00'),
      await app.inject({ method: 'GET', url: '/api/me' }), await admin.get('/api/no-such-route'), await app.inject({ method: 'GET', url: '/healthz' }),
    ];
    for (const response of answers) {
      expect(response.headers['cache-control'], response.body).toBe('no-store');
      expect(response.headers['x-content-type-options']).toBe('nosniff');
    }
  });

  it('static assets may be revalidated but are nosniff too', async () => {
    const page = await app.inject({ method: 'GET', url: '/' });
    expect(page.headers['cache-control']).toBe('no-cache');
    expect(page.headers['x-content-type-options']).toBe('nosniff');
  });

  it('the session cookie is Secure behind a trusted TLS proxy even when secureCookies is off', async () => {
    const viaTls = await app.inject({
      method: 'POST', url: '/api/session', payload: { username: 'hdr-admin', password: PASSWORD }, headers: { 'x-forwarded-proto': 'https' },
    });
    expect(String(viaTls.headers['set-cookie'])).toMatch(/; Secure$/);
    const plain = await app.inject({ method: 'POST', url: '/api/session', payload: { username: 'hdr-admin', password: PASSWORD } });
    expect(String(plain.headers['set-cookie'])).not.toContain('Secure');
    // Without trustProxy the header is anyone's to send and changes nothing.
    const untrusting = await testApp(store, { sessions: { secureCookies: false } });
    const spoofed = await untrusting.inject({
      method: 'POST', url: '/api/session', payload: { username: 'hdr-admin', password: PASSWORD }, headers: { 'x-forwarded-proto': 'https' },
    });
    expect(String(spoofed.headers['set-cookie'])).not.toContain('Secure');
    await untrusting.close();
  });

  it('a long or malformed path parameter gets our {code, message}, never Fastify\'s FST_ERR_* shape', async () => {
    for (const url of [`/api/alerts/${'x'.repeat(301)}`, `/api/backup/jobs/${'y'.repeat(2000)}`, '/api/alerts/%E0%A4%A', `/api/alerts/${'z'.repeat(600)}/related`]) {
      const response = await admin.get(url);
      expect(response.statusCode, url).toBe(400);
      expect(response.json(), url).toEqual({ code: 'SW_ERR_REQUEST_INVALID', message: expect.stringMatching(/\//) });
      expect(response.headers['x-content-type-options'], url).toBe('nosniff');
    }
  });

  it('a text/plain body gets the documented 415', async () => {
    for (const [method, url] of [['POST', '/api/users'], ['POST', '/api/session'], ['PATCH', '/api/users/hdr-admin'], ['POST', '/api/alerts/bulk']] as const) {
      const response = await app.inject({
        method, url, payload: '{"username":"x"}', headers: { cookie: admin.cookie, 'x-csrf-token': admin.csrf, 'content-type': 'text/plain' },
      });
      expect(response.statusCode, url).toBe(415);
      expect(response.json(), url).toMatchObject({ code: 'SW_ERR_REQUEST_MEDIA_TYPE' });
    }
  });
});

describe('one loopback check', () => {
  it('a host name that starts with 127. is not loopback: session cookies stay Secure there', () => {
    const secure = (host: string) => consoleSessionOptions(loadConfig({ file: '/dev/null', env: { SHOUWANG_HTTP_HOST: host } }).config).secureCookies;
    for (const host of ['127.example.com', '127.0.0.1.nip.io', '127.1', '::1.example', 'localhost.example.com', '0.0.0.0']) expect(secure(host), host).toBe(true);
    for (const host of ['127.0.0.1', '127.3.2.1', '::1', 'localhost']) expect(secure(host), host).toBe(false);
    expect(isLoopbackHost('127.example.com')).toBe(false);
  });
});

describe('/metrics beyond loopback', () => {
  it('refuses to listen beyond loopback without a scrape token, naming http.metricsToken', async () => {
    const store = new EmbeddedStore({ path: ':memory:' });
    const app = await testApp(store);
    await expect(listen(app, { host: '0.0.0.0', port: 0 })).rejects.toMatchObject({ code: 'SW_ERR_CONFIG_INVALID', message: expect.stringContaining('http.metricsToken') });
    await expect(listen(app, { host: '::', port: 0 })).rejects.toMatchObject({ code: 'SW_ERR_CONFIG_INVALID' });
    expect(await listen(app, { host: '127.0.0.1', port: 0 })).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await app.close();
    const guarded = await testApp(store, { metricsToken: 'a-long-scrape-token-123' });
    expect(await listen(guarded, { host: '0.0.0.0', port: 0, metricsToken: 'a-long-scrape-token-123' })).toMatch(/:\d+$/);
    await guarded.close();
    await store.close();
  });

  it('start refuses before it creates the first admin or any file in the data dir', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'sw-listen-')), 'data');
    const { config } = loadConfig({ file: '/dev/null', env: { SHOUWANG_HTTP_HOST: '0.0.0.0', SHOUWANG_DATA_DIR: dataDir } });
    await expect(startRuntime(config)).rejects.toMatchObject({ code: 'SW_ERR_CONFIG_INVALID', message: expect.stringContaining('http.metricsToken') });
    expect(existsSync(dataDir)).toBe(false);
  });
});

describe('file modes: the data dir is 0700 and its secrets 0600, whatever the umask', () => {
  let previous: number;
  beforeAll(() => {
    previous = process.umask(0);
  });
  afterAll(() => {
    process.umask(previous);
  });

  it('database (+ -wal, -shm), its new directory, and an existing loose data dir', async () => {
    const dataDir = join(dir, `data-${randomUUID()}`);
    const store = new EmbeddedStore({ path: join(dataDir, 'shouwang.db') });
    await seedUser(store, 'mode-check', 'ops');
    expect(mode(dataDir)).toBe(0o700);
    for (const suffix of ['', '-wal', '-shm']) {
      const file = join(dataDir, `shouwang.db${suffix}`);
      if (suffix === '' || existsSync(file)) expect(mode(file), file).toBe(0o600);
    }
    expect(existsSync(join(dataDir, 'shouwang.db-wal'))).toBe(true);
    await store.close();

    // A file left 0644 by an older version is tightened when opened again.
    chmodSync(join(dataDir, 'shouwang.db'), 0o644);
    const again = new EmbeddedStore({ path: join(dataDir, 'shouwang.db') });
    expect(mode(join(dataDir, 'shouwang.db'))).toBe(0o600);
    await again.close();

    const loose = join(dir, `loose-${randomUUID()}`);
    mkdirSync(loose, { mode: 0o755 });
    ensurePrivateDirSync(loose);
    expect(mode(loose)).toBe(0o700);
  });

  it('spool, dead letters and checkpoints', async () => {
    const base = join(dir, `collect-${randomUUID()}`);
    const spool = new DiskSpool(join(base, 'spool'), 1 << 20);
    expect(await spool.append([{ id: 'e1', '@timestamp': '2026-04-01T00:00:00Z' }])).toBe(true);
    expect(mode(join(base, 'spool'))).toBe(0o700);
    expect(mode(join(base, 'spool', '000000000001.ndjson'))).toBe(0o600);

    await new FileDeadLetterSink(join(base, 'dead-letter')).write([deadLetter('test', '1', 'bad', 'raw line')]);
    expect(mode(join(base, 'dead-letter'))).toBe(0o700);
    const { readdirSync } = await import('node:fs');
    for (const name of readdirSync(join(base, 'dead-letter'))) expect(mode(join(base, 'dead-letter', name))).toBe(0o600);

    const checkpoints = await FileCheckpoints.load(join(base, 'checkpoints', 'files.json'));
    checkpoints.set('a', { path: '/var/log/a', fingerprint: 'f', inode: 1, offset: 10, line: 1 } as never);
    await checkpoints.save();
    expect(mode(join(base, 'checkpoints'))).toBe(0o700);
    expect(mode(join(base, 'checkpoints', 'files.json'))).toBe(0o600);
  });

  it('correlation state, rule switches, the signing key folder and the local Redis folder', async () => {
    const base = join(dir, `more-${randomUUID()}`);
    await new CorrelationStateFile(join(base, 'checkpoints', 'correlation.json')).save(() => ({ windows: [] }));
    expect(mode(join(base, 'checkpoints'))).toBe(0o700);
    expect(mode(join(base, 'checkpoints', 'correlation.json'))).toBe(0o600);

    // A temporary file an older version left 0644 does not pass its mode on.
    writeFileSync(join(base, 'rules-disabled.json.tmp'), '', { mode: 0o644 });
    const switches = await RuleSwitches.open(join(base, 'rules-disabled.json'));
    await switches.set('some-rule', false);
    expect(mode(join(base, 'rules-disabled.json'))).toBe(0o600);

    ensureSigningKey(join(base, 'evidence', 'signing-key.pem'));
    expect(mode(join(base, 'evidence'))).toBe(0o700);
    expect(mode(join(base, 'evidence', 'signing-key.pem'))).toBe(0o600);

    mkdirSync(join(base, 'redis'), { mode: 0o755 });
    const redis = await startLocalRedis({ dir: join(base, 'redis') });
    try {
      expect(mode(join(base, 'redis'))).toBe(0o700);
    } finally {
      await redis.stop();
    }
  });

  it('tightens at start what an older version left 0644 under the data dir, and follows no symbolic link out of it', () => {
    const dataDir = join(dir, `old-${randomUUID()}`);
    const outside = join(dir, `outside-${randomUUID()}.txt`);
    writeFileSync(outside, 'not ours', { mode: 0o644 });
    mkdirSync(dataDir, { mode: 0o755 });
    const loose = [
      'shouwang.db', 'shouwang.db-wal', 'rules-disabled.json', 'sftp-known-hosts.json', 'spool/000000000001.ndjson',
      'dead-letter/2026-01-01.ndjson', 'checkpoints/files-a.json', 'checkpoints/correlation.json', 'evidence/signing-key.pem',
      'evidence/audit-head.json', 'evidence/evidence-1.zip', 'redis/appendonlydir/appendonly.aof.1.base.rdb',
    ];
    for (const name of loose) {
      mkdirSync(join(dataDir, name, '..'), { recursive: true, mode: 0o755 });
      writeFileSync(join(dataDir, name), 'x', { mode: 0o644 });
    }
    symlinkSync(outside, join(dataDir, 'checkpoints', 'link.json'));
    const changed = tightenDataDirSync(dataDir);
    expect(mode(dataDir)).toBe(0o700);
    for (const name of loose) expect(mode(join(dataDir, name)), name).toBe(0o600);
    for (const folder of ['spool', 'dead-letter', 'checkpoints', 'evidence', 'redis', 'redis/appendonlydir']) expect(mode(join(dataDir, folder)), folder).toBe(0o700);
    expect(mode(outside)).toBe(0o644);
    expect(changed.length).toBeGreaterThanOrEqual(loose.length + 6);
    // Once tight, a second start changes nothing.
    expect(tightenDataDirSync(dataDir)).toEqual([]);
  });
});
