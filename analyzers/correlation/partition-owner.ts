import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import { connectRedis, type RedisTarget } from '../../core/index.js';
import type { CorrelationHit, Signal } from '../types.js';
import { Correlator } from './correlator.js';
import { decodeCheckpoint, encodeCheckpoint, type PartitionCheckpoint } from './partition-checkpoint.js';
import { partitionOf, type CorrelationUnit } from './partitioning.js';
import { streamKey } from './signal-publisher.js';

/*
 * The analyzer's side of distributed correlation.
 * - Leases: partition p belongs to whoever holds `<prefix>lease:<p>` (SET NX PX leaseMs), renewed
 *   every leaseMs/3. A renewal that finds another owner, or that has not succeeded for leaseMs,
 *   drops the partition at once (state forgotten, nothing more written for it).
 * - Checkpoints: at most every checkpointMs (and when a partition is handed back), the hits' alerts
 *   are written (the sink's flush), then
 *   `<prefix>checkpoint:<p>` gets the stream offset consumed and every unit's correlator state, in a
 *   Lua call that writes only while the lease is still ours (a fence against a paused ex-owner) and
 *   trims the stream below the offset.
 * - Takeover: members heartbeat into `<prefix>members`; each takes up to ceil(partitions / live
 *   members) partitions and hands back the extra ones (at a checkpoint). A dead member's leases expire
 *   within leaseMs of its last renewal and its heartbeat within leaseMs; the survivors look every
 *   leaseMs/3, so its partitions are taken over within about 4/3 × leaseMs (plus one batch).
 * - Exactly once: the new owner restores the checkpointed state and reads from the entry after the
 *   checkpointed offset, so each signal counts once. Hits found again after a crash between writing
 *   alerts and checkpointing carry the same alert id and window, which the alert sink counts once.
 */

export interface PartitionSink {
  /** Hits found in this partition. */
  add(hits: CorrelationHit[]): void;
  /** Resolves once every hit added is in the store; called before each checkpoint. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

export interface PartitionOwnerOptions {
  /** Where Redis is (`redis.url` or `redis.sentinels`). */
  redis: RedisTarget;
  keyPrefix: string;
  partitions: number;
  units: readonly CorrelationUnit[];
  latenessMs: number;
  leaseMs: number;
  /** One sink per owned partition: its alert ledger starts afresh at each takeover, from what the store holds. */
  openSink: (partition: number) => PartitionSink;
  /** Processing time moves windows on every this many ms (Correlator.tick); off when absent. */
  tickMs?: number;
  /** Stream entries read per partition per batch. */
  batchSize?: number;
  /**
   * A partition's state is checkpointed at most this often (and at release): the state is written whole,
   * so checkpointing every small batch would cost more than the correlating. A takeover replays at most
   * this much of the stream again (idempotent). Default 1000 ms.
   */
  checkpointMs?: number;
  /** Names this member in Redis (lease values); default host, pid and a random suffix. */
  ownerId?: string;
  now?: () => number;
  onLate?: (signal: Signal) => void;
  onProblem?: (message: string, detail: Record<string, unknown>) => void;
}

interface Owned {
  partition: number;
  offset: string;
  correlators: Map<string, Correlator>;
  sink: PartitionSink;
  /** Correlator versions at the last checkpoint, and its offset: nothing changed → no write. */
  savedVersions: string;
  savedOffset: string;
  savedAt: number;
  renewedAt: number;
  lost: boolean;
}

// Renews only a lease that is still ours.
const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
// The checkpoint is written only under our lease; entries before the offset are no longer needed.
const CHECKPOINT = `if redis.call('get', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('set', KEYS[2], ARGV[2])
redis.call('xtrim', KEYS[3], 'MINID', ARGV[3])
return 1`;

