import type { Logger, ShouwangEvent } from '../core/index.js';
import { ShouwangError } from '../core/index.js';
import type { EventStore } from '../store/index.js';
import { deadLetter, type DeadLetterSink } from './dead-letter.js';
import type { IngestMetrics } from './metrics.js';
import { DiskSpool } from './spool.js';

export interface EventSinkOptions {
  store: EventStore;
  spoolDir: string;
  deadLetters: DeadLetterSink;
  /** Bound on the disk spool; past it writers wait (TCP, files) and UDP counts drops. */
  maxSpoolBytes?: number;
  batchSize?: number;
  flushIntervalMs?: number;
  /** How often a spooled backlog is offered to the store again. */
  replayIntervalMs?: number;
  /**
   * Store writes in flight at once (default 1). Acknowledgements stay in arrival order: a writer's promise
   * resolves only once its batch and every earlier one are stored or spooled, so checkpoints never skip a batch.
   */
  inFlight?: number;
  /**
   * Events held in memory (accepted, not yet stored or spooled) past which the sink is `overloaded`
   * (default 20,000): HTTP answers 503 before reading a body, UDP datagrams are spilled to the disk spool.
   */
  maxMemoryEvents?: number;
  metrics?: IngestMetrics;
  logger?: Logger;
  /** Metrics label for events without `shouwang.source` and for batches that mix sources. */
  name?: string;
  /**
   * Sees every event once it is stored or spooled, in arrival order: the stream matcher of the analyzers.
   * Writers (and so the file checkpoints) wait for a returned promise: state it saves covers the events. When it
   * rejects (that state could not be saved), the writers are refused: a file source rewinds and reads the lines
   * again rather than checkpoint past events whose correlation state is lost. A throw is only logged.
   */
  observe?: (events: readonly ShouwangEvent[]) => unknown;
}

/** What became of a writer's events besides being stored or spooled: those the store refused, now dead letters. */
export interface SinkWriteOutcome {
  deadLettered: { id: string; reason: string }[];
}

interface Pending {
  events: ShouwangEvent[];
  fromFile: boolean;
  done: (outcome: SinkWriteOutcome) => void;
  failed: (error: Error) => void;
}

/** What a dead letter keeps of an event: its original text, else the event itself (or as much as can be serialized). */
function rawOf(event: ShouwangEvent | undefined): string {
  const original = event?.event?.original;
  if (typeof original === 'string') return original;
  try {
    return JSON.stringify(event ?? {});
  } catch (error) {
    return `(not serializable: ${(error as Error).message})`;
  }
}

const isStoreDown = (error: unknown) => error instanceof ShouwangError && error.code === 'SW_ERR_STORE_UNAVAILABLE';

/**
 * Batches events to the store. When the store is down, batches go to a disk spool in order and
 * are replayed when it is back; until the spool is empty, new batches queue behind it so the
 * store sees events in arrival order. `write` resolves once its events are stored or spooled,
 * which is when a source may checkpoint. With `inFlight` > 1 several batches are offered at once and
 * may land out of order (ids make a replay idempotent); writers are still answered in arrival order.
 */
export class EventSink {
  readonly #options: Required<Omit<EventSinkOptions, 'metrics' | 'logger' | 'observe'>> & Pick<EventSinkOptions, 'metrics' | 'logger' | 'observe'>;
  readonly #spool: DiskSpool;
  #buffer: Pending[] = [];
  #buffered = 0;
  /** The in-order acknowledgement chain: each batch's writers are answered after every earlier batch's. */
  #acked: Promise<void> = Promise.resolve();
  /** Spooling and observing, one batch at a time in arrival order. */
  #handled: Promise<void> = Promise.resolve();
  readonly #slots: Slots;
  #timer: NodeJS.Timeout | undefined;
  #soon: NodeJS.Immediate | undefined;
  #replayTimer: NodeJS.Timeout;
  #replaying: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  #spoolFull = false;
  /** Events accepted by write() or spill() and not yet acknowledged: what the sink holds in memory. */
  #memory = 0;
  /** Of #memory, the events of file sources; past #fileShare they wait (whenFileRoom) and count no more against the bound. */
  #fileMemory = 0;
  readonly #fileShare: number;
  #fileRoom: { promise: Promise<void>; resolve: () => void } | undefined;
  #spillBuffer: { events: ShouwangEvent[]; done: (spooled: boolean) => void; failed: (error: Error) => void }[] = [];
  #spillBuffered = 0;
  #spillTimer: NodeJS.Timeout | undefined;
  #spilling: Promise<void> = Promise.resolve();
  #spillQueued = false;
  /** A spill append (and its observer) is running: what spill() takes meanwhile waits in #spillBuffer. */
  #spillAppending = false;
  #warnedAt = -Infinity;
  readonly #unwatch: (() => void) | undefined;

