import type { Redis } from 'ioredis';
import type { Signal } from '../types.js';
import type { SignalRouter } from './partitioning.js';

/** The stream of partition `p` under a key prefix. */
export const streamKey = (prefix: string, partition: number) => `${prefix}stream:${partition}`;

/** Signals per stream entry at most. */
const ENTRY_SIGNALS = 500;

/** A safety valve: a partition nobody consumes keeps at most about this many entries (the oldest go). */
export const STREAM_MAX_LENGTH = 100_000;

export interface SignalPublisherOptions {
  redis: Redis;
  keyPrefix: string;
  partitions: number;
  router: SignalRouter;
  /** The longest a signal waits before it is sent (flush() sends at once). */
  flushMs?: number;
  /** A timed send failed: the signals stay pending and go with the next flush. */
  onError?: (error: unknown) => void;
}

/**
 * The collector's side of distributed correlation: signals of single-event rules go to the partition
 * streams of the correlations that count them, one entry per partition per send (`b`: a JSON list of
 * [unit, signal]). With them go time marks (`t`,
 * the newest event time seen) to every partition, so windows close on event time moving on as in one
 * process, even in partitions that got no signal. At least once: a resend after a failure or a
 * crash is ignored by the correlator (it remembers the signals seen within the lateness).
 */
export class SignalPublisher {
  readonly #options: SignalPublisherOptions;
  /** Partition → [unit, signal JSON] waiting to be sent. */
  #pending = new Map<number, string[]>();
  #pendingCount = 0;
  #newest = -Infinity;
  #marked = -Infinity;
  #timer: NodeJS.Timeout | undefined;
  #sending: Promise<void> = Promise.resolve();
  #published = 0;

  constructor(options: SignalPublisherOptions) {
    this.#options = options;
  }

  /** Signals sent to Redis so far (one per partition they went to). */
  get published(): number {
    return this.#published;
  }

  /** Queues a signal for the correlations that count it; a signal no correlation counts is dropped here. */
  add(signal: Signal): void {
    for (const routed of this.#options.router.route(signal)) {
      const list = this.#pending.get(routed.partition) ?? [];
      list.push(`[${JSON.stringify(routed.unit)},${JSON.stringify(routed.signal)}]`);
      this.#pending.set(routed.partition, list);
      this.#pendingCount += 1;
    }
    this.advanceTo(signal.time);
  }

  /** Event time moved on (an event with or without signals). */
  advanceTo(time: number): void {
    if (time > this.#newest) this.#newest = time;
    if (!this.#timer && (this.#pendingCount > 0 || this.#newest > this.#marked)) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.flush().catch((error: unknown) => this.#options.onError?.(error));
      }, this.#options.flushMs ?? 50);
      this.#timer.unref();
    }
  }

  /** Sends everything queued (in order, one send at a time); resolves once Redis has it. */
  flush(): Promise<void> {
    this.#sending = this.#sending.catch(() => undefined).then(() => this.#send());
    return this.#sending;
  }

  async close(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.flush();
  }

  async #send(): Promise<void> {
    const batch = this.#pending;
    const count = this.#pendingCount;
    const newest = this.#newest;
    const mark = newest > this.#marked && Number.isFinite(newest);
    if (count === 0 && !mark) return;
    this.#pending = new Map();
    this.#pendingCount = 0;
    const { redis, keyPrefix, partitions } = this.#options;
    const pipeline = redis.pipeline();
    // One entry per partition per send (up to ENTRY_SIGNALS signals): Redis handles entries, not signals.
    for (const [partition, list] of batch) {
      for (let i = 0; i < list.length; i += ENTRY_SIGNALS) {
        pipeline.xadd(streamKey(keyPrefix, partition), 'MAXLEN', '~', STREAM_MAX_LENGTH, '*', 'b', `[${list.slice(i, i + ENTRY_SIGNALS).join(',')}]`);
      }
    }
    if (mark) for (let p = 0; p < partitions; p += 1) pipeline.xadd(streamKey(keyPrefix, p), 'MAXLEN', '~', STREAM_MAX_LENGTH, '*', 't', String(newest));
    try {
      const results = (await pipeline.exec()) ?? [];
      const failed = results.find(([error]) => error);
      if (failed) throw failed[0];
    } catch (error) {
      // Sent again with the next flush: duplicates are ignored downstream, losses are not.
      for (const [partition, list] of this.#pending) batch.set(partition, [...(batch.get(partition) ?? []), ...list]);
      this.#pending = batch;
      this.#pendingCount += count;
      throw error;
    }
    this.#published += count;
    if (mark) this.#marked = newest;
  }
}
