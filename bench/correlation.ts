import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { stringify } from 'yaml';
import { startLocalRedis } from '../core/index.js';
import {
  Correlator, PartitionOwner, SignalPublisher, SignalRouter, compileCorrelation, correlationUnits, parseRuleText,
  type CompiledCorrelation, type Signal,
} from '../analyzers/index.js';
import { median } from './measure.js';

const SIGNALS = 40_000;
const PARTITIONS = 16;
const T0 = Date.parse('2026-11-26T01:00:00Z');

function correlation(id: string, body: Record<string, unknown>): CompiledCorrelation {
  const [doc] = parseRuleText(stringify({ title: id, id, level: 'high', correlation: body }), 'bench').documents;
  return compileCorrelation(doc!)!;
}

const CORRELATIONS = [
  correlation('bf', { type: 'event_count', rules: ['ssh_fail'], 'group-by': ['source.ip'], timespan: '5m', condition: { gte: 10 } }),
  correlation('spray', { type: 'value_count', rules: ['ssh_fail'], 'group-by': ['source.ip'], timespan: '10m', condition: { field: 'user.name', gte: 5 } }),
];

/** Failed logins from 500 addresses, 20 per second of event time, in order. */
const STREAM: Signal[] = Array.from({ length: SIGNALS }, (_, i) => ({
  rule: { id: 'ssh_fail', title: 'ssh failure', level: 'low', tags: [] },
  eventId: `ev-${i}`,
  time: T0 + i * 50,
  event: { 'source.ip': `10.${(i * 7) % 500 >> 8}.${(i * 7) % 500 & 255}.1`, 'user.name': `u${i % 13}`, shouwang: { system: 'bench' } },
}));

/**
 * Correlation: signals/s through one in-process Correlator (the baseline), against the distributed path:
 * a publisher sending them to 16 Redis streams and partition owners (1, then 2, in this process) reading,
 * correlating and checkpointing them, from the first send until every entry sent is consumed.
 */
export async function benchCorrelation(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'shouwang-bench-correlation-'));
  const envRedis = process.env.SHOUWANG_TEST_REDIS_URL ?? process.env.SHOUWANG_REDIS_URL;
  const local = envRedis ? undefined : await startLocalRedis({ dir: join(dir, 'redis') });
  const redisUrl = envRedis ?? local!.url;
  const redis = new Redis(redisUrl);
  const units = correlationUnits(CORRELATIONS);
  const prefixes: string[] = [];

  /** Seconds from the first send until the owners have read every entry sent (signals and time marks). */
  const distributed = async (owners: number): Promise<number> => {
    const keyPrefix = `bench-${randomUUID()}:`;
    prefixes.push(keyPrefix);
    const running = Array.from({ length: owners }, () => new PartitionOwner({
      redis: redisUrl, keyPrefix, partitions: PARTITIONS, units, latenessMs: 60_000, leaseMs: 5000, batchSize: 2000,
      openSink: () => ({ add: () => undefined, flush: () => Promise.resolve(), close: () => Promise.resolve() }),
    }));
    await Promise.all(running.map((owner) => owner.start()));
    while (running.reduce((n, owner) => n + owner.partitions.length, 0) < PARTITIONS) await delay(20);
    const publisher = new SignalPublisher({ redis, keyPrefix, partitions: PARTITIONS, router: new SignalRouter(units, PARTITIONS) });
    const started = performance.now();
    for (let i = 0; i < STREAM.length; i += 500) {
      for (const signal of STREAM.slice(i, i + 500)) publisher.add(signal);
      await publisher.flush();
    }
    let sent = 0;
    for (let p = 0; p < PARTITIONS; p += 1) {
      const info = await redis.xinfo('STREAM', `${keyPrefix}stream:${p}`) as unknown[];
      sent += Number(info[info.indexOf('entries-added') + 1]);
    }
    while (running.reduce((n, owner) => n + owner.consumed, 0) < sent) await delay(2);
    const seconds = (performance.now() - started) / 1000;
    await Promise.all(running.map((owner) => owner.close()));
    return seconds;
  };
  const inProcess = (): Promise<number> => {
    const started = performance.now();
    const correlator = new Correlator(CORRELATIONS, { latenessMs: 60_000 });
    for (const signal of STREAM) correlator.push(signal);
    correlator.flush();
    return Promise.resolve((performance.now() - started) / 1000);
  };

  try {
    const variants: Record<string, () => Promise<number>> = {
      'in process (one Correlator)': inProcess,
      'through Redis, 1 partition owner': () => distributed(1),
      'through Redis, 2 partition owners': () => distributed(2),
    };
    const samples: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((name) => [name, []]));
    for (let round = 0; round < 3; round += 1) {
      for (const [name, run] of Object.entries(variants)) samples[name]!.push(STREAM.length / await run());
    }
    const baseline = median(samples['in process (one Correlator)']!);
    console.log(`\ncorrelation: ${SIGNALS.toLocaleString('en-US')} signals, 2 correlations by source.ip, ${PARTITIONS} partitions, owners in this process (median of 3 rounds)`);
    for (const [name, values] of Object.entries(samples)) {
      const value = median(values);
      const ratio = value === baseline ? 'baseline' : `${(value / baseline).toFixed(2)}× baseline`;
      console.log(`  ${name.padEnd(42)} ${Math.round(value).toLocaleString('en-US').padStart(12)} signals/s  ${ratio}`);
    }
  } finally {
    for (const prefix of prefixes) {
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
    }
    await redis.quit();
    await local?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
