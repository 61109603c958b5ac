import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { QueueEvents } from 'bullmq';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { redisConnection } from '../../backup/index.js';
import { DEFAULT_SESSION_OPTIONS, evidenceApi } from '../../console/index.js';
import { RouteRegistry } from '../../console/routes.js';
import { SessionManager } from '../../console/sessions.js';
import {
  EVIDENCE_QUEUE, EvidenceQueue, bundlePath, generateSigningKey, readZipEntries, startEvidenceWorker, verifyEvidenceBundle,
  type EvidenceJobProgress,
} from '../../evidence/index.js';
import { login, seedUser, testApp } from '../console/support.js';
import { DEPT_A, DEPT_B, GOOD, PARTIAL, PERIOD, SILENT, seedFixture, type Fixture } from './fixture.js';

let fixture: Fixture;
let queue: EvidenceQueue;
let worker: ReturnType<typeof startEvidenceWorker>;
let events: QueueEvents;
const prefix = `test-${randomUUID()}`;
const key = generateSigningKey();

beforeAll(async () => {
  fixture = await seedFixture();
  const redisUrl = inject('redisUrl');
  queue = new EvidenceQueue({ redis: redisUrl, prefix });
  worker = startEvidenceWorker({ redis: redisUrl, prefix, store: fixture.store, dataDir: fixture.dir, key });
  events = new QueueEvents(EVIDENCE_QUEUE, { connection: redisConnection(redisUrl), prefix });
  await events.waitUntilReady();
});

afterAll(async () => {
  await worker?.close();
  await events?.close();
  await queue?.queue.obliterate({ force: true });
  await queue?.close();
  await fixture?.close();
});

describe('evidence export job', () => {
  it('runs on BullMQ with progress and leaves a verifiable bundle and a result record', async () => {
    const progress: EvidenceJobProgress[] = [];
    events.on('progress', ({ data }) => progress.push(data as EvidenceJobProgress));
    const job = await queue.enqueue({ selection: { ...PERIOD }, requestedBy: 'reviewer' });
    const summary = await job.waitUntilFinished(events, 60_000);

    expect(summary.systems).toBe(3);
    expect(summary.path).toBe(bundlePath(fixture.dir, job.id!));
    expect(existsSync(summary.path)).toBe(true);
    expect(await verifyEvidenceBundle(summary.path, { publicKey: key.publicKey })).toMatchObject({ ok: true });
    // Intermediate steps, in order, ending at 100.
    const done = progress.map((p) => p.done);
    expect(done.length).toBeGreaterThanOrEqual(2);
    expect(done).toEqual([...done].sort((a, b) => a - b));
    expect(progress.at(-1)).toMatchObject({ done: 100, total: 100 });
    const result = await fixture.store.jobResults.get(`evidence-export:${job.id}`);
    expect(result).toMatchObject({ kind: 'evidence-export', status: 'pass', detail: { requestedBy: 'reviewer', bytes: summary.bytes } });
  });

  it('fails a job with a bad selection at once, and leaves a failed result with the reason', async () => {
    const job = await queue.enqueue({ selection: { ...PERIOD, system: 'no-such-system' }, requestedBy: 'reviewer' });
    await expect(job.waitUntilFinished(events, 30_000)).rejects.toThrow(/no-such-system/);
    expect(await job.getState()).toBe('failed');
    expect(await fixture.store.jobResults.get(`evidence-export:${job.id}`)).toMatchObject({
      kind: 'evidence-export', status: 'fail', summary: expect.stringMatching(/evidence export failed: .*no-such-system/),
      detail: { reason: expect.stringMatching(/no-such-system/), requestedBy: 'reviewer', selection: { system: 'no-such-system' } },
    });
  });
});

describe('console routes', () => {
  it('starts, follows and downloads an export within the reviewer scope; others get 403 or 404', async () => {
    const app = await testApp(fixture.store);
    const sessions = new SessionManager(fixture.store, DEFAULT_SESSION_OPTIONS);
    await app.register(evidenceApi, { store: fixture.store, routes: new RouteRegistry(sessions.authenticate), sessions, evidence: queue, dataDir: fixture.dir });
    try {
      await seedUser(fixture.store, 'reviewer-a', 'compliance_reviewer', [DEPT_A]);
      await seedUser(fixture.store, 'reviewer-b', 'compliance_reviewer', [DEPT_B]);
      await seedUser(fixture.store, 'viewer', 'department_viewer', [DEPT_A]);
      const reviewer = await login(app, 'reviewer-a');

      expect((await reviewer.send('POST', '/api/evidence', { department: DEPT_B, ...PERIOD })).statusCode).toBe(404);
      expect((await reviewer.send('POST', '/api/evidence', { system: PARTIAL, ...PERIOD })).statusCode).toBe(404);
      expect((await reviewer.send('POST', '/api/evidence', { ...PERIOD })).statusCode).toBe(400);
      const viewer = await login(app, 'viewer');
      expect((await viewer.send('POST', '/api/evidence', { all: true, ...PERIOD })).statusCode).toBe(403);

      const started = await reviewer.send('POST', '/api/evidence', { all: true, ...PERIOD });
      expect(started.statusCode).toBe(202);
      const id = started.json().job as string;
      // Audited under the caller's departments ("all" inside a scope), so other departments' reviewers do not see it.
      const exported = (await fixture.store.audit.list({ scope: { departments: [DEPT_A] } }, { size: 5 })).items.find((e) => e.action === 'evidence.export');
      expect(exported).toMatchObject({ target: `evidence-job:${id}`, departments: [DEPT_A] });
      expect((await fixture.store.audit.list({ scope: { departments: [DEPT_B] } }, { size: 50 })).items.map((e) => e.action)).not.toContain('evidence.export');
      await (await queue.get(id))!.waitUntilFinished(events, 60_000);

      const status = await reviewer.get(`/api/evidence/${id}`);
      expect(status.json()).toMatchObject({ state: 'completed', progress: { done: 100 }, result: { systems: 2 } });
      const download = await reviewer.get(`/api/evidence/${id}/download`);
      expect(download.statusCode).toBe(200);
      expect(download.headers['content-type']).toBe('application/zip');
      expect(download.rawPayload.subarray(0, 2).toString('latin1')).toBe('PK');

      // The job ran with reviewer-a's scope: only department A's systems.
      const summary = (await queue.get(id))!.returnvalue;
      const manifest = JSON.parse((await readZipEntries(summary.path)).get('manifest.json')!.toString('utf8'));
      expect(manifest.selection.systems).toEqual([GOOD, SILENT]);

      const other = await login(app, 'reviewer-b');
      expect((await other.get(`/api/evidence/${id}`)).statusCode).toBe(404);
      expect((await other.get(`/api/evidence/${id}/download`)).statusCode).toBe(404);
      const trail = await fixture.store.audit.list({});
      expect(trail.items.map((e) => e.action)).toEqual(expect.arrayContaining(['evidence.export', 'evidence.download']));
    } finally {
      await app.close();
    }
  });
});
