import { mergeAlert, writerTime, type Alert } from '../../core/index.js';
import type { AlertStore } from '../../store/index.js';
import type { AlertContribution } from './alert-builder.js';

export interface AlertSinkOptions {
  store: Pick<AlertStore, 'upsert' | 'get'>;
  /** Contributions per store write; a full batch is written at once (default 5,000). */
  batchSize?: number;
  /**
   * Distinct alerts per store write (default 200): each is read and written whole, with its timeline, in one request
   * or transaction; a scan from thousands of addresses makes that many alerts.
   */
  maxAlerts?: number;
  /** The longest a contribution waits for its batch. */
  flushMs?: number;
  /** How late (event time) a repeat may come and still be counted, as the correlator's lateness. */
  latenessMs?: number;
  /** A timed flush failed; the batch stays pending and is retried after `flushMs`. */
  onError?: (error: unknown) => void;
  /**
   * Names this stream of contributions in the stored alert, the same across restarts (a collector process, a
   * correlation partition). With it, replay protection looks at what this writer counted, so several processes
   * raising the same alert add up; without it, at the alert's lastSeen (one writer per alert).
   */
  writer?: string;
}

export interface AlertFlushResult {
  created: number;
  updated: number;
  /** Contributions already counted (a replay) or older than the lateness allows. */
  skipped: number;
}

/** Stored alerts read at once, for the alerts of a batch this process has not counted into yet. */
const CONCURRENT_READS = 100;

/** Up to when a writer's contributions are in the stored alert. */
function floorOf(alert: Alert, writer: string | undefined): number {
  const lastSeen = Date.parse(alert.lastSeen);
  // An alert written before writers were recorded (or by a sink without one): its lastSeen, as one writer.
  if (writer === undefined || !alert.writers) return Number.isNaN(lastSeen) ? -Infinity : lastSeen;
  const at = alert.writers[writer];
  if (at === undefined) return -Infinity;
  // An entry that is no time (see writerTime): as if this writer were the only one, rather than recount a replay.
  return writerTime(at) ?? (Number.isNaN(lastSeen) ? -Infinity : lastSeen);
}

/** What the sink knows about one alert: enough to count each contribution once. */
interface LedgerEntry {
  /** Contributions at or before this time are in the store already (its lastSeen when first read). */
  floor: number;
  newest: number;
  /** Keys counted within the lateness of `newest`. */
  recent: Map<string, number>;
  pruneAt: number;
  windowEnd: number;
}

/**
 * Batches alert contributions and upserts them. The store adds counts up, so replaying the same
 * signals must not reach it twice; the sink counts each contribution key (event id, hit window)
 * once per alert:
 * - in this process, by the keys seen within the lateness of the alert's newest contribution;
 *   anything older than that is taken as a replay and skipped;
 * - for an alert this process has not seen yet, by the stored alert: contributions at or before the newest
 *   this writer counted (its lastSeen without a writer) are already counted. So re-running an ingest, or
 *   resuming after a crash, raises nothing, and another process's contributions do not hide this one's.
 * The price: an event later than the lateness, or one that was late across a restart, is not counted.
 */
export class AlertSink {
  readonly #store: Pick<AlertStore, 'upsert' | 'get'>;
  readonly #batchSize: number;
  readonly #maxAlerts: number;
  readonly #flushMs: number;
  readonly #latenessMs: number;
  readonly #onError: (error: unknown) => void;
  readonly #writer: string | undefined;
  readonly #ledger = new Map<string, LedgerEntry>();
  #pending: AlertContribution[] = [];
  /** Pending contributions per alert id. */
  readonly #pendingAlerts = new Map<string, number>();
  /** After a failed write, no new one starts before this (epoch ms), however full the batch. */
  #retryAfter = 0;
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<AlertFlushResult> | undefined;
  #closing: Promise<void> | undefined;
  #clock = -Infinity;

  constructor(options: AlertSinkOptions) {
    this.#store = options.store;
    // Many contributions, few alerts: a burst folds into a few alerts per write, and each write costs the store a read,
    // a suppression lookup and a refresh. Batches of 200 contributions wrote about every 200 matching events: 8-10% more
    // Elasticsearch CPU per event in the pipeline bench (docs/reference/benchmarks.md). A write still holds at most 200
    // alerts, as before. Alerts still reach the store within flushMs.
    this.#batchSize = options.batchSize ?? 5_000;
    this.#maxAlerts = options.maxAlerts ?? 200;
    this.#flushMs = options.flushMs ?? 1_000;
    this.#latenessMs = options.latenessMs ?? 300_000;
    this.#onError = options.onError ?? (() => undefined);
    this.#writer = options.writer;
  }

  get pending(): number {
    return this.#pending.length;
  }

