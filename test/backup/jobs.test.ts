import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { startAnalysis, type Analysis } from '../../analyzers/index.js';
import { alertPriority, createMetricsRegistry, sleep, startLocalRedis, type BusinessSystem, type JobResult } from '../../core/index.js';
import { EmbeddedStore } from '../../store/index.js';
import { checkResultId, formatSetName } from '../../backup/index.js';
import { latestBackups } from '../../console/posture/index.js';
import { backupFacts } from '../../evidence/index.js';
import { BackupQueues, startBackupWorkers, type BackupWorkers, type VerifyRunner } from '../../backup/jobs/index.js';
import { drillSystem, writeSet } from './fixtures/drill-sources.js';
import { DIST } from '../harness/built.js';
import { eventually } from '../support/eventually.js';

const dir = mkdtempSync(join(tmpdir(), 'shouwang-jobs-test-'));
const store = new EmbeddedStore({ path: join(dir, 'results.db') });
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
// The shipped rules, as bin/runtime.ts gives them to the workers: backup alerts come from the backup rules.
let analysis: Analysis;
beforeAll(async () => {
  analysis = await startAnalysis({ rulesDir: resolve('rules/shouwang'), alerts: store.alerts, latenessMs: 60_000 });
});
afterAll(async () => {
  await analysis.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const systemId = () => `jobs-${randomUUID().slice(0, 8)}`;

function queuesFor(redisUrl: string, prefix = `test-${randomUUID()}`, backoffMs = 100, maxQueuedDrills?: number) {
  const queues = new BackupQueues({ redis: redisUrl, prefix, attempts: 3, backoffMs, ...(maxQueuedDrills ? { maxQueuedDrills } : {}) });
  cleanups.push(async () => {
    await queues.verify.obliterate({ force: true }).catch(() => undefined);
    await queues.drill.obliterate({ force: true }).catch(() => undefined);
    await queues.close();
  });
  return { queues, prefix };
}

function workersFor(options: Omit<Parameters<typeof startBackupWorkers>[0], 'store'>): BackupWorkers {
  const analyze = async (events: Parameters<Analysis['analyze']>[0]) => {
    analysis.analyze(events);
    await analysis.flush();
  };
  const workers = startBackupWorkers({ store, analyze, lockDuration: 1000, stalledInterval: 500, ...options });
  cleanups.push(() => workers.close());
  return workers;
}

/** A one-result fake check: job behaviour is under test here, the checks have their own tests. */
function fakeResult(system: BusinessSystem, runId: string, status: JobResult['status'] = 'pass'): JobResult {
  const at = new Date().toISOString();
  return {
    id: checkResultId(runId, system.id, 'same-city', 'presence'), kind: 'backup-check', status, system: system.id,
    department: system.department, site: 'same-city', startedAt: at, finishedAt: at, summary: `fake ${status}`,
    detail: { check: 'presence', site: 'same-city', runId },
  };
}

async function finished(queues: BackupQueues, id: string) {
  return eventually(async () => {
    const job = await queues.verify.getJob(id);
    expect(job?.finishedOn, `job ${id} finished`).toBeTruthy();
    return job!;
  });
}

const resultsOf = async (system: string) => (await store.jobResults.search({ system }, { size: 100 })).items;

describe('backup jobs on BullMQ', () => {
  it('runs the real checks, stores every result and raises one alert for a damaged off-site copy', async () => {
    const id = systemId();
    const root = join(dir, id);
    const data = join(dir, `${id}.bin`);
    writeFileSync(data, Buffer.alloc(64 * 1024, 7));
    const set = formatSetName(new Date(Date.now() - 3_600_000));
    writeSet(join(root, 'same'), set, { 'data.bin': data });
    const offSet = writeSet(join(root, 'off'), set, { 'data.bin': data });
    const damaged = readFileSync(join(offSet, 'data.bin'));
    damaged[100]! ^= 0x01;
    writeFileSync(join(offSet, 'data.bin'), damaged);
    const system = drillSystem(id, join(root, 'same'), { offSite: { type: 'path', path: join(root, 'off') } });

    const { queues, prefix } = queuesFor(inject('redisUrl'));
    const registry = createMetricsRegistry({ defaultMetrics: false });
    workersFor({ redis: inject('redisUrl'), prefix, registry, findSystem: (s) => (s === id ? system : undefined) });
    const job = await queues.enqueueVerify(id);
    const done = await finished(queues, job.id!);

    expect(done.returnvalue.status).toBe('fail');
    expect(done.progress).toMatchObject({ step: '完成 done' });
    const stored = await resultsOf(id);
    expect(stored.map((r) => r.id).sort()).toEqual(done.returnvalue.results.map((r: { id: string }) => r.id).sort());
    const failed = stored.filter((r) => r.status === 'fail');
    expect(failed.map((r) => `${r.detail.site}/${r.detail.check}`)).toContain('off-site/integrity');
    // Every result is a shouwang.backup event; the backup integrity rule raised the alert from it.
    expect(done.returnvalue.events).toHaveLength(stored.length);
    const integrity = failed.find((r) => r.detail.check === 'integrity')!;
    const eventIds = new Set(done.returnvalue.events as string[]);
    const alerts = (await store.alerts.search({ system: [id] }, { size: 100 })).items;
    const alert = alerts.find((a) => a.rule.id === '19fa9c65-f2a6-5688-8fca-1bf5eae3970d');
    expect(alert).toMatchObject({
      rule: { level: 'critical' }, system: id, department: 'dept-drill', mlpsLevel: 3, priority: alertPriority('critical', 3), status: 'new', count: 1,
    });
    expect(alert!.sampleEventIds.every((e) => eventIds.has(e))).toBe(true);
    expect(alert!.mlps.some((c) => c.startsWith('8.1.4.9'))).toBe(true);
    expect(alert!.mlps.every((c) => c.startsWith('8.'))).toBe(true);
    expect((await store.events.get(alert!.sampleEventIds[0]!))).toMatchObject({ backup: { check: 'integrity', site: 'off_site', result_id: integrity.id } });
    expect(await registry.metrics()).toContain('shouwang_backup_jobs_total{queue="shouwang-backup-verify",status="fail"} 1');
  });

  it('the next verify job compares ransomware signals with the fingerprint the previous job stored, not by reading that set again', async () => {
    const id = systemId();
    const root = join(dir, id);
    const files: Record<string, string> = {};
    for (let i = 0; i < 4; i++) {
      files[`records-${i}.csv`] = join(dir, `${id}-${i}.csv`);
      writeFileSync(files[`records-${i}.csv`]!, Array.from({ length: 2000 }, (_, n) => `${n},户籍,${(n * (i + 3)) % 97}`).join('\n'));
    }
    const first = formatSetName(new Date(Date.now() - 7_200_000));
    for (const site of ['same', 'off']) writeSet(join(root, site), first, files);
    const system = drillSystem(id, join(root, 'same'), { offSite: { type: 'path', path: join(root, 'off') } });
    const { queues, prefix } = queuesFor(inject('redisUrl'));
    workersFor({ redis: inject('redisUrl'), prefix, findSystem: (s) => (s === id ? system : undefined) });
    const ransomware = async (jobId: string) => {
      await finished(queues, jobId);
      return (await resultsOf(id)).find((r) => r.detail.check === 'ransomware' && r.detail.site === 'same-city' && r.detail.runId === jobId)!;
    };
    const baseline = await ransomware((await queues.enqueueVerify(id)).id!);
    expect(baseline.detail).toMatchObject({ latestSet: first, sampled: 4 });

    const second = formatSetName(new Date(Date.now() - 3_600_000));
    for (const site of ['same', 'off']) writeSet(join(root, site), second, files);
    // Emptied after the first job stored its fingerprint: only the stored fingerprint still knows set one's content.
    for (const name of Object.keys(files)) writeFileSync(join(root, 'same', first, name), '');
    const next = await ransomware((await queues.enqueueVerify(id)).id!);
    expect(next.status).toBe('pass');
    expect(next.detail).toMatchObject({ previousSet: first, fingerprintSource: 'stored', comparable: 4, flippedFiles: 0 });
  });

  it('keeps one scheduler per system however many processes sync, and runs each tick exactly once across two workers', async () => {
    const id = systemId();
    const system = drillSystem(id, join(dir, id), { checkSchedule: '* * * * * *', drillSchedule: '0 3 * * 0' });
    const inventory = { departments: [{ id: 'dept-drill', name: '演练局' }], systems: [system] };
    const { queues, prefix } = queuesFor(inject('redisUrl'));
    const { queues: other } = queuesFor(inject('redisUrl'), prefix);
    const [first, second] = await Promise.all([queues.syncSchedules(inventory), other.syncSchedules(inventory)]);
    expect(first.scheduled).toEqual([`verify:${id}`, `drill:${id}`]);
    expect(second.scheduled).toEqual(first.scheduled);
    expect(await queues.verify.getJobSchedulersCount()).toBe(1);
    expect(await queues.drill.getJobSchedulersCount()).toBe(1);

    const runs: { runId: string; worker: string }[] = [];
    const fake = (worker: string): VerifyRunner => async (s, { runId }) => {
      runs.push({ runId: runId!, worker });
      await sleep(50);
      return [fakeResult(s, runId!)];
    };
    const findSystem = (s: string) => (s === id ? system : undefined);
    workersFor({ redis: inject('redisUrl'), prefix, findSystem, verify: fake('a') });
    workersFor({ redis: inject('redisUrl'), prefix, findSystem, verify: fake('b') });
    await eventually(() => expect(runs.length, 'scheduler ticks').toBeGreaterThanOrEqual(3));
    await queues.verify.removeJobScheduler(`verify:${id}`);
    await eventually(async () => expect((await queues.verify.getActiveCount()) + (await queues.verify.getWaitingCount()), 'jobs left').toBe(0));

    const ids = runs.map((r) => r.runId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.every((runId) => runId.startsWith(`repeat:verify:${id}:`))).toBe(true);
    expect((await resultsOf(id)).length).toBe(ids.length);
  });

  it('drops schedulers of systems that left the inventory and reports a bad cron pattern', async () => {
    const kept = drillSystem(systemId(), join(dir, 'kept'));
    const gone = drillSystem(systemId(), join(dir, 'gone'));
    const bad = drillSystem(systemId(), join(dir, 'bad'), { checkSchedule: 'every morning' });
    const departments = [{ id: 'dept-drill', name: '演练局' }];
    const { queues } = queuesFor(inject('redisUrl'));
    await queues.syncSchedules({ departments, systems: [kept, gone] });
    const summary = await queues.syncSchedules({ departments, systems: [kept, bad] });
    expect(summary.removed.sort()).toEqual([`drill:${gone.id}`, `verify:${gone.id}`].sort());
    expect(summary.invalid).toMatchObject([{ system: bad.id, schedule: 'checkSchedule', pattern: 'every morning' }]);
    expect((await queues.verify.getJobSchedulers(0, -1)).map((s) => s.key)).toEqual([`verify:${kept.id}`]);
  });

  it('runs a drill job from the copy it names: off-site when asked, same-city by default', async () => {
    const id = systemId();
    const system = drillSystem(id, join(dir, id));
    const { queues, prefix } = queuesFor(inject('redisUrl'));
    const asked: (string | undefined)[] = [];
    workersFor({
      redis: inject('redisUrl'), prefix, findSystem: () => system,
      drill: async (s, options) => {
        asked.push(options.site);
        const at = new Date().toISOString();
        const site = options.site ?? 'same-city';
        return {
          id: `drill-${options.runId}`, kind: 'restore-drill', status: 'pass', system: s.id, department: s.department, site,
          startedAt: at, finishedAt: at, summary: 'ok', detail: { site, rto: { targetSeconds: 60, achievedSeconds: 1, met: true } },
        };
      },
    });
    const off = await queues.enqueueDrill(id, { site: 'off-site' });
    await eventually(async () => expect((await queues.drill.getJob(off.id!))?.finishedOn, 'off-site drill finished').toBeTruthy());
    const local = await queues.enqueueDrill(id);
    await eventually(async () => expect((await queues.drill.getJob(local.id!))?.finishedOn, 'same-city drill finished').toBeTruthy());
    expect(asked).toEqual(['off-site', undefined]);
    expect((await resultsOf(id)).map((r) => r.site).sort()).toEqual(['off-site', 'same-city']);
  });

  it('refuses a second pending drill of the same system and site, also when both arrive at once, until the first has finished', async () => {
    const id = systemId();
    const system = drillSystem(id, join(dir, id));
    const { queues, prefix } = queuesFor(inject('redisUrl'));
    const twice = await Promise.allSettled([queues.enqueueDrill(id), queues.enqueueDrill(id)]);
    expect(twice.map((t) => t.status).sort()).toEqual(['fulfilled', 'rejected']);
    const first = (twice.find((t) => t.status === 'fulfilled') as PromiseFulfilledResult<Awaited<ReturnType<BackupQueues['enqueueDrill']>>>).value;
    const refusal = (twice.find((t) => t.status === 'rejected') as PromiseRejectedResult).reason as { code: string; statusCode: number; message: string };
    expect(refusal).toMatchObject({ code: 'SW_ERR_JOBS_DRILL_PENDING', statusCode: 409 });
    expect(refusal.message).toContain(`已有一个待执行的`);
    expect(refusal.message).toContain(`a same-city restore drill of system ${id} is already queued or running (job ${first.id})`);
    await expect(queues.enqueueDrill(id, { site: 'same-city' })).rejects.toMatchObject({ code: 'SW_ERR_JOBS_DRILL_PENDING' });
    // Another copy of the same system, and another system, are drills of their own.
    const offSite = await queues.enqueueDrill(id, { site: 'off-site' });
    const other = await queues.enqueueDrill(systemId());
    expect(new Set([first.id, offSite.id, other.id]).size).toBe(3);
    expect(await queues.drill.getJobCounts('waiting')).toEqual({ waiting: 3 });
    // Once the first has run, the system may be drilled again (a finished job does not block).
    workersFor({
      redis: inject('redisUrl'), prefix, findSystem: (s) => (s === id ? system : undefined),
      drill: async (s, options) => {
        const at = new Date().toISOString();
        const site = options.site ?? 'same-city';
        return { id: `drill-${options.runId}`, kind: 'restore-drill', status: 'pass', system: s.id, department: s.department, site, startedAt: at, finishedAt: at, summary: 'ok', detail: { site } };
      },
    });
    await eventually(async () => expect((await queues.drill.getJob(first.id!))?.finishedOn, 'first drill finished').toBeTruthy());
    const again = await queues.enqueueDrill(id);
    expect(again.id).not.toBe(first.id);
  });

  it('takes a drill now of a system whose schedule already holds its next drill, and does not count scheduled ones against the cap', async () => {
    const systems = [systemId(), systemId(), systemId()].map((id) => drillSystem(id, join(dir, id), { drillSchedule: '0 3 * * 0' }));
    const { queues } = queuesFor(inject('redisUrl'), undefined, 100, 2);
    await queues.syncSchedules({ departments: [{ id: 'dept-drill', name: '演练局' }], systems });
    // Each scheduler keeps its next drill (Sunday 03:00) as a delayed job.
    await eventually(async () => expect(await queues.drill.getDelayedCount()).toBe(3));
    // An ops engineer drills the first system now: the drill next Sunday is not a drill waiting to run.
    const now = await queues.enqueueDrill(systems[0]!.id);
    expect(now.data).toEqual({ system: systems[0]!.id });
    // The cap counts drills queued now, not the three scheduled: a second system's drill is the second of 2.
    await queues.enqueueDrill(systems[1]!.id);
    await expect(queues.enqueueDrill(systems[2]!.id)).rejects.toMatchObject({ code: 'SW_ERR_JOBS_DRILL_QUEUE_FULL' });
    // The drill asked now still blocks a second one of the same system.
    await expect(queues.enqueueDrill(systems[0]!.id)).rejects.toMatchObject({ code: 'SW_ERR_JOBS_DRILL_PENDING' });
  });

  it('refuses a drill beyond the city-wide cap of queued drills, naming the cap', async () => {
    const { queues } = queuesFor(inject('redisUrl'), undefined, 100, 2);
    await queues.enqueueDrill(systemId());
    await queues.enqueueDrill(systemId());
    await expect(queues.enqueueDrill(systemId())).rejects.toMatchObject({
      code: 'SW_ERR_JOBS_DRILL_QUEUE_FULL', statusCode: 409,
      message: expect.stringContaining('the restore drill queue is full: 2 drills are queued or running, at most 2 (backup.drill.maxQueued)'),
    });
    // Verification jobs are not drills: the cap does not count or refuse them.
    await queues.enqueueVerify(systemId());
  });

  it('runs a scheduled drill that comes due during a console drill of the same system and copy after it, not beside it', async () => {
    const id = systemId();
    const system = drillSystem(id, join(dir, id));
    const { queues, prefix } = queuesFor(inject('redisUrl'));
    const started: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    workersFor({
      redis: inject('redisUrl'), prefix, findSystem: () => system, drillConcurrency: 2, drillWaitMs: 200,
      drill: async (s, options) => {
        started.push(options.runId!);
        if (started.length === 1) await held; // the console drill restores for a while
        const at = new Date().toISOString();
        const site = options.site ?? 'same-city';
        return { id: `drill-${options.runId}`, kind: 'restore-drill', status: 'pass', system: s.id, department: s.department, site, startedAt: at, finishedAt: at, summary: 'ok', detail: { site } };
      },
    });
    cleanups.push(async () => release()); // before the workers close (cleanups run newest first), should the test fail
    const asked = await queues.enqueueDrill(id);
    await eventually(() => expect(started).toEqual([asked.id]));
    // What a scheduler adds when the drill comes due: a job of its own, outside the console's deduplication key, made
    // when the previous one ran (a week ago), so older than the console's.
    const scheduled = await queues.drill.add('drill', { system: id }, {
      ...queues.jobOptions, jobId: `scheduled-drill-${id}`, timestamp: Date.now() - 7 * 86_400_000,
    });
    // While it waits, it is a drill of the system that waits: no third one is taken.
    await eventually(async () => expect(await scheduled.getState()).toBe('delayed'));
    await expect(queues.enqueueDrill(id)).rejects.toMatchObject({ code: 'SW_ERR_JOBS_DRILL_PENDING' });
    // A free slot takes it, and it waits for the running drill: no second restore of the same data beside the first.
    await eventually(async () => expect(await scheduled.getState()).toBe('delayed'));
    expect(started).toEqual([asked.id]);
    release();
    await eventually(async () => expect((await queues.drill.getJob(scheduled.id!))?.finishedOn, 'scheduled drill finished').toBeTruthy());
    expect(started).toEqual([asked.id, scheduled.id]);
  });

  it('holds the city-wide cap under drills asked at the same moment, from two console processes', async () => {
    const { queues, prefix } = queuesFor(inject('redisUrl'), undefined, 100, 3);
    const other = new BackupQueues({ redis: inject('redisUrl'), prefix, maxQueuedDrills: 3 });
    cleanups.push(() => other.close());
    const asked = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => (i % 2 ? other : queues).enqueueDrill(systemId())));
    expect(asked.filter((a) => a.status === 'fulfilled')).toHaveLength(3);
    for (const refused of asked.filter((a) => a.status === 'rejected')) {
      expect((refused as PromiseRejectedResult).reason).toMatchObject({ code: 'SW_ERR_JOBS_DRILL_QUEUE_FULL', statusCode: 409 });
    }
    expect(await queues.drill.getJobCounts('wait', 'prioritized', 'delayed', 'active')).toMatchObject({ wait: 3 });
  });

  it('retries a job that could not finish, with backoff, and leaves one result', async () => {
    const id = systemId();
    const system = drillSystem(id, join(dir, id));
    const { queues, prefix } = queuesFor(inject('redisUrl'));
    let calls = 0;
    workersFor({
      redis: inject('redisUrl'), prefix, findSystem: () => system,
      verify: async (s, { runId }) => {
        calls += 1;
        if (calls === 1) throw new Error('store unreachable');
        return [fakeResult(s, runId!, 'fail')];
      },
    });
    const job = await queues.enqueueVerify(id);
    const done = await finished(queues, job.id!);
    expect(done.attemptsMade).toBe(2);
    expect(calls).toBe(2);
    expect(await resultsOf(id)).toHaveLength(1);
    expect(done.returnvalue.events).toHaveLength(1);
    // One failed check, one alert of the check-failure rule, counted once despite the retry.
    expect((await store.alerts.search({ system: [id] }, { size: 10 })).items.map((a) => [a.rule.id, a.count])).toEqual([['5fd4a0c0-9eac-5134-a7da-ee5ba969e8ce', 1]]);
  });

  it('a verify job that fails on every try ends with one failed result per site it checked, naming the last error without its password', async () => {
    const id = systemId();
    const system = drillSystem(id, join(dir, id));
    const { queues, prefix } = queuesFor(inject('redisUrl'));
    let calls = 0;
    workersFor({
      redis: inject('redisUrl'), prefix, findSystem: () => system,
      verify: async () => {
        calls += 1;
        throw new Error(`connect ECONNREFUSED sftp://backup:hunter2@192.0.2.7:22/sets?password=s3cret try ${calls}`);
      },
    });
    const job = await queues.enqueueVerify(id, { sites: ['off-site'] });
    const failed = await finished(queues, job.id!);
    expect(failed.attemptsMade).toBe(3);
    const results = await eventually(async () => {
      const stored = await resultsOf(id);
      expect(stored, 'the failed verify job recorded').toHaveLength(1);
      return stored;
    });
    expect(results[0]).toMatchObject({
      id: checkResultId(job.id!, id, 'off-site', 'presence'), kind: 'backup-check', status: 'fail', site: 'off-site',
      detail: { check: 'presence', site: 'off-site', runId: job.id },
    });
    expect(results[0]!.summary).toContain('备份核验任务未能完成');
    expect(results[0]!.summary).toContain('try 3');
    expect(JSON.stringify(results[0])).not.toMatch(/hunter2|s3cret/);
    expect(calls).toBe(3);
    // The console's matrix and the evidence see a failed verification of that copy, not nothing.
    expect((await latestBackups(store.jobResults, undefined, new Date(), [id])).get(id)?.sites['off-site']).toMatchObject({ status: 'fail', runId: job.id });
    expect(backupFacts(system, results, []).offSite).toMatchObject({ checks: 1, failed: 1, latest: { presence: 'fail' } });
    // The check-failure rule raised its alert, once.
    expect((await store.alerts.search({ system: [id] }, { size: 10 })).items.map((a) => [a.rule.id, a.count]))
      .toContainEqual(['5fd4a0c0-9eac-5134-a7da-ee5ba969e8ce', 1]);
  });

  it('fails a job for an unknown system at once instead of retrying', async () => {
    const { queues, prefix } = queuesFor(inject('redisUrl'));
    workersFor({ redis: inject('redisUrl'), prefix, findSystem: () => undefined });
    const job = await queues.enqueueVerify('no-such-system');
    const failed = await finished(queues, job.id!);
    expect(failed.attemptsMade).toBe(1);
    expect(failed.failedReason).toContain('no-such-system');
  });
});