  constructor(options: EventSinkOptions) {
    this.#options = {
      maxSpoolBytes: 1 << 30, batchSize: 500, flushIntervalMs: 1000, replayIntervalMs: 5000, inFlight: 1, maxMemoryEvents: 20_000, name: 'sink', ...options,
    };
    this.#slots = new Slots(this.#options.inFlight);
    this.#fileShare = Math.max(1, Math.floor(this.#options.maxMemoryEvents / 2));
    this.#unwatch = options.metrics?.watchSink(this.#options.name, () => this.#memory);
    this.#spool = new DiskSpool(options.spoolDir, this.#options.maxSpoolBytes);
    this.#replayTimer = setInterval(() => void this.replay(), this.#options.replayIntervalMs);
    this.#replayTimer.unref();
    void this.replay(); // a backlog left by an earlier process goes first
  }

  /** True while the spool is full: UDP drops (and counts) instead of queueing without bound. */
  get saturated(): boolean {
    return this.#spoolFull;
  }

  /** Every store slot is busy and a batch waits for one: sources that can pause (TCP) should. */
  get busy(): boolean {
    return this.#slots.full;
  }

  /** Events held in memory: accepted by write() or spill() and not yet stored or spooled (and acknowledged). */
  get memoryEvents(): number {
    return this.#memory;
  }

  /**
   * At least `maxMemoryEvents` wait in memory (the store is slow, not down): sources that can refuse (HTTP)
   * refuse before reading more, and one that can neither pause nor refuse (UDP) spills to disk.
   */
  get overloaded(): boolean {
    return this.heldAgainstBound >= this.#options.maxMemoryEvents;
  }

  /**
   * What counts against `maxMemoryEvents` for the network sources: file events count up to half of it. A log file
   * waits on disk at no cost and a sender's buffers do not, so tailers catching up must not keep every TCP
   * connection paused (they did, while their chunks held the sink at its bound).
   */
  get heldAgainstBound(): number {
    return this.#memory - Math.max(0, this.#fileMemory - this.#fileShare);
  }

  /**
   * While file sources hold their share (half of `maxMemoryEvents`), a promise of the moment they hold less; undefined
   * when they may read on. A tailer waits for it before its next chunk.
   */
  whenFileRoom(): Promise<void> | undefined {
    if (this.#fileMemory < this.#fileShare) return undefined;
    if (!this.#fileRoom) {
      let resolve!: () => void;
      const promise = new Promise<void>((done) => (resolve = done));
      this.#fileRoom = { promise, resolve };
    }
    return this.#fileRoom.promise;
  }

  /** The bound of `overloaded`: what HTTP ingest counts requests it admits against. */
  get maxMemoryEvents(): number {
    return this.#options.maxMemoryEvents;
  }

  /** While busy, resolves once no batch waits for a slot; undefined when not busy. */
  whenFree(): Promise<void> | undefined {
    return this.#slots.whenFree();
  }

  /** `fromFile`: the events of a file source, which waits for `whenFileRoom` (see `heldAgainstBound`). */
  write(events: readonly ShouwangEvent[], origin: { fromFile?: boolean } = {}): Promise<SinkWriteOutcome> {
    if (this.#closing) return Promise.reject(new Error('event sink is closed'));
    if (events.length === 0) return Promise.resolve({ deadLettered: [] });
    return new Promise<SinkWriteOutcome>((done, failed) => {
      const fromFile = origin.fromFile === true;
      this.#buffer.push({ events: [...events], fromFile, done, failed });
      this.#buffered += events.length;
      this.#memory += events.length;
      if (fromFile) this.#fileMemory += events.length;
      if (this.#buffered >= this.#options.batchSize) void this.flush();
      // A free store slot takes what arrived in this turn of the event loop now, as rsyslog's queue does: waiting
      // for a full batch or the timer only adds latency. While every slot is busy, events gather into the next batch.
      // With a backlog on disk every batch is spooled behind it: then the batch and the timer keep appends few.
      else if (!this.#flushSoonIfFree()) this.#timer ??= setTimeout(() => void this.flush(), this.#options.flushIntervalMs);
    });
  }

  /**
   * Delivers everything buffered so far. Up to `inFlight` batches are offered to the store at once; what
   * follows (spooling what the store could not take, the observer, the writers' promises) runs one batch at a
   * time in arrival order, so the spool keeps the order and an acknowledgement never passes an earlier batch.
   */
  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    clearImmediate(this.#soon);
    this.#soon = undefined;
    const taken = this.#buffer;
    this.#buffer = [];
    this.#buffered = 0;
    if (taken.length === 0) return this.#acked;
    const events = taken.length === 1 ? taken[0]!.events : taken.flatMap((pending) => pending.events);
    const dead = new Map<string, string>();
    // Started now (when a slot is free), finished in order below; a rejection is handled there.
    const offered = this.#slots.run(() => this.#offer(events, dead));
    // Its slot is free again: what gathered meanwhile goes out now rather than at the timer.
    offered.catch(() => undefined).finally(() => {
      if (this.#buffered > 0 && !this.#closing) this.#flushSoonIfFree();
    });
    // Spooling and observing run one batch at a time in arrival order. What the observer returns (the analyzers saving
    // their state) may take a disk sync: the next batch is observed meanwhile, and only the writers wait for it.
    let observed: Promise<unknown> = Promise.resolve();
    const handled = this.#handled.then(async () => {
      // An event already dead-lettered (the store failed on it alone) is not spooled with the rest of its batch: replayed, it would be a second dead letter.
      for (const batch of await offered) await this.#toSpool(dead.size ? batch.filter((event) => !dead.has(event.id)) : batch);
      // Only delivered events reach the analyzers: a batch that failed comes back as a retry, and must not count twice;
      // a dead letter is not stored, so it is not analysed either.
      try {
        observed = Promise.resolve(this.#options.observe?.(dead.size ? events.filter((event) => !dead.has(event.id)) : events));
        observed.catch(() => undefined); // handled below, once the earlier batches are answered
      } catch (error) {
        // An analyzer that throws must not stop ingestion: the events are stored.
        this.#options.logger?.error({ err: error }, 'event observer failed; the events are stored');
      }
    });
    this.#handled = handled.catch(() => undefined);
    this.#acked = this.#acked.then(() => handled).then(() => observed).then(
      () => {
        for (const pending of taken) {
          const deadLettered = dead.size ? pending.events.filter((event) => dead.has(event.id)).map(({ id }) => ({ id, reason: dead.get(id)! })) : [];
          pending.done({ deadLettered });
        }
      },
      (error: unknown) => {
        for (const pending of taken) pending.failed(error as Error);
      },
    ).finally(() => {
      this.#memory -= events.length;
      for (const pending of taken) if (pending.fromFile) this.#fileMemory -= pending.events.length;
      if (this.#fileRoom && this.#fileMemory < this.#fileShare) {
        this.#fileRoom.resolve();
        this.#fileRoom = undefined;
      }
    });
    return this.#acked;
  }

  /** With a store slot free and no backlog on disk, flushes at the end of this turn of the event loop; false otherwise. */
  #flushSoonIfFree(): boolean {
    if (!this.#slots.hasFree || !this.#spool.idle) return false;
    this.#soon ??= setImmediate(() => void this.flush());
    return true;
  }

  /**
   * For a source that can neither pause nor refuse (UDP) while the sink is `overloaded`: the events go to the
   * disk spool (in batches, one append at a time) instead of waiting in memory; the replay stores them once the
   * store keeps up. They reach the observer when spooled, so possibly before earlier events still waiting for
   * the store (as reordering on the network would). Resolves true once on disk; false when the spool is full
   * too, or when `maxMemoryEvents` already wait for the next append (the disk is slower than the flood), and the
   * caller counts them dropped.
   */
  spill(events: readonly ShouwangEvent[]): Promise<boolean> {
    if (this.#closing) return Promise.reject(new Error('event sink is closed'));
    if (events.length === 0) return Promise.resolve(true);
    const bound = this.#options.maxMemoryEvents;
    // While an append runs, what waits for the next one is bounded too. Waiting is no choice for UDP (a datagram held
    // is memory all the same): past the bound it is dropped and counted, as the kernel drops what we do not read.
    if (this.#spillAppending && this.#spillBuffered > 0 && this.#spillBuffered + events.length > bound) {
      this.#warnOnce('disk slower than the UDP flood: UDP events dropped', events.length);
      return Promise.resolve(false);
    }
    return new Promise<boolean>((done, failed) => {
      this.#spillBuffer.push({ events: [...events], done, failed });
      this.#spillBuffered += events.length;
      this.#memory += events.length;
      if (this.#spillBuffered >= Math.min(this.#options.batchSize, bound)) void this.#flushSpill();
      else this.#spillTimer ??= setTimeout(() => void this.#flushSpill(), this.#options.flushIntervalMs);
    });
  }

  #flushSpill(): Promise<void> {
    clearTimeout(this.#spillTimer);
    this.#spillTimer = undefined;
    if (this.#spillQueued || this.#spillBuffer.length === 0) return this.#spilling;
    this.#spillQueued = true;
    this.#spilling = this.#spilling.then(async () => {
      // Taken when the previous append is done: what came meanwhile goes in one larger append, so the disk keeps up.
      this.#spillQueued = false;
      this.#spillAppending = true;
      clearTimeout(this.#spillTimer);
      this.#spillTimer = undefined;
      const taken = this.#spillBuffer;
      this.#spillBuffer = [];
      this.#spillBuffered = 0;
      const events = taken.flatMap((pending) => pending.events);
      let held = events.length;
      try {
        const spooled = await this.#spool.append(events);
        // On disk (or dropped): no longer held here, though the observer still reads them.
        this.#memory -= held;
        held = 0;
        this.#spoolFull = !spooled;
        this.#warnOnce(spooled ? 'store slower than arrivals: UDP events spilled to the disk spool' : 'spool full: UDP events dropped', events.length);
        if (spooled) {
          this.#countBySource('spilled', events);
          try {
            await this.#options.observe?.(events);
          } catch (error) {
            this.#options.logger?.error({ err: error }, 'event observer failed; the events are spooled');
          }
        }
        for (const pending of taken) pending.done(spooled);
      } catch (error) {
        for (const pending of taken) pending.failed(error as Error);
      } finally {
        this.#memory -= held;
        this.#spillAppending = false;
      }
    });
    return this.#spilling;
  }

  /** At most one warning a minute: a spilling or dropping UDP flood must not flood the log too. */
  #warnOnce(message: string, events: number): void {
    const now = Date.now();
    if (now - this.#warnedAt < 60_000) return;
    this.#warnedAt = now;
    this.#options.logger?.warn({ events, memoryEvents: this.#memory }, message);
  }

  /** Batches this store write could not place: the store is down, or a spooled backlog must go first. */
  async #offer(events: ShouwangEvent[], dead: Map<string, string>): Promise<ShouwangEvent[][]> {
    const unstored: ShouwangEvent[][] = [];
    for (let i = 0; i < events.length; i += this.#options.batchSize) {
      const batch = events.length <= this.#options.batchSize ? events : events.slice(i, i + this.#options.batchSize);
      if (unstored.length || !(await this.#spool.isEmpty()) || !(await this.#tryStore(batch, dead))) unstored.push(batch);
    }
    return unstored;
  }

  /**
   * False when the store is down. Any other failure is narrowed down by halves: the events the store
   * takes are stored, and one it still fails on alone becomes a dead letter, so no bad record fails its batch.
   */
  async #tryStore(batch: ShouwangEvent[], dead = new Map<string, string>()): Promise<boolean> {
    // The store answers with counts, not ids: a batch from one source is counted under it.
    const source = this.#batchSource(batch);
    const timer = this.#options.metrics?.sinkSeconds.startTimer({ source });
    try {
      const result = await this.#options.store.write(batch);
      timer?.();
      this.#count('written', source, result.written);
      this.#count('duplicate', source, result.duplicates);
      if (result.rejected.length) {
        for (const { id, reason } of result.rejected) dead.set(id, `store rejected: ${reason}`);
        const byId = new Map(batch.map((event) => [event.id, event]));
        const rejected = result.rejected.map(({ id }) => byId.get(id)).filter((event) => event !== undefined);
        await this.#options.deadLetters.write(result.rejected.map(({ id, reason }) => {
          const event = byId.get(id);
          return deadLetter(event?.shouwang?.source ?? this.#options.name, id, `store rejected: ${reason}`, rawOf(event));
        }));
        this.#countBySource('dead_letter', rejected);
      }
      return true;
    } catch (error) {
      if (isStoreDown(error)) {
        this.#options.logger?.warn({ err: error }, 'store unavailable: spooling to disk');
        return false;
      }
      timer?.();
      if (batch.length > 1) {
        const half = Math.ceil(batch.length / 2);
        // Both halves are tried even when the first finds the store down: a spooled half is replayed, and ids make that idempotent.
        const first = await this.#tryStore(batch.slice(0, half), dead);
        const second = await this.#tryStore(batch.slice(half), dead);
        return first && second;
      }
      const event = batch[0]!;
      const reason = `store failed: ${(error as Error)?.message ?? String(error)}`;
      dead.set(event.id, reason);
      this.#options.logger?.warn({ err: error, id: event.id }, 'store failed on one event: dead-lettered');
      await this.#options.deadLetters.write([deadLetter(event.shouwang?.source ?? this.#options.name, String(event.id ?? ''), reason, rawOf(event))]);
      this.#countBySource('dead_letter', batch);
      return true;
    }
  }

  async #toSpool(batch: ShouwangEvent[]): Promise<void> {
    if (batch.length === 0) return;
    // A full spool holds the writer here until replay frees room: that is the backpressure. Each try re-reads the oldest
    // segment (up to 16 MiB): while a replay frees no room (the store refuses, or the replay fails, e.g. on a full
    // dead-letter disk), the pause doubles up to the replay interval.
    for (let pause = 200; !(await this.#spool.append(batch));) {
      this.#spoolFull = true;
      await new Promise((resolve) => setTimeout(resolve, pause));
      await this.replay();
      pause = this.#spoolFull ? Math.min(pause * 2, Math.max(200, this.#options.replayIntervalMs)) : 200;
    }
    this.#spoolFull = false;
    this.#countBySource('spooled', batch);
  }

  /**
   * Offers the spooled backlog to the store, oldest segment first, through the store slots (a slow store gets as
   * many bulks at once as without a backlog); stops at the first refusal. A segment is removed once all of it is
   * stored or dead-lettered. After a refusal part-way it keeps only the rest: a retry sends the stored part again
   * no more, and writes no second dead letter for an event (or a torn line) already dead-lettered.
   */
  replay(): Promise<void> {
    this.#replaying ??= (async () => {
      try {
        for (let segment = await this.#spool.oldest(); segment; segment = await this.#spool.oldest()) {
          // Lines that are not events any more (a torn last append, damage) become dead letters instead of blocking the spool.
          if (segment.damaged.length) {
            await this.#options.deadLetters.write(segment.damaged.map(({ line, reason }) => deadLetter(this.#options.name, `spool:${segment.name}`, reason, line)));
            this.#count('dead_letter', this.#options.name, segment.damaged.length);
          }
          const slices: ShouwangEvent[][] = [];
          for (let i = 0; i < segment.events.length; i += this.#options.batchSize) slices.push(segment.events.slice(i, i + this.#options.batchSize));
          const dead = new Map<string, string>();
          // The first alone: a store still down is asked once, not once per slice.
          const stored = slices.length ? [await this.#slots.run(() => this.#tryStore(slices[0]!, dead))] : [];
          if (stored[0]) {
            // Settled, not Promise.all: a slice that rejects must not end this replay while the others are still in flight,
            // or the next replay of the same segment would start beside them.
            const rest = await Promise.allSettled(slices.slice(1).map((slice) => this.#slots.run(() => this.#tryStore(slice, dead))));
            for (const result of rest) {
              if (result.status === 'rejected') throw result.reason;
              stored.push(result.value);
            }
          }
          const left = slices.filter((_, i) => !stored[i]).flat().filter((event) => !dead.has(event.id));
          // The store is down: nothing to rewrite. (An empty segment, a crash between open and write, is removed below.)
          if (segment.events.length && left.length === segment.events.length && !segment.damaged.length) return;
          await this.#spool.keep(segment.name, left);
          // Room again: sources that stopped at a full spool (UDP drops, HTTP 503, file tailers) go on.
          this.#spoolFull = false;
          const kept = new Set(left);
          this.#countBySource('replayed', kept.size ? segment.events.filter((event) => !kept.has(event)) : segment.events);
          if (left.length) return;
        }
      } catch (error) {
        this.#options.logger?.error({ err: error }, 'spool replay failed');
      } finally {
        this.#replaying = undefined;
        // Writes made while a backlog was on disk (or before the spool was read, at start) waited behind it: with the
        // spool empty now, they go at once instead of at the flush timer.
        if (this.#buffered > 0 && !this.#closing) this.#flushSoonIfFree();
      }
    })();
    return this.#replaying;
  }

  async spooledBytes(): Promise<number> {
    return this.#spool.bytes();
  }

  /** The source every event of the batch came from, or the sink's name for a mixed batch. */
  #batchSource(batch: readonly ShouwangEvent[]): string {
    const first = batch[0]?.shouwang?.source;
    return first !== undefined && batch.every((event) => event.shouwang?.source === first) ? first : this.#options.name;
  }

  #count(outcome: string, source: string, n: number): void {
    if (n > 0) this.#options.metrics?.lines.inc({ source, outcome }, n);
  }

  #countBySource(outcome: string, events: readonly ShouwangEvent[]): void {
    if (!this.#options.metrics) return;
    const bySource = new Map<string, number>();
    for (const event of events) {
      const source = event.shouwang?.source ?? this.#options.name;
      bySource.set(source, (bySource.get(source) ?? 0) + 1);
    }
    for (const [source, n] of bySource) this.#count(outcome, source, n);
  }

  /** Delivers what is buffered (to the store or the spool), then stops the replay timer. Safe twice. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await Promise.all([this.flush(), this.#flushSpill()]);
      clearInterval(this.#replayTimer);
      await this.#replaying;
      this.#unwatch?.(); // a closed sink is neither held nor reported by the metrics
    })();
    return this.#closing;
  }
}

/** At most `size` tasks at once, started in the order asked (FIFO). */
class Slots {
  readonly #size: number;
  #busy = 0;
  readonly #waiting: (() => void)[] = [];
  #free: { promise: Promise<void>; resolve: () => void } | undefined;

  constructor(size: number) {
    this.#size = Math.max(1, size);
  }

  /** A task asked now would start at once. */
  get hasFree(): boolean {
    return this.#busy < this.#size;
  }

  /** Every slot taken and a task waiting for one. */
  get full(): boolean {
    return this.#waiting.length > 0;
  }

  whenFree(): Promise<void> | undefined {
    if (!this.full) return undefined;
    if (!this.#free) {
      let resolve!: () => void;
      const promise = new Promise<void>((done) => (resolve = done));
      this.#free = { promise, resolve };
    }
    return this.#free.promise;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#busy >= this.#size) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    else this.#busy += 1;
    try {
      return await task();
    } finally {
      // The slot passes straight to the next waiter, so a late caller cannot overtake it.
      const next = this.#waiting.shift();
      if (next) next();
      else this.#busy -= 1;
      if (this.#waiting.length === 0 && this.#free) {
        this.#free.resolve();
        this.#free = undefined;
      }
    }
  }
}
