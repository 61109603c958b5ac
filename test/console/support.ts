import { randomUUID } from 'node:crypto';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { alertId, createLogger, createMetricsRegistry, parseInventory, type Alert, type Inventory } from '../../core/index.js';
import { join } from 'node:path';
import { afterAll, beforeAll, inject } from 'vitest';
import { ElasticsearchStore, EmbeddedStore, type Store, type UserRecord } from '../../store/index.js';
import { buildApp, hashPassword, type AppDeps } from '../../console/index.js';

export const PASSWORD = 'correct horse battery staple';

/** Hashing is deliberately slow; every seeded user shares one hash. */
let sharedHash: Promise<string> | undefined;

export async function seedUser(store: Store, username: string, role: string, departments: string[] = []): Promise<UserRecord> {
  sharedHash ??= hashPassword(PASSWORD);
  const now = new Date().toISOString();
  const user: UserRecord = {
    username, displayName: username, role, departments, passwordHash: await sharedHash,
    disabled: false, failedLogins: 0, sessionEpoch: 0, createdAt: now, updatedAt: now,
  };
  await store.users.create(user);
  return user;
}

export function testApp(store: Store, extra: Partial<AppDeps> = {}): Promise<FastifyInstance> {
  return buildApp({ store, registry: createMetricsRegistry({ defaultMetrics: false }), logger: createLogger({ level: 'silent' }), ...extra });
}

export interface Client {
  cookie: string;
  csrf: string;
  get(url: string): Promise<LightMyRequestResponse>;
  send(method: 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, payload?: unknown): Promise<LightMyRequestResponse>;
}

/** Logs in and returns a client that sends the session cookie and, on state changes, the CSRF token. */
export async function login(app: FastifyInstance, username: string, password = PASSWORD, ip = '127.0.0.1'): Promise<Client> {
  const response = await app.inject({ method: 'POST', url: '/api/session', payload: { username, password }, remoteAddress: ip });
  if (response.statusCode !== 200) throw new Error(`login ${username} failed: ${response.statusCode} ${response.body}`);
  const cookie = String(response.headers['set-cookie']).split(';')[0]!;
  const csrf = response.json().csrfToken as string;
  return {
    cookie, csrf,
    get: (url) => app.inject({ method: 'GET', url, headers: { cookie }, remoteAddress: ip }),
    send: (method, url, payload) => app.inject({
      method, url, headers: { cookie, 'x-csrf-token': csrf }, remoteAddress: ip, ...(payload !== undefined ? { payload: payload as object } : {}),
    }),
  };
}

/** Two departments, each with a system, events, alerts and backup results; ids are unique per call. */
export async function seedTwoDepartments(store: Store) {
  const tag = randomUUID().slice(0, 6);
  const a = { department: `dept-a-${tag}`, system: `sys-a-${tag}` };
  const b = { department: `dept-b-${tag}`, system: `sys-b-${tag}` };
  const inventory: Inventory = parseInventory({
    departments: [a, b].map((d) => ({ id: d.department, name: `部门 ${d.department}` })),
    systems: [a, b].map((d) => ({
      id: d.system, name: `系统 ${d.system}`, department: d.department, mlpsLevel: 3, zone: '政务外网', owner: { name: '张三' },
    })),
  }, 'test');
  await store.assets.replaceInventory(inventory);
  const at = '2026-04-01T08:00:00.000Z';
  const ids = (d: typeof a) => ({
    event: `${d.department}-ev1`,
    alert: alertId('rule-ssh-brute', d.department, at),
    result: `${d.department}-backup1`,
  });
  for (const d of [a, b]) {
    const id = ids(d);
    await store.events.write([{
      id: id.event, '@timestamp': at, message: `failed password for root from ${d.department} marker-${d.department}`,
      event: { outcome: 'failure' }, user: { name: 'root' }, shouwang: { department: d.department, system: d.system, mlps_level: 3 },
    }]);
    const alert: Alert = {
      id: id.alert, rule: { id: 'rule-ssh-brute', title: 'SSH 暴力破解 / SSH brute force', level: 'high' }, mlps: ['8.1.4.3 a)'],
      department: d.department, system: d.system, mlpsLevel: 3, priority: 12, status: 'new',
      timeline: [{ at, actor: 'analyzer', action: 'raised' }], firstSeen: at, lastSeen: at, count: 1, sampleEventIds: [id.event],
    };
    await store.alerts.upsert([alert]);
    await store.jobResults.put({
      id: id.result, kind: 'backup-check', status: 'pass', system: d.system, department: d.department, site: 'same-city',
      startedAt: at, finishedAt: at, summary: `备份正常 ${d.department}`, detail: { check: 'presence', site: 'same-city' },
    });
  }
  return { a: { ...a, ...ids(a) }, b: { ...b, ...ids(b) } };
}

