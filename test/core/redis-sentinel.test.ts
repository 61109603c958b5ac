import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { connectRedis, type BusinessSystem, type JobResult } from '../../core/index.js';
import { EmbeddedStore } from '../../store/index.js';
import { checkResultId } from '../../backup/index.js';
import { BackupQueues, startBackupWorkers, type VerifyRunner } from '../../backup/jobs/index.js';
import {
  PartitionOwner, SignalPublisher, SignalRouter, compileCorrelation, correlationUnits, streamKey, type PartitionSink,
} from '../../analyzers/correlation/index.js';
import type { CorrelationHit, RuleProblem } from '../../analyzers/types.js';
import { startSentinelGroup, type SentinelGroup } from '../harness/redis-sentinel.js';
import { CLI } from '../harness/built.js';
import { eventually, eventuallyValue } from '../support/eventually.js';
import { T0, ruleDocuments, signal } from '../analyzers/correlation/rule-documents.js';

// redis.sentinels with real processes: a master, a replica and three Sentinels. The master is SIGKILLed and the
// Sentinels promote the replica; the same clients (BullMQ queues and workers, correlation owners) carry on.
// What Redis can lose: replication is asynchronous, so writes the master acknowledged but had not yet sent to the
// replica die with it. The tests wait for the replica (WAIT) before the kill, and check what Shouwang promises on
// top: replicated work survives, work sent during and after the failover runs, and correlation resumes from its
// checkpoint.

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

async function sentinelGroup(): Promise<SentinelGroup> {
  const group = await startSentinelGroup();
  cleanups.push(() => group.stop());
  return group;
}

/** Blocks until the replica holds everything the master acknowledged so far. */
async function replicated(group: SentinelGroup): Promise<void> {
  const redis = connectRedis(group.target, { lazyConnect: true });
  try {
    await redis.connect();
    expect(await redis.wait(1, 10_000)).toBe(1);
  } finally {
    redis.disconnect();
  }
}

const FAILOVER_TEST_MS = 120_000;

