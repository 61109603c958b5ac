import { randomBytes, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import {
  PartitionOwner, SignalPublisher, SignalRouter, compileCorrelation, correlationUnits, streamKey, type PartitionSink,
} from '../../../analyzers/correlation/index.js';
import type { CorrelationHit, RuleProblem } from '../../../analyzers/types.js';
import { eventually, eventuallyValue } from '../../support/eventually.js';
import { ruleDocuments, signal } from './rule-documents.js';

// One partition owner in this process against real Redis: what it does with hostile stream entries,
// and when another member holds its lease.

const problems: RuleProblem[] = [];
const UNITS = correlationUnits(ruleDocuments(`
title: brute force
id: bf
correlation: {type: event_count, rules: [ssh_fail], group-by: [source.ip], timespan: 5m, condition: {gte: 3}}
`).map((doc) => compileCorrelation(doc, problems)!));

const redis = new Redis(inject('redisUrl'));
const owners: PartitionOwner[] = [];
const prefixes: string[] = [];
afterAll(async () => {
  await Promise.all(owners.map((owner) => owner.close()));
  for (const prefix of prefixes) {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
  }
  await redis.quit();
});

function setup() {
  const keyPrefix = `test-${randomUUID()}:`;
  prefixes.push(keyPrefix);
  const hits: CorrelationHit[] = [];
  const reported: string[] = [];
  const sink: PartitionSink = { add: (found) => void hits.push(...found), flush: () => Promise.resolve(), close: () => Promise.resolve() };
  const owner = new PartitionOwner({
    redis: inject('redisUrl'), keyPrefix, partitions: 1, units: UNITS, latenessMs: 60_000, leaseMs: 1000,
    openSink: () => sink, ownerId: `owner-${randomUUID()}`, onProblem: (message) => void reported.push(message),
  });
  owners.push(owner);
  const publisher = new SignalPublisher({ redis, keyPrefix, partitions: 1, router: new SignalRouter(UNITS, 1) });
  const fail = (minute: number) => signal('ssh_fail', minute, { source: { ip: '203.0.113.7' } });
  return { keyPrefix, owner, publisher, hits, reported, fail };
}

describe('partition owner', () => {
  expect(problems).toEqual([]);

  it('skips damaged stream entries, says so, and still counts the good signals around them', async () => {
    const { keyPrefix, owner, publisher, hits, reported, fail } = setup();
    await owner.start();
    await eventuallyValue(() => owner.partitions, (p) => p.length === 1, 'the partition owned');
    publisher.add(fail(0));
    await publisher.flush();
    const stream = streamKey(keyPrefix, 0);
    const deep = '{"a":'.repeat(20_000) + '1' + '}'.repeat(20_000);
    await redis.xadd(stream, '*', 'b', randomBytes(256).toString('latin1'));
    await redis.xadd(stream, '*', 'b', deep);
    await redis.xadd(stream, '*', 'b', JSON.stringify([['bf', { rule: { id: 'ssh_fail' }, eventId: 7, time: 'now', event: [] }]]));
    await redis.xadd(stream, '*', 'b', JSON.stringify([['another-department-unit', fail(0.1)]]));
    await redis.xadd(stream, '*', 'x', 'y');
    await redis.xadd(stream, '*', 't', 'not a time');
    // A good signal beside a damaged one in the same entry still counts.
    await redis.xadd(stream, '*', 'b', JSON.stringify([['bf', { ...fail(0.5), event: { 'source.ip': '203.0.113.7' } }], 'garbage']));
    publisher.add(fail(1));
    publisher.add(fail(2));
    await publisher.flush();
    await redis.xadd(stream, '*', 't', String(fail(30).time));
    // fail(0), fail(0.5), fail(1): the third makes the hit; fail(2) starts afresh.
    await eventually(() => expect(hits.map((hit) => [hit.rule.id, hit.value, hit.signals.length])).toEqual([['bf', 3, 3]]));
    expect(reported.filter((m) => m.includes('entry skipped'))).toHaveLength(6);
    // Consumed past every entry: the checkpoint's offset is the stream's last id.
    await eventually(async () => {
      const [last] = await redis.xrevrange(stream, '+', '-', 'COUNT', 1);
      expect((JSON.parse((await redis.get(`${keyPrefix}checkpoint:0`))!) as { offset: string }).offset).toBe(last![0]);
    });
  });

  it('stops at once when another member holds its lease, and cannot checkpoint any more', async () => {
    const { keyPrefix, owner, publisher, fail } = setup();
    await owner.start();
    await eventuallyValue(() => owner.partitions, (p) => p.length === 1, 'the partition owned');
    publisher.add(fail(0));
    await publisher.flush();
    const checkpoint = `${keyPrefix}checkpoint:0`;
    await eventuallyValue(() => redis.get(checkpoint), (text) => text !== null, 'a first checkpoint');
    // A peer that believes the lease expired (a long pause here) takes it.
    await redis.set(`${keyPrefix}lease:0`, 'peer', 'PX', 60_000);
    await eventuallyValue(() => owner.partitions, (p) => p.length === 0, 'the partition dropped');
    const before = await redis.get(checkpoint);
    publisher.add(fail(1));
    publisher.add(fail(2));
    await publisher.flush();
    // It does not take the partition back while the peer's lease lives, and writes nothing for it.
    await eventuallyValue(() => redis.xlen(streamKey(keyPrefix, 0)), (n) => n >= 3, 'the new signals in the stream');
    expect(owner.partitions).toEqual([]);
    expect(await redis.get(checkpoint)).toBe(before);
    expect(await redis.get(`${keyPrefix}lease:0`)).toBe('peer');
  });

  it('a checkpoint it cannot read starts the partition empty with the owner\'s own options (late signals are still reported)', async () => {
    const keyPrefix = `test-${randomUUID()}:`;
    prefixes.push(keyPrefix);
    const late: string[] = [];
    const reported: string[] = [];
    const sink: PartitionSink = { add: () => undefined, flush: () => Promise.resolve(), close: () => Promise.resolve() };
    await redis.set(`${keyPrefix}checkpoint:0`, JSON.stringify({ version: 1, offset: '0-0', units: { bf: { version: 1, tampered: true } } }));
    const owner = new PartitionOwner({
      redis: inject('redisUrl'), keyPrefix, partitions: 1, units: UNITS, latenessMs: 60_000, leaseMs: 1000,
      openSink: () => sink, ownerId: `owner-${randomUUID()}`, onProblem: (message) => void reported.push(message),
      onLate: (s) => void late.push(s.eventId),
    });
    owners.push(owner);
    const publisher = new SignalPublisher({ redis, keyPrefix, partitions: 1, router: new SignalRouter(UNITS, 1) });
    await owner.start();
    await eventuallyValue(() => owner.partitions, (p) => p.length === 1, 'the partition owned');
    expect(reported.some((m) => m.includes('checkpoint unreadable'))).toBe(true);
    publisher.add(signal('ssh_fail', 10, { source: { ip: '203.0.113.7' } }));
    await publisher.flush();
    const old = signal('ssh_fail', 0, { source: { ip: '203.0.113.7' } });
    publisher.add(old);
    await publisher.flush();
    await eventually(() => expect(late).toEqual([old.eventId]));
  });
});