/** A backup policy for every system in the inventory, so a verify or drill started from the console is really queued. */
export async function giveBackupPolicies(store: Store, path: string): Promise<void> {
  const inventory = await store.assets.getInventory();
  const target = { type: 'path', path };
  await store.assets.replaceInventory(parseInventory({
    ...inventory, systems: inventory.systems.map((s) => ({ ...s, backup: { rpo: '1d', rto: '4h', sameCity: target, offSite: target } })),
  }, 'test'));
}

export type OpenStore = () => Promise<Store>;
export type RefreshStore = (store: Store) => Promise<void>;

/**
 * Declares a suite twice: on an embedded store at `<dir>/<file>` and on the test Elasticsearch under a
 * fresh index prefix (refreshed before reads, its indices removed after the file).
 */
export function onBothStores(dir: string, file: string, suite: (name: string, open: OpenStore, refresh?: RefreshStore) => void): void {
  suite('embedded', async () => new EmbeddedStore({ path: join(dir, file) }));
  const prefix = `test-${randomUUID().slice(0, 8)}`;
  suite(
    'elasticsearch',
    () => ElasticsearchStore.open({ url: inject('elasticsearchUrl'), indexPrefix: prefix }),
    async (store) => {
      await (store as ElasticsearchStore).client.indices.refresh({ index: `${prefix}-*` });
    },
  );
  afterAll(async () => {
    const cleanup = await ElasticsearchStore.open({ url: inject('elasticsearchUrl'), indexPrefix: prefix });
    await cleanup.client.indices.delete({ index: `${prefix}-*`, ignore_unavailable: true, allow_no_indices: true });
    await cleanup.client.indices.deleteIndexTemplate({ name: `${prefix}-events` }).catch(() => undefined);
    await cleanup.close();
  });
}

export type TwoDepartments = Awaited<ReturnType<typeof seedTwoDepartments>>;

/** A user of a two-department console: its role, and whether it is scoped to department A. */
export interface ConsoleUser {
  role: string;
  scopedToA?: boolean;
}

export interface TwoDepartmentConsole<U extends string> {
  store: Store;
  app: FastifyInstance;
  seeded: TwoDepartments;
  /** One logged-in client per user, by the name given (the username is `<name>-<random tag>`). */
  clients: Record<U, Client>;
  usernames: Record<U, string>;
}

/**
 * The both-stores setup of the console review tests, as hooks of the calling describe: opens the store, seeds two
 * departments, runs `seed` (more data), creates the users, refreshes, builds the app and logs each user in one
 * after another (the Elasticsearch audit trail retries concurrent appends only a few times); closes app and store after.
 * The answer's fields are set once the suite's beforeAll ran.
 */
export function twoDepartmentConsole<U extends string>(
  open: OpenStore, refresh: RefreshStore, users: Record<U, ConsoleUser>, seed?: (store: Store, seeded: TwoDepartments) => Promise<void>,
): TwoDepartmentConsole<U> {
  const fixture = { clients: {}, usernames: {} } as TwoDepartmentConsole<U>;
  beforeAll(async () => {
    fixture.store = await open();
    fixture.seeded = await seedTwoDepartments(fixture.store);
    await seed?.(fixture.store, fixture.seeded);
    const tag = randomUUID().slice(0, 6);
    const names = Object.keys(users) as U[];
    for (const name of names) {
      fixture.usernames[name] = `${name}-${tag}`;
      await seedUser(fixture.store, fixture.usernames[name], users[name].role, users[name].scopedToA ? [fixture.seeded.a.department] : []);
    }
    await refresh(fixture.store);
    fixture.app = await testApp(fixture.store);
    for (const name of names) fixture.clients[name] = await login(fixture.app, fixture.usernames[name]);
  });
  afterAll(async () => {
    await fixture.app?.close();
    await fixture.store?.close();
  });
  return fixture;
}