describe('backup jobs survive crashes', () => {
  it('runs a job again after its worker is SIGKILLed mid-job, leaving exactly one result', async () => {
    const id = systemId();
    const system = drillSystem(id, join(dir, id));
    const { queues, prefix } = queuesFor(inject('redisUrl'));
    const job = await queues.enqueueVerify(id);

    const child = spawn(process.execPath, [resolve('test/backup/fixtures/held-worker.mjs'), DIST, inject('redisUrl'), prefix], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    cleanups.push(async () => void child.kill('SIGKILL'));
    const lines = createInterface({ input: child.stdout! });
    for await (const line of lines) if (line === `active ${job.id}`) break;
    await eventually(async () => expect((await queues.verify.getJob(job.id!))?.progress, 'progress from the worker').toMatchObject({ step: 'held' }));
    child.kill('SIGKILL');
    await once(child, 'exit');
    expect(await queues.verify.getActiveCount()).toBe(1); // still locked by the dead worker

    const runs: string[] = [];
    workersFor({
      redis: inject('redisUrl'), prefix, findSystem: () => system,
      verify: async (s, { runId }) => {
        runs.push(runId!);
        return [fakeResult(s, runId!)];
      },
    });
    const done = await finished(queues, job.id!);
    expect(done.returnvalue.status).toBe('pass');
    expect(runs).toEqual([job.id]);
    expect(await resultsOf(id)).toHaveLength(1);
  });

  it('a drill job whose worker is killed on every try ends with one failed drill result, not none', async () => {
    const id = systemId();
    const system = drillSystem(id, join(dir, id));
    const { queues, prefix } = queuesFor(inject('redisUrl'));
    const job = await queues.enqueueDrill(id);
    // Two tries, each SIGKILLed mid-drill (BullMQ fails a job that stalls more than once).
    for (let tries = 0; tries < 2; tries += 1) {
      const child = spawn(process.execPath, [resolve('test/backup/fixtures/held-worker.mjs'), DIST, inject('redisUrl'), prefix], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      cleanups.push(async () => void child.kill('SIGKILL'));
      for await (const line of createInterface({ input: child.stdout! })) if (line === `active ${job.id}`) break;
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
    const drills: string[] = [];
    workersFor({ redis: inject('redisUrl'), prefix, findSystem: () => system, drill: async () => { drills.push('ran'); throw new Error('not here'); } });
    const results = await eventually(async () => {
      const stored = await resultsOf(id);
      expect(stored, 'the failed drill job recorded').toHaveLength(1);
      return stored;
    });
    expect(results[0]).toMatchObject({ kind: 'restore-drill', status: 'fail', site: 'same-city', detail: { runId: job.id } });
    expect(results[0]!.summary).toContain('stalled more than allowable limit');
    expect(results[0]!.summary).toContain('恢复演练任务未能完成');
    expect(drills).toEqual([]);
    expect(await (await queues.drill.getJob(job.id!))!.getState()).toBe('failed');
    // The failed job no longer holds the system's place: a new drill is accepted.
    expect((await queues.enqueueDrill(id)).id).not.toBe(job.id);
    // The drill rule raised its alert, once.
    expect((await store.alerts.search({ system: [id] }, { size: 10 })).items.map((a) => [a.rule.id, a.count])).toContainEqual(['268498ad-97ff-5b1f-9c38-73cddcd1ac9b', 1]);
  });

  it('a verify job whose worker is killed on every try ends with failed results for both sites, not none', async () => {
    const id = systemId();
    const system = drillSystem(id, join(dir, id));
    const { queues, prefix } = queuesFor(inject('redisUrl'));
    const job = await queues.enqueueVerify(id);
    for (let tries = 0; tries < 2; tries += 1) {
      const child = spawn(process.execPath, [resolve('test/backup/fixtures/held-worker.mjs'), DIST, inject('redisUrl'), prefix], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      cleanups.push(async () => void child.kill('SIGKILL'));
      for await (const line of createInterface({ input: child.stdout! })) if (line === `active ${job.id}`) break;
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
    const runs: string[] = [];
    workersFor({ redis: inject('redisUrl'), prefix, findSystem: () => system, verify: async () => { runs.push('ran'); throw new Error('not here'); } });
    const results = await eventually(async () => {
      const stored = await resultsOf(id);
      expect(stored, 'the failed verify job recorded').toHaveLength(2);
      return stored;
    });
    expect(results.map((r) => [r.site, r.status]).sort()).toEqual([['off-site', 'fail'], ['same-city', 'fail']]);
    expect(results[0]!.summary).toContain('stalled more than allowable limit');
    expect(runs).toEqual([]);
    expect(await (await queues.verify.getJob(job.id!))!.getState()).toBe('failed');
  });

  it('carries on through a Redis restart: the running job completes and new jobs run', async () => {
    const redisDir = join(dir, `redis-${randomUUID()}`);
    let redis = await startLocalRedis({ dir: redisDir });
    cleanups.push(() => redis.stop());
    const id = systemId();
    const system = drillSystem(id, join(dir, id));
    const { queues, prefix } = queuesFor(redis.url);

    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const started: string[] = [];
    workersFor({
      redis: redis.url, prefix, findSystem: () => system,
      verify: async (s, { runId }) => {
        started.push(runId!);
        if (started.length === 1) await gate;
        return [fakeResult(s, runId!)];
      },
    });
    const first = await queues.enqueueVerify(id);
    await eventually(() => expect(started, 'jobs started').toHaveLength(1));

    await redis.stop();
    redis = await startLocalRedis({ dir: redisDir, port: redis.port });
    release();

    const firstDone = await finished(queues, first.id!);
    expect(firstDone.returnvalue.status).toBe('pass');
    const second = await queues.enqueueVerify(id);
    await finished(queues, second.id!);
    const stored = await resultsOf(id);
    expect(stored.map((r) => r.detail.runId).sort()).toEqual([first.id, second.id].sort());
  });
});