/** Owns correlation partitions through leases in Redis and runs their correlators (see above). */
export class PartitionOwner {
  readonly #options: PartitionOwnerOptions;
  readonly #ownerId: string;
  /** Leases, checkpoints, heartbeats. */
  readonly #redis: Redis;
  /** Blocking reads only, so they never hold up a renewal. */
  readonly #reader: Redis;
  readonly #owned = new Map<number, Owned>();
  readonly #units: Map<string, CorrelationUnit>;
  #renewTimer: NodeJS.Timeout | undefined;
  #loop: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  #closed = false;
  #balancedAt = -Infinity;
  #tickedAt: number;
  #wake: (() => void) | undefined;
  #consumed = 0;
  #takeovers = 0;

  constructor(options: PartitionOwnerOptions) {
    this.#options = options;
    this.#ownerId = options.ownerId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.#redis = connectRedis(options.redis, { maxRetriesPerRequest: 2, lazyConnect: true });
    this.#reader = connectRedis(options.redis, { maxRetriesPerRequest: 2, lazyConnect: true });
    this.#units = new Map(options.units.map((unit) => [unit.id, unit]));
    this.#tickedAt = this.#now();
  }

  get ownerId(): string {
    return this.#ownerId;
  }

  /** The partitions owned now, ascending. */
  get partitions(): number[] {
    return [...this.#owned.keys()].sort((a, b) => a - b);
  }

  /** Stream entries processed (signals and time marks). */
  get consumed(): number {
    return this.#consumed;
  }

  /** Partitions taken with a checkpoint another member (or an earlier run) left. */
  get takeovers(): number {
    return this.#takeovers;
  }

  async start(): Promise<void> {
    await Promise.all([this.#redis.connect(), this.#reader.connect()]);
    const renewEvery = Math.max(50, Math.floor(this.#options.leaseMs / 3));
    this.#renewTimer = setInterval(() => void this.#renew(), renewEvery);
    this.#renewTimer.unref();
    this.#loop = this.#run();
  }

  /** Checkpoints and hands back every partition (a peer takes them at once), then disconnects. Same promise twice. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#closed = true;
      clearInterval(this.#renewTimer);
      this.#wake?.();
      this.#reader.disconnect();
      await this.#loop?.catch(() => undefined);
      for (const owned of [...this.#owned.values()]) await this.#release(owned);
      await this.#redis.quit().catch(() => undefined);
    })();
    return this.#closing;
  }

  #now(): number {
    return (this.#options.now ?? Date.now)();
  }

  #key(kind: 'lease' | 'checkpoint', partition: number): string {
    return `${this.#options.keyPrefix}${kind}:${partition}`;
  }

  async #run(): Promise<void> {
    const renewEvery = Math.max(50, Math.floor(this.#options.leaseMs / 3));
    while (!this.#closed) {
      try {
        if (this.#now() - this.#balancedAt >= renewEvery) await this.#balance();
        const owned = [...this.#owned.values()].filter((o) => !o.lost);
        if (owned.length === 0) {
          await new Promise<void>((resolve) => {
            this.#wake = resolve;
            setTimeout(resolve, renewEvery).unref();
          });
          continue;
        }
        await this.#readBatch(owned, Math.min(200, renewEvery));
        if (this.#options.tickMs && this.#now() - this.#tickedAt >= this.#options.tickMs) {
          this.#tickedAt = this.#now();
          for (const o of owned) for (const correlator of o.correlators.values()) this.#hits(o, correlator.tick());
        }
        const checkpointMs = this.#options.checkpointMs ?? 1000;
        for (const o of owned) if (this.#now() - o.savedAt >= checkpointMs) await this.#checkpoint(o);
      } catch (error) {
        if (this.#closed) return;
        this.#options.onProblem?.('distributed correlation: a round failed; retrying', { err: error });
        await new Promise((resolve) => setTimeout(resolve, renewEvery).unref());
      }
    }
  }

  async #readBatch(owned: Owned[], blockMs: number): Promise<void> {
    const keys = owned.map((o) => streamKey(this.#options.keyPrefix, o.partition));
    const reply = await this.#reader.xread('COUNT', this.#options.batchSize ?? 1000, 'BLOCK', blockMs,
      'STREAMS', ...keys, ...owned.map((o) => o.offset)) as [string, [string, string[]][]][] | null;
    for (const [key, entries] of reply ?? []) {
      const o = owned[keys.indexOf(key)];
      // Dropped while we waited: what was read is the next owner's to count.
      if (!o || o.lost || this.#owned.get(o.partition) !== o) continue;
      for (const [id, fields] of entries) {
        this.#apply(o, fields);
        o.offset = id;
        this.#consumed += 1;
      }
    }
  }

  /** One stream entry: signals for units (`b`, a list of [unit, signal]) or a time mark for all (`t`). */
  #apply(o: Owned, fields: string[]): void {
    const get = (name: string) => {
      for (let i = 0; i < fields.length - 1; i += 2) if (fields[i] === name) return fields[i + 1];
      return undefined;
    };
    const mark = get('t');
    if (mark !== undefined) {
      const time = Number(mark);
      if (Number.isFinite(time)) for (const correlator of o.correlators.values()) this.#hits(o, correlator.advanceTo(time));
      return;
    }
    const list = parseList(get('b'));
    let skipped = list ? 0 : 1;
    for (const item of list ?? []) {
      const correlator = Array.isArray(item) && typeof item[0] === 'string' ? o.correlators.get(item[0]) : undefined;
      const signal = Array.isArray(item) ? checkSignal(item[1]) : undefined;
      if (correlator && signal) this.#hits(o, correlator.push(signal));
      else skipped += 1;
    }
    // A publisher with other rules, or a damaged entry: skipped, and said so.
    if (skipped > 0) this.#options.onProblem?.('distributed correlation: entry skipped (unknown unit or malformed signal)', { partition: o.partition, skipped });
  }

  #hits(o: Owned, hits: CorrelationHit[]): void {
    if (hits.length > 0) o.sink.add(hits);
  }

  async #checkpoint(o: Owned): Promise<void> {
    if (o.lost) return;
    const versions = [...o.correlators.values()].map((c) => c.version).join(',');
    if (versions === o.savedVersions && o.offset === o.savedOffset) return;
    // Alerts first: a checkpoint past a hit whose alert is not stored would lose it.
    await o.sink.flush();
    const units: PartitionCheckpoint['units'] = {};
    for (const [id, correlator] of o.correlators) units[id] = correlator.snapshot();
    const text = encodeCheckpoint({ version: 1, offset: o.offset, units });
    const ok = await this.#redis.eval(CHECKPOINT, 3, this.#key('lease', o.partition), this.#key('checkpoint', o.partition),
      streamKey(this.#options.keyPrefix, o.partition), this.#ownerId, text, o.offset);
    if (ok !== 1) return this.#drop(o, 'lease lost before the checkpoint');
    o.savedVersions = versions;
    o.savedOffset = o.offset;
    o.savedAt = this.#now();
  }

  /** Heartbeat, then take free partitions up to our share, or hand back the ones above it. */
  async #balance(): Promise<void> {
    this.#balancedAt = this.#now();
    const { partitions, leaseMs, keyPrefix } = this.#options;
    const members = `${keyPrefix}members`;
    const [seconds, micros] = await this.#redis.time();
    const now = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    const [, , live] = (await this.#redis.multi()
      .zadd(members, now, this.#ownerId)
      .zremrangebyscore(members, '-inf', now - leaseMs)
      .zcard(members)
      .exec())!.map(([error, value]) => {
      if (error) throw error;
      return value;
    }) as [unknown, unknown, number];
    const share = Math.ceil(partitions / Math.max(1, live));
    const mine = this.partitions;
    // Hand back the highest first: every member counts from its own start, so they spread out.
    for (const p of mine.slice(share).reverse()) await this.#release(this.#owned.get(p)!);
    if (mine.length >= share) return;
    const start = partitionOf(this.#ownerId, partitions);
    for (let i = 0; i < partitions && this.#owned.size < share && !this.#closed; i += 1) {
      const p = (start + i) % partitions;
      if (this.#owned.has(p)) continue;
      const taken = await this.#redis.set(this.#key('lease', p), this.#ownerId, 'PX', leaseMs, 'NX');
      if (taken === 'OK') await this.#acquire(p);
    }
  }

  async #acquire(partition: number): Promise<void> {
    const o: Owned = {
      partition, offset: '0-0', correlators: new Map(), sink: this.#options.openSink(partition),
      savedVersions: '', savedOffset: '', savedAt: this.#now(), renewedAt: this.#now(), lost: false,
    };
    // One factory: a partition reset after an unreadable checkpoint keeps the owner's clock and late-signal report.
    const fresh = () => {
      for (const unit of this.#units.values()) {
        o.correlators.set(unit.id, new Correlator(unit.correlations, {
          latenessMs: this.#options.latenessMs,
          ...(this.#options.onLate ? { onLate: this.#options.onLate } : {}),
          ...(this.#options.now ? { now: this.#options.now } : {}),
        }));
      }
    };
    fresh();
    const text = await this.#redis.get(this.#key('checkpoint', partition));
    if (text !== null) {
      try {
        const checkpoint = decodeCheckpoint(text);
        o.offset = checkpoint.offset;
        for (const [id, correlator] of o.correlators) {
          const saved = checkpoint.units[id];
          if (saved !== undefined) correlator.restore(saved);
        }
        this.#takeovers += 1;
      } catch (error) {
        // Unreadable: start empty from the oldest entry kept (alerts already stored are counted once by the sink).
        this.#options.onProblem?.('distributed correlation: checkpoint unreadable; partition starts empty', { partition, err: error });
        o.offset = '0-0';
        fresh();
      }
    }
    o.savedOffset = o.offset;
    o.savedVersions = [...o.correlators.values()].map((c) => c.version).join(',');
    this.#owned.set(partition, o);
  }

  async #renew(): Promise<void> {
    for (const o of [...this.#owned.values()]) {
      if (o.lost) continue;
      try {
        const ok = await this.#redis.eval(RENEW, 1, this.#key('lease', o.partition), this.#ownerId, this.#options.leaseMs);
        if (ok === 1) o.renewedAt = this.#now();
        else this.#drop(o, 'lease taken by another member');
      } catch (error) {
        // Redis unreachable: once the lease may have expired, a peer may own the partition.
        if (this.#now() - o.renewedAt >= this.#options.leaseMs) this.#drop(o, 'lease not renewed in time');
        else this.#options.onProblem?.('distributed correlation: lease renewal failed; retrying', { partition: o.partition, err: error });
      }
    }
  }

  /** Stops processing a partition at once: its state is forgotten; the new owner resumes from the checkpoint. */
  #drop(o: Owned, reason: string): void {
    if (o.lost) return;
    o.lost = true;
    if (this.#owned.get(o.partition) === o) this.#owned.delete(o.partition);
    this.#options.onProblem?.(`distributed correlation: partition ${o.partition} dropped: ${reason}`, { partition: o.partition });
    // Alerts already found are real (the new owner finds them again and counts them once).
    o.sink.close().catch(() => undefined);
  }

  /** Checkpoints, then hands the partition back so a peer takes it without waiting for the lease to expire. */
  async #release(o: Owned): Promise<void> {
    try {
      await this.#checkpoint(o);
      if (!o.lost) await this.#redis.eval(RELEASE, 1, this.#key('lease', o.partition), this.#ownerId);
    } finally {
      if (this.#owned.get(o.partition) === o) this.#owned.delete(o.partition);
      o.lost = true;
      await o.sink.close().catch(() => undefined);
    }
  }
}

function parseList(text: string | undefined): unknown[] | undefined {
  if (text === undefined) return undefined;
  try {
    const list = JSON.parse(text) as unknown;
    return Array.isArray(list) ? list : undefined;
  } catch {
    return undefined;
  }
}

/** A signal read from a stream entry: the fields the correlator relies on must be there. */
function checkSignal(value: unknown): Signal | undefined {
  const s = value as Signal;
  const ok = typeof s === 'object' && s !== null && typeof s.eventId === 'string' && Number.isFinite(s.time)
    && typeof s.event === 'object' && s.event !== null && typeof s.rule === 'object' && s.rule !== null && typeof s.rule.id === 'string';
  return ok ? s : undefined;
}
