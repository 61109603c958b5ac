import { randomUUID } from 'node:crypto';
import { statSync } from 'node:fs';
import { dirname } from 'node:path';
import { QueueEvents } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { redisConnection } from '../../backup/index.js';
import { EVIDENCE_QUEUE, EvidenceQueue, bundlePath, generateSigningKey, startEvidenceWorker } from '../../evidence/index.js';
import { DEPT_A, DEPT_B, GOOD, PARTIAL, PERIOD, seedFixture, type Fixture } from '../evidence/fixture.js';
import { login, seedUser, testApp, type Client } from './support.js';

/** Evidence bundles follow their scope: what a bundle can hold must lie inside the user's departments. */
let fixture: Fixture;
let queue: EvidenceQueue;
let worker: ReturnType<typeof startEvidenceWorker>;
let events: QueueEvents;
let app: FastifyInstance;
const prefix = `test-${randomUUID()}`;
const users: Record<string, Client> = {};

beforeAll(async () => {
  fixture = await seedFixture();
  const redisUrl = inject('redisUrl');
  queue = new EvidenceQueue({ redis: redisUrl, prefix });
  worker = startEvidenceWorker({ redis: redisUrl, prefix, store: fixture.store, dataDir: fixture.dir, key: generateSigningKey() });
  events = new QueueEvents(EVIDENCE_QUEUE, { connection: redisConnection(redisUrl), prefix });
  await events.waitUntilReady();
  app = await testApp(fixture.store, { evidence: { queue, dataDir: fixture.dir } });
  await seedUser(fixture.store, 'root', 'admin');
  await seedUser(fixture.store, 'admin-a', 'admin', [DEPT_A]);
  await seedUser(fixture.store, 'admin-b', 'admin', [DEPT_B]);
  await seedUser(fixture.store, 'admin-ab', 'admin', [DEPT_A, DEPT_B]);
  for (const name of ['root', 'admin-a', 'admin-b', 'admin-ab']) users[name] = await login(app, name);
}, 60_000);

afterAll(async () => {
  await app?.close();
  await worker?.close();
  await events?.close();
  await queue?.queue.obliterate({ force: true });
  await queue?.close();
  await fixture?.close();
});

async function exportAs(client: Client, body: Record<string, unknown>): Promise<string> {
  const started = await client.send('POST', '/api/evidence', { ...body, ...PERIOD });
  expect(started.statusCode, started.body).toBe(202);
  const id = started.json().job as string;
  await (await queue.get(id))!.waitUntilFinished(events, 60_000);
  return id;
}

/** Status and download both answer `status` to `who`; 404s never say whether the job exists. */
async function expectAccess(who: string, id: string, status: 200 | 404) {
  for (const url of [`/api/evidence/${id}`, `/api/evidence/${id}/download`]) {
    const response = await users[who]!.get(url);
    expect(response.statusCode, `${who} ${url}`).toBe(status);
    if (status === 404) expect(response.json()).toMatchObject({ code: 'SW_ERR_EVIDENCE_NOT_FOUND' });
  }
}

describe('evidence bundles follow their scope', () => {
  it('a scoped admin never fetches an unscoped "all" bundle; the unscoped admin does', async () => {
    const id = await exportAs(users.root!, { all: true });
    await expectAccess('root', id, 200);
    await expectAccess('admin-a', id, 404);
    await expectAccess('admin-ab', id, 404);
  });

  it('a department or system bundle goes to admins whose scope holds that department only', async () => {
    const deptB = await exportAs(users.root!, { department: DEPT_B });
    await expectAccess('admin-a', deptB, 404);
    await expectAccess('admin-b', deptB, 200);
    await expectAccess('admin-ab', deptB, 200);
    const systemA = await exportAs(users.root!, { system: GOOD });
    await expectAccess('admin-b', systemA, 404);
    await expectAccess('admin-a', systemA, 200);
    const systemB = await exportAs(users.root!, { system: PARTIAL });
    await expectAccess('admin-a', systemB, 404);
  });

  it('a bundle made inside a scope is fetched by those within that scope, not by others', async () => {
    // admin-ab asks for all: the job runs with its scope A+B; admin-a cannot fetch B's part.
    const id = await exportAs(users['admin-ab']!, { all: true });
    await expectAccess('admin-ab', id, 200);
    await expectAccess('admin-a', id, 404);
    await expectAccess('root', id, 200);
    const onlyA = await exportAs(users['admin-a']!, { all: true });
    await expectAccess('admin-ab', onlyA, 200);
    await expectAccess('admin-b', onlyA, 404);
  });

  it('job ids are 128 random bits, and unknown ids answer the same 404', async () => {
    const ids = [await exportAs(users.root!, { system: GOOD }), await exportAs(users.root!, { system: GOOD })];
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(ids[0]).not.toBe(ids[1]);
    const unknown = await users.root!.get(`/api/evidence/${'A'.repeat(22)}/download`);
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ code: 'SW_ERR_EVIDENCE_NOT_FOUND' });
    for (const bad of ['1', '2', '..%2F..%2Fetc', 'x'.repeat(90)]) expect((await users.root!.get(`/api/evidence/${bad}`)).statusCode, bad).toBe(400);
  });

  it('bundles are 0600 in a 0700 directory, and sent no-store, nosniff', async () => {
    const id = await exportAs(users.root!, { system: GOOD });
    const path = bundlePath(fixture.dir, id);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(dirname(path)).mode & 0o777).toBe(0o700);
    const download = await users.root!.get(`/api/evidence/${id}/download`);
    expect(download.headers['cache-control']).toBe('no-store');
    expect(download.headers['x-content-type-options']).toBe('nosniff');
  });
});