  add(contribution: AlertContribution): void {
    if (this.#closing) throw new Error('AlertSink is closed');
    this.#pending.push(contribution);
    this.#tally([contribution], 1);
    if (this.#pending.length >= this.#batchSize || this.#pendingAlerts.size >= this.#maxAlerts) this.#flushSoon(0);
    else this.#flushSoon(this.#flushMs);
  }

  /** Writes everything pending; resolves when it is in the store. A failed batch stays pending. */
  async flush(): Promise<AlertFlushResult> {
    const total: AlertFlushResult = { created: 0, updated: 0, skipped: 0 };
    while (this.#flushing) await this.#flushing.catch(() => undefined);
    while (this.#pending.length > 0) {
      this.#flushing = this.#write(this.#takeBatch());
      try {
        const result = await this.#flushing;
        total.created += result.created;
        total.updated += result.updated;
        total.skipped += result.skipped;
      } finally {
        this.#flushing = undefined;
      }
    }
    return total;
  }

  /** Flushes and stops the timer; the same promise when called twice. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      clearTimeout(this.#timer);
      await this.flush();
    })();
    return this.#closing;
  }

  /** The oldest pending contributions, up to batchSize of them and maxAlerts distinct alerts. */
  #takeBatch(): AlertContribution[] {
    const alerts = new Set<string>();
    let end = 0;
    for (; end < this.#pending.length && end < this.#batchSize; end += 1) {
      const id = this.#pending[end]!.alert.id;
      if (alerts.has(id)) continue;
      if (alerts.size === this.#maxAlerts) break;
      alerts.add(id);
    }
    const batch = this.#pending.splice(0, end);
    this.#tally(batch, -1);
    return batch;
  }

  #tally(contributions: readonly AlertContribution[], delta: 1 | -1): void {
    for (const { alert } of contributions) {
      const left = (this.#pendingAlerts.get(alert.id) ?? 0) + delta;
      if (left > 0) this.#pendingAlerts.set(alert.id, left);
      else this.#pendingAlerts.delete(alert.id);
    }
  }

  #flushSoon(wantedMs: number): void {
    // A full batch after a failed write waits like any other retry: the store is likely down or overloaded.
    const delayMs = Math.max(wantedMs, this.#retryAfter - Date.now());
    if (this.#timer && delayMs > 0) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.flush().catch((error: unknown) => {
        this.#onError(error);
        // The batch stayed pending: try again later, as the collector's event sink does.
        if (this.#pending.length > 0 && !this.#closing) this.#flushSoon(this.#flushMs);
      });
    }, delayMs);
    this.#timer.unref();
  }

  async #write(batch: AlertContribution[]): Promise<AlertFlushResult> {
    try {
      await this.#loadUnknown(batch);
      const folded = new Map<string, Alert>();
      let skipped = 0;
      for (const contribution of batch) {
        if (!this.#count(contribution)) {
          skipped += 1;
          continue;
        }
        const seen = folded.get(contribution.alert.id);
        // A time outside years 1000–9999 is recorded for no writer (the contribution still counts): it would
        // otherwise become the writer's floor and hide its real contributions, or be no Date at all.
        const at = this.#writer === undefined || !(Math.abs(contribution.time) <= 8.64e15) ? undefined : new Date(contribution.time).toISOString();
        const alert = at === undefined || writerTime(at) === undefined ? contribution.alert
          : { ...contribution.alert, writers: { [this.#writer!]: at } };
        folded.set(contribution.alert.id, seen ? mergeAlert(seen, alert) : alert);
      }
      const result = folded.size > 0 ? await this.#store.upsert([...folded.values()]) : { created: 0, updated: 0 };
      this.#evict();
      return { ...result, skipped };
    } catch (error) {
      // Part of the batch may have landed: forget these alerts so the retry re-reads what the store has.
      for (const contribution of batch) this.#ledger.delete(contribution.alert.id);
      this.#pending.unshift(...batch);
      this.#tally(batch, 1);
      this.#retryAfter = Date.now() + this.#flushMs;
      throw error;
    }
  }

  /** Reads the stored state of alerts this process has not counted into yet. */
  async #loadUnknown(batch: AlertContribution[]): Promise<void> {
    const unknown = new Map<string, number>();
    for (const { alert, windowEnd } of batch) if (!this.#ledger.has(alert.id)) unknown.set(alert.id, windowEnd);
    // A slice at a time: a batch may hold thousands of alerts (a scan from as many addresses), and as many reads at
    // once filled Elasticsearch's search queue (429) and failed the batch.
    const ids = [...unknown.keys()];
    const stored: (Alert | undefined)[] = [];
    for (let i = 0; i < ids.length; i += CONCURRENT_READS) {
      stored.push(...await Promise.all(ids.slice(i, i + CONCURRENT_READS).map((id) => this.#store.get(id))));
    }
    [...unknown].forEach(([id, windowEnd], i) => {
      const alert = stored[i];
      this.#ledger.set(id, {
        floor: alert ? floorOf(alert, this.#writer) : -Infinity, newest: -Infinity, recent: new Map(), pruneAt: 64, windowEnd,
      });
    });
  }

  /** Whether a contribution is new for its alert; records it when so. */
  #count({ alert, key, time }: AlertContribution): boolean {
    const entry = this.#ledger.get(alert.id)!;
    if (time > this.#clock) this.#clock = time;
    if (time <= entry.floor || time < entry.newest - this.#latenessMs || entry.recent.has(key)) return false;
    entry.recent.set(key, time);
    if (time > entry.newest) entry.newest = time;
    if (entry.recent.size > entry.pruneAt) {
      const from = entry.newest - this.#latenessMs;
      for (const [seen, at] of entry.recent) if (at < from) entry.recent.delete(seen);
      entry.pruneAt = Math.max(64, entry.recent.size * 2);
    }
    return true;
  }

  /** Forgets alerts whose window ended longer ago than the lateness: no repeat is due for them. */
  #evict(): void {
    const before = this.#clock - this.#latenessMs;
    for (const [id, entry] of this.#ledger) if (entry.windowEnd < before) this.#ledger.delete(id);
  }
}