describe('redis.sentinels', () => {
  it('backup jobs keep running through a failover: finished jobs survive, jobs queued during and after it run once', async () => {
    const group = await sentinelGroup();
    const dir = mkdtempSync(join(tmpdir(), 'shouwang-sentinel-jobs-'));
    const store = new EmbeddedStore({ path: join(dir, 'results.db') });
    cleanups.push(async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const id = `sentinel-${randomUUID().slice(0, 8)}`;
    const system = { id, name: id, department: 'dept-a', mlpsLevel: 2, backup: { rpoHours: 24, rtoHours: 4 } } as unknown as BusinessSystem;
    const runs: string[] = [];
    // A one-result fake check: the jobs' path through Redis is under test, the checks have their own tests.
    const verify: VerifyRunner = async (_system, options) => {
      const runId = options.runId!;
      runs.push(runId);
      const at = new Date().toISOString();
      return [{
        id: checkResultId(runId, id, 'same-city', 'presence'), kind: 'backup-check', status: 'pass', system: id, department: 'dept-a',
        site: 'same-city', startedAt: at, finishedAt: at, summary: 'fake pass', detail: { check: 'presence', site: 'same-city', runId },
      } satisfies JobResult];
    };
    const prefix = `test-${randomUUID()}`;
    const queues = new BackupQueues({ redis: group.target, prefix, attempts: 5, backoffMs: 200 });
    const workers = startBackupWorkers({
      redis: group.target, prefix, store, findSystem: (s) => (s === id ? system : undefined), verify, lockDuration: 5000, stalledInterval: 2000,
    });
    cleanups.push(() => queues.close(), () => workers.close());
    const resultIds = async () => (await store.jobResults.search({ system: id }, { size: 100 })).items.map((r) => r.id).sort();
    const done = (jobId: string) => eventually(async () => {
      const job = await queues.verify.getJob(jobId);
      expect(job?.finishedOn, `job ${jobId} finished`).toBeTruthy();
      expect(job!.returnvalue).toMatchObject({ status: 'pass' });
    }, { timeout: 60_000, interval: 200 });

    const before = await queues.enqueueVerify(id);
    await done(before.id!);
    await replicated(group);
    const oldMaster = await group.killMaster();
    // Sent while the Sentinels have not chosen a new master yet: it waits, then lands on the new one.
    const during = queues.enqueueVerify(id);
    const newMaster = await group.failedOver(oldMaster);
    expect(newMaster).not.toBe(oldMaster);
    await done((await during).id!);
    const after = await queues.enqueueVerify(id);
    await done(after.id!);

    // The job finished before the kill is still finished on the new master (replicated), and did not run again.
    expect((await queues.verify.getJob(before.id!))?.finishedOn).toBeTruthy();
    const jobIds = [before.id!, (await during).id!, after.id!];
    expect([...runs].sort()).toEqual([...jobIds].sort());
    expect(await resultIds()).toEqual(jobIds.map((jobId) => checkResultId(jobId, id, 'same-city', 'presence')).sort());
  }, FAILOVER_TEST_MS);

  it('correlation goes on through a failover, and a new owner resumes from the checkpoint on the new master', async () => {
    const group = await sentinelGroup();
    const problems: RuleProblem[] = [];
    const units = correlationUnits(ruleDocuments(`
title: brute force
id: bf
correlation: {type: event_count, rules: [ssh_fail], group-by: [source.ip], timespan: 5m, condition: {gte: 3}}
`).map((doc) => compileCorrelation(doc, problems)!));
    expect(problems).toEqual([]);
    const keyPrefix = `test-${randomUUID()}:`;
    const hits: CorrelationHit[] = [];
    const problemsSeen: string[] = [];
    const sink: PartitionSink = { add: (found) => void hits.push(...found), flush: () => Promise.resolve(), close: () => Promise.resolve() };
    const owner = (name: string) => {
      const started = new PartitionOwner({
        redis: group.target, keyPrefix, partitions: 1, units, latenessMs: 60_000, leaseMs: 3000, openSink: () => sink, ownerId: name,
        onProblem: (message) => void problemsSeen.push(message),
      });
      cleanups.push(() => started.close());
      return started;
    };
    const redis = connectRedis(group.target, { maxRetriesPerRequest: null });
    cleanups.push(() => redis.quit());
    const publisher = new SignalPublisher({ redis, keyPrefix, partitions: 1, router: new SignalRouter(units, 1) });
    cleanups.push(() => publisher.close());
    const fail = (minute: number) => signal('ssh_fail', minute, { source: { ip: '203.0.113.9' } });
    const checkpointed = () => eventually(async () => {
      const [last] = await redis.xrevrange(streamKey(keyPrefix, 0), '+', '-', 'COUNT', 1);
      const checkpoint = await redis.get(`${keyPrefix}checkpoint:0`);
      expect(checkpoint && (JSON.parse(checkpoint) as { offset: string }).offset).toBe(last![0]);
    }, { timeout: 60_000, interval: 200 });

    const first = owner('owner-a');
    await first.start();
    await eventuallyValue(() => first.partitions, (p) => p.length === 1, 'the partition owned');
    publisher.add(fail(0));
    publisher.add(fail(1));
    await publisher.flush();
    await checkpointed();
    await replicated(group);
    await group.failedOver(await group.killMaster());

    // Two signals before the failover, one after: the window kept its state, one hit of three (once event time
    // has passed the window and the lateness).
    publisher.add(fail(2));
    publisher.advanceTo(T0 + 30 * 60_000);
    await publisher.flush();
    await eventually(() => expect(hits.map((hit) => [hit.rule.id, hit.value, hit.signals.length])).toEqual([['bf', 3, 3]]), { timeout: 60_000 });

    // Another process takes over from the checkpoint the first one wrote on the new master.
    publisher.add(fail(40));
    publisher.add(fail(41));
    await publisher.flush();
    await checkpointed();
    await first.close();
    const second = owner('owner-b');
    await second.start();
    await eventuallyValue(() => second.partitions, (p) => p.length === 1, 'the partition taken over', { timeout: 30_000 });
    publisher.add(fail(42));
    publisher.advanceTo(T0 + 70 * 60_000);
    await publisher.flush();
    await eventually(() => expect(hits.map((hit) => [hit.value, hit.signals.length])).toEqual([[3, 3], [3, 3]]), { timeout: 60_000 });
    expect(problemsSeen.filter((message) => message.includes('entry skipped'))).toEqual([]);
  }, FAILOVER_TEST_MS);

  it('wires the built CLI through the Sentinels: the banner names them and no password; a missing password variable stops start-up', async () => {
    const group = await sentinelGroup();
    const dataDir = mkdtempSync(join(tmpdir(), 'shouwang-sentinel-cli-'));
    cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
    const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('SHOUWANG_')));
    const env = {
      ...clean, SHOUWANG_DATA_DIR: dataDir, SHOUWANG_LOG_LEVEL: 'warn', SHOUWANG_DEMO_ENABLED: 'false',
      SHOUWANG_REDIS_SENTINELS_HOSTS: group.target.sentinels.map(({ host, port }) => `${host}:${port}`).join(','),
      SHOUWANG_REDIS_SENTINELS_NAME: group.target.name, SHOUWANG_BACKUP_QUEUE_PREFIX: `test-${randomUUID().slice(0, 8)}`,
    };
    const refused = spawnSync('node', [CLI, 'start', '--roles', 'backup'], {
      env: { ...env, SHOUWANG_REDIS_SENTINELS_PASSWORD_ENV: 'SW_TEST_NO_SUCH_VARIABLE' }, encoding: 'utf8', timeout: 60_000,
    });
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toMatch(/redis\.sentinels\.passwordEnv.*SW_TEST_NO_SUCH_VARIABLE/);

    const child = spawn('node', [CLI, 'start', '--roles', 'backup'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
    cleanups.push(async () => {
      child.kill('SIGKILL');
      await exited;
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    await eventually(() => expect(output).toMatch(/Ctrl-C/), { timeout: 60_000 });
    const sentinels = group.target.sentinels.map(({ port }) => `127.0.0.1:${port}`).join(',');
    expect(output).toContain(`Redis:           sentinel ${group.target.name} @ ${sentinels}`);
    child.kill('SIGINT');
    expect(await exited).toBe(0);
  }, FAILOVER_TEST_MS);
});
