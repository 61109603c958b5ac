import { SAMPLE_EVENT_LIMIT, getField } from '../../core/index.js';
import type { CorrelationHit, RuleProblem, RuleRef, Signal } from '../types.js';
import { fieldFor, linkCorrelations, type CompiledCorrelation } from './compile.js';

/*
 * Window semantics (event time, `@timestamp`, never arrival time):
 * - Signals wait in a reorder buffer and are processed in event-time order once the watermark
 *   (the newest event time seen minus `latenessMs`) has passed them, so an out-of-order signal
 *   within the lateness gives exactly the hits the in-order stream gives. A signal older than the
 *   watermark is dropped and counted (`dropped`).
 * - Eager correlations (a count, distinct count, sum or number of rules that can only grow, tested
 *   with gt/gte) slide: at each signal at time t the window is [t − timespan, t] for its group, and
 *   the hit fires as soon as the condition holds. The hit consumes the window: the group starts
 *   afresh, so "event_count gte 5" over 12 signals in 5m fires at the 5th and the 10th.
 * - Other correlations (an upper bound such as lt/lte/eq/neq, value_avg, value_percentile) need the
 *   whole window: it opens at the group's first signal, covers [first, first + timespan] and is
 *   tested once when a later signal passes its end (or at flush()).
 * - temporal: every listed rule seen within the window; temporal_ordered: in the listed order, each
 *   strictly later than the one before (signals in the same millisecond have no order).
 * - Signals lacking a group-by field are not counted for that correlation (as `stats … by` does).
 * - A hit is a signal for the correlations that list this correlation (chaining), at its window end.
 * Memory: sliding groups hold the signals of one timespan and are evicted when it has passed;
 * closing windows keep counters and a sample (value_percentile keeps every value); the reorder
 * buffer holds `latenessMs` of signals.
 *
 * Live streams (tick(), called on a processing-time timer):
 * - Event time moves on while the stream is quiet, at the wall clock's pace from the newest event
 *   time seen (not to the wall clock itself: a source with a skewed clock, or a replay of old
 *   logs, keeps its own time). So a window needing its end closes `latenessMs` after the stream
 *   went quiet, with no later traffic.
 * - Eager correlations fire early: the buffered signals are run through a copy of the state (no
 *   window closes), and the hits found are returned at once. The probe is kept between ticks
 *   (ProbeRun): the buffer's older part runs once, only its newest part (where late signals still
 *   land) at each tick; a signal arriving before what it settled starts it afresh. In-order processing finds the same
 *   hit later and does not return it again; only a signal arriving late, inside the lateness, can
 *   make the final hit differ from the early one (both are then returned).
 * Durability: snapshot()/restore() carry every open window, the reorder buffer and the ids of
 * the signals seen within the lateness; a signal pushed again (a source replaying after a crash)
 * is ignored, so nothing counts twice.
 */

export interface CorrelatorOptions {
  /** How late (event time) a signal may arrive and still count. */
  latenessMs: number;
  /** Signals kept on a hit, oldest first. */
  sampleLimit?: number;
  /** Told about each signal dropped for arriving later than the lateness. */
  onLate?: (signal: Signal) => void;
  /** Receives the problems of linking (correlations that refer to themselves are left out). */
  problems?: RuleProblem[];
  /** The wall clock for tick(), epoch ms. */
  now?: () => number;
  /**
   * How tick() finds early hits: `incremental` (default) keeps the probe between ticks; `replay` runs the whole
   * reorder buffer through a copy of the state each time (what the incremental probe must equal; tests compare them).
   */
  earlyProbe?: 'incremental' | 'replay';
}

/**
 * The early-hit probe kept between ticks. The replay it stands for runs the buffer, in processing order, through a
 * copy of the eager state; here the buffer's older part ("settled") has run once through `base`, and only the newer
 * part (`tail`, within `slack` of the newest event time, where late signals still land) runs on a copy at each tick.
 * Positions count signals as #released counts those leaving the buffer: what left it is always a prefix of the
 * processing order (a signal younger than the watermark is never taken before an older one), so `base` at position
 * #released is the correlator's own eager state, and the settled hits from there on are the replay's first hits.
 */
interface ProbeRun {
  /** Routes only (eager correlations, no buffer, no closing): the state after the settled signals. */
  base: Correlator;
  /** The last settled signal: a signal arriving before it (in processing order) rebuilds the run. */
  last: Signal | undefined;
  /** The position of the next settled signal. */
  next: number;
  /** Hits of the settled signals, with the position of the signal that made each; `hitsHead`: the first still buffered. */
  hits: { at: number; key: string; hit: CorrelationHit }[];
  hitsHead: number;
  /** Buffered signals after `last`, in processing order. */
  tail: Signal[];
  /** Signals taken since the last tick (merged into `tail` then). */
  arrived: Signal[];
}

/**
 * Changes to the reorder buffer, the seen ids and the early hits, in order, since takeChanges() last ran: the state
 * file journals them instead of writing those lists whole (state-file.ts).
 */
export interface CorrelatorChanges {
  /** A signal taken into the buffer, or the key (rule id U+001F event id) of one that left it. */
  buffer: (Signal | string)[];
  /** Set (the value), or deleted (null). */
  seen: [string, number | null][];
  early: [string, number | null][];
}

interface Entry {
  time: number;
  signal: Signal;
  /** value_sum/avg/percentile: the number; value_count: the distinct key. */
  value: number | string;
}

interface Group {
  /** The group-by values, joined by U+001F. */
  key: string;
  entries: Entry[];
  head: number;
  newest: number;
  /** Windowed groups: signals counted (entries keep only samples). */
  count: number;
  sum: number;
  distinct: Map<string, number>;
  /** temporal: the latest signal of each listed rule. */
  latest: (Signal | undefined)[];
  /** temporal_ordered: the chain through rules[0..k] with the latest start. */
  chains: (Signal[] | undefined)[];
  /** Windowed (non-eager) groups: the window's end. */
  closesAt: number;
}

/** One correlation's per-group state. */
class CorrelationState {
  readonly groups = new Map<string, Group>();
  /** Windowed groups in the order they opened, which is the order they close. */
  readonly closing: { key: string; group: Group }[] = [];
  closingHead = 0;
  lastSweep = -Infinity;

  constructor(readonly correlation: CompiledCorrelation, readonly sampleLimit: number) {}

  snapshot(rules: SignalPacker): StateSnapshot {
    return {
      rule: this.correlation.rule.id,
      shape: shapeOf(this.correlation),
      lastSweep: Number.isFinite(this.lastSweep) ? this.lastSweep : null,
      groups: [...this.groups.values()].map((group) => ({
        key: group.key, entries: group.entries.slice(group.head).map((entry) => ({ ...entry, signal: rules.pack(entry.signal) })), newest: group.newest, count: group.count, sum: group.sum,
        distinct: [...group.distinct], latest: group.latest.map((signal) => signal ?? null),
        chains: group.chains.map((chain) => chain ?? null), closesAt: group.closesAt,
      })),
    };
  }

  restore(saved: StateSnapshot, rules: readonly unknown[] | undefined): void {
    const c = this.correlation;
    if (!Array.isArray(saved.groups)) throw new Error(`snapshot of ${c.rule.id}: groups is not a list`);
    this.lastSweep = saved.lastSweep ?? -Infinity;
    for (const g of saved.groups) {
      if (!isObject(g) || typeof g.key !== 'string' || !Array.isArray(g.entries) || !Array.isArray(g.distinct)
        || !Array.isArray(g.latest) || !Array.isArray(g.chains) || ![g.newest, g.count, g.sum, g.closesAt].every(Number.isFinite)) {
        throw new Error(`snapshot of ${c.rule.id}: a group is malformed`);
      }
      const group: Group = {
        key: g.key, head: 0, newest: g.newest, count: g.count, sum: g.sum, closesAt: g.closesAt,
        entries: g.entries.map((entry) => {
          if (!isObject(entry) || !Number.isFinite(entry.time) || !['number', 'string'].includes(typeof entry.value)) {
            throw new Error(`snapshot of ${c.rule.id}: an entry is malformed`);
          }
          return { time: entry.time, value: entry.value, signal: unpackSignal(entry.signal, rules) };
        }),
        distinct: c.type === 'value_count' ? new Map(g.distinct.map(([value, n]) => [String(value), Number(n)])) : EMPTY,
        latest: g.latest.map((signal) => (signal === null ? undefined : checkSignal(signal))),
        chains: g.chains.map((chain) => (chain === null ? undefined : (chain as unknown[]).map(checkSignal))),
      };
      this.groups.set(group.key, group);
    }
    // Windows close in the order they end (which is the order they opened, in event time).
    if (!c.eager) this.closing.push(...[...this.groups.values()].sort((a, b) => a.closesAt - b.closesAt).map((group) => ({ key: group.key, group })));
  }

  /** Processes one signal (in event-time order) for the listed rule `index`; returns an eager hit. */
  add(signal: Signal, index: number): CorrelationHit | undefined {
    const c = this.correlation;
    const t = signal.time;
    if (c.eager && t - this.lastSweep > c.timespanMs) this.#sweep(t);
    const key = groupKeyOf(c, signal);
    if (key === undefined) return undefined;
    const measured = this.#measuredValue(signal);
    if (measured === undefined) return undefined;
    let group = this.groups.get(key);
    if (!group) {
      group = {
        key, entries: [], head: 0, newest: t, count: 0, sum: 0, distinct: c.type === 'value_count' ? new Map() : EMPTY,
        latest: [], chains: [], closesAt: t + c.timespanMs,
      };
      this.groups.set(key, group);
      if (!c.eager) this.closing.push({ key, group });
    }
    group.newest = t;
    if (c.type === 'temporal') return this.#temporal(key, group, signal, index);
    if (c.type === 'temporal_ordered') return this.#ordered(key, group, signal, index);
    if (c.eager) this.#evict(group, t - c.timespanMs);
    group.count += 1;
    // A closing window needs its signals only as samples; a percentile needs every value.
    if (c.eager || c.type === 'value_percentile' || group.entries.length < this.sampleLimit) {
      group.entries.push({ time: t, signal, value: measured });
    }
    if (c.type === 'value_count') group.distinct.set(measured as string, (group.distinct.get(measured as string) ?? 0) + 1);
    else if (typeof measured === 'number') group.sum += measured;
    if (!c.eager) return undefined;
    const value = c.type === 'event_count' ? group.entries.length - group.head : c.type === 'value_count' ? group.distinct.size : group.sum;
    if (!c.test(value)) return undefined;
    this.groups.delete(key);
    return this.#hit(group, group.entries.slice(group.head).map((entry) => entry.signal), value);
  }

  /** The windowed group that closes first, if it closes before `time`. */
  nextClosing(time: number): number | undefined {
    while (this.closingHead < this.closing.length) {
      const head = this.closing[this.closingHead]!;
      if (this.groups.get(head.key) === head.group) return head.group.closesAt < time ? head.group.closesAt : undefined;
      this.closingHead += 1;
    }
    this.closing.length = 0;
    this.closingHead = 0;
    return undefined;
  }

  /** Closes the first windowed group (call after nextClosing said it is due) and tests its window. */
  closeNext(): CorrelationHit | undefined {
    const { key, group } = this.closing[this.closingHead++]!;
    if (this.closingHead > 1024 && this.closingHead * 2 > this.closing.length) {
      this.closing.splice(0, this.closingHead);
      this.closingHead = 0;
    }
    this.groups.delete(key);
    const c = this.correlation;
    const entries = group.entries;
    let value: number;
    if (c.type === 'value_count') value = group.distinct.size;
    else if (c.type === 'value_sum') value = group.sum;
    else if (c.type === 'value_avg') value = group.sum / group.count;
    else if (c.type === 'value_percentile') value = nearestRank(entries.map((entry) => entry.value as number), c.percentile);
    else value = group.count;
    if (!c.test(value)) return undefined;
    return this.#hit(group, entries.map((entry) => entry.signal), value, group.closesAt - c.timespanMs, group.newest);
  }

  #measuredValue(signal: Signal): number | string | undefined {
    const c = this.correlation;
    if (c.fields.length === 0) return 0;
    const read = (field: string) => getField(signal.event, fieldFor(c, field, signal.rule.id, signal.rule.name));
    if (c.type === 'value_count') {
      const parts = c.fields.map((field) => text(read(field)));
      return parts.includes(undefined) ? undefined : parts.join('\u001f');
    }
    const raw = read(c.fields[0]!);
    const number = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
    return Number.isFinite(number) ? number : undefined;
  }

  #temporal(key: string, group: Group, signal: Signal, index: number): CorrelationHit | undefined {
    group.latest[index] = signal;
    const from = signal.time - this.correlation.timespanMs;
    const seen = group.latest.filter((latest): latest is Signal => latest !== undefined && latest.time >= from);
    if (!this.correlation.test(seen.length)) return undefined;
    this.groups.delete(key);
    return this.#hit(group, seen.sort((a, b) => a.time - b.time), seen.length);
  }

  #ordered(key: string, group: Group, signal: Signal, index: number): CorrelationHit | undefined {
    const c = this.correlation;
    if (index === 0) group.chains[0] = [signal];
    else {
      const before = group.chains[index - 1];
      const start = before?.[0]!.time ?? -Infinity;
      // Extend only a chain that ended strictly earlier and still fits the window; keep the latest start.
      if (before && before[before.length - 1]!.time < signal.time && start >= signal.time - c.timespanMs) {
        const current = group.chains[index];
        if (!current || current[0]!.time <= start) group.chains[index] = [...before, signal];
      }
    }
    const complete = group.chains[c.rules.length - 1];
    if (!complete || complete[complete.length - 1] !== signal) return undefined;
    this.groups.delete(key);
    return this.#hit(group, complete, c.rules.length);
  }

  #hit(group: Group, signals: Signal[], value: number, windowStart?: number, windowEnd?: number): CorrelationHit {
    const c = this.correlation;
    const groupValues: Record<string, string> = {};
    const values = group.key.split('\u001f');
    c.groupBy.forEach((name, i) => (groupValues[name] = values[i]!));
    return {
      rule: c.rule,
      group: groupValues,
      windowStart: windowStart ?? signals[0]!.time,
      windowEnd: windowEnd ?? signals[signals.length - 1]!.time,
      value,
      signals: signals.length > this.sampleLimit ? signals.slice(0, this.sampleLimit) : signals,
    };
  }

  /** Drops window entries older than `from`, keeping the distinct counts and the sum in step. */
  #evict(group: Group, from: number): void {
    const entries = group.entries;
    while (group.head < entries.length && entries[group.head]!.time < from) {
      const { value } = entries[group.head++]!;
      if (typeof value === 'string') {
        const left = group.distinct.get(value)! - 1;
        if (left === 0) group.distinct.delete(value);
        else group.distinct.set(value, left);
      } else group.sum -= value;
    }
    if (group.head > 64 && group.head * 2 > entries.length) {
      entries.splice(0, group.head);
      group.head = 0;
    }
  }

  /** Forgets eager groups with nothing inside the window any more: memory stays bounded. */
  #sweep(now: number): void {
    this.lastSweep = now;
    const from = now - this.correlation.timespanMs;
    for (const [key, group] of this.groups) if (group.newest < from) this.groups.delete(key);
  }
}

/** Runs compiled correlations over a stream of signals, in event time; see the window semantics above. */
export class Correlator {
  readonly #states: CorrelationState[];
  /** Rule id or name → the correlations listing it, with its position in their list. */
  readonly #routes = new Map<string, { state: CorrelationState; index: number }[]>();
  readonly #latenessMs: number;
  readonly #onLate: ((signal: Signal) => void) | undefined;
  readonly #buffer = new SignalHeap();
  readonly #correlations: readonly CompiledCorrelation[];
  readonly #sampleLimit: number;
  readonly #now: () => number;
  #newest = -Infinity;
  #dropped = 0;
  /** The newest event time seen in a signal or event, and the wall clock then: tick() extrapolates from it. */
  #anchor: { event: number; wall: number } | undefined;
  /** Signals taken (rule id U+001F event id → event time), kept within the lateness: a replay is ignored. */
  #seen = new Map<string, number>();
  #seenPruneAt = 1024;
  /** Hits returned early by tick() (hit key → window end), not to be returned again by in-order processing. */
  #early = new Map<string, number>();
  /** Moves with every change of state: snapshots and early runs are skipped when nothing changed. */
  #version = 0;
  #speculated = -1;
  /** A probe for early hits: processes signals without closing windows. */
  #probe = false;
  /** A probe that routes to eager correlations only (the incremental probe's; see ProbeRun). */
  #eagerOnly = false;
  readonly #replayProbe: boolean;
  #run: ProbeRun | undefined;
  /** Signals taken out of the buffer by in-order processing (not flush), since the start. */
  #released = 0;
  /** How far behind the newest event time signals arrived since the last tick, and the settling margin from it. */
  #lag = 0;
  #slackMs = 0;
  /** Kept from the first takeChanges() on; undefined again after a restore or a flush (the next save is whole). */
  #changes: CorrelatorChanges | undefined;
  /** The event fields any correlation reads (group-by and measured fields, through aliases). */
  readonly #fields: string[];

  constructor(correlations: readonly CompiledCorrelation[], options: CorrelatorOptions) {
    const sampleLimit = options.sampleLimit ?? SAMPLE_EVENT_LIMIT;
    this.#correlations = correlations;
    this.#sampleLimit = sampleLimit;
    this.#now = options.now ?? Date.now;
    const linked = linkCorrelations(correlations, options.problems ?? []);
    this.#states = linked.map((correlation) => new CorrelationState(correlation, sampleLimit));
    for (const state of this.#states) {
      state.correlation.rules.forEach((ref, index) => {
        const routes = this.#routes.get(ref) ?? [];
        routes.push({ state, index });
        this.#routes.set(ref, routes);
      });
    }
    this.#latenessMs = options.latenessMs;
    this.#onLate = options.onLate;
    const fields = new Set<string>();
    for (const c of linked) {
      for (const name of [...c.groupBy, ...c.fields]) [name, ...Object.values(c.aliases[name] ?? {})].forEach((field) => fields.add(field));
    }
    this.#fields = [...fields];
    // A windowed temporal correlation (the parser refuses one today) hits inside add(): in the replay it starts empty at each tick, which a
    // probe kept between ticks cannot reproduce, so such a rule set keeps the replay.
    const windowedTemporal = this.#states.some(({ correlation: c }) => !c.eager && (c.type === 'temporal' || c.type === 'temporal_ordered'));
    this.#replayProbe = options.earlyProbe === 'replay' || windowedTemporal;
  }

  /**
   * What a correlation keeps of an event: the fields correlations read and the shouwang tags the
   * alert takes (department, system, MLPS level). Held signals and the state on disk stay small.
   */
  #slim(event: Record<string, unknown>): Record<string, unknown> {
    const slim: Record<string, unknown> = {};
    for (const field of this.#fields) {
      const value = getField(event, field);
      if (value !== undefined) slim[field] = value;
    }
    if (event.shouwang !== undefined) slim.shouwang = event.shouwang;
    return slim;
  }

  /** Signals dropped because they arrived later than the lateness allows. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Groups holding state, over all correlations: bounded by what one timespan holds. */
  get openGroups(): number {
    return this.#states.reduce((sum, state) => sum + state.groups.size, 0);
  }

  /** Whether moving event time forward may release something: buffered signals or windows to close. */
  get waiting(): boolean {
    return this.#buffer.size > 0 || this.#states.some((state) => state.closingHead < state.closing.length);
  }

  /** Signals waiting for the watermark. */
  get pending(): number {
    return this.#buffer.size;
  }

  /** Changes with every change of state (a snapshot taken at the same version is the same). */
  get version(): number {
    return this.#version;
  }

  /** Takes one signal; returns the hits that became certain (the watermark moved past them). */
  push(signal: Signal): CorrelationHit[] {
    const routed = this.#routed(signal);
    if (routed && Number.isFinite(signal.time) && signal.time >= this.#newest - this.#latenessMs) {
      const seen = `${signal.rule.id}\u001f${signal.eventId}`;
      // Replayed by a source resuming from its checkpoint: already counted (or waiting in the buffer).
      if (this.#seen.has(seen)) return [];
      this.#seen.set(seen, signal.time);
      const held = signal.from ? signal : { ...signal, event: this.#slim(signal.event) };
      this.#buffer.push(held);
      this.#version += 1;
      if (this.#changes) {
        this.#changes.seen.push([seen, signal.time]);
        this.#changes.buffer.push(held);
        // Nobody takes them (no state file journals this correlator): forget them, the next save is whole.
        if (this.#changes.buffer.length > 4 * (this.#buffer.size + this.#seen.size) + 100_000) this.#changes = undefined;
      }
      const run = this.#run;
      if (run) {
        this.#lag = Math.max(this.#lag, this.#newest - signal.time);
        run.arrived.push(held);
        // No tick for long (a replay of files, a stalled timer): the next tick starts afresh rather than hold more.
        if (run.arrived.length > 2 * this.#buffer.size + 4096) this.#run = undefined;
      }
    } else if (routed) {
      this.#dropped += 1;
      this.#onLate?.(signal);
      return [];
    }
    return Number.isFinite(signal.time) ? this.advanceTo(signal.time) : [];
  }

  /** Moves event time forward (e.g. by an event without signals) and releases what is due. */
  advanceTo(time: number): CorrelationHit[] {
    if (time > (this.#anchor?.event ?? -Infinity)) this.#anchor = { event: time, wall: this.#now() };
    return this.#advance(time);
  }

  /**
   * Processing time: event time moves on by the wall-clock time since the newest event arrived,
   * releasing what is due; then the hits of eager correlations that the buffered signals already
   * make, returned once (see "Live streams" above).
   */
  tick(): CorrelationHit[] {
    const hits = this.#anchor ? this.#advance(this.#anchor.event + Math.max(0, this.#now() - this.#anchor.wall)) : [];
    hits.push(...this.#earlyHits());
    return hits;
  }

  /** End of stream: processes everything buffered and tests every open window. */
  flush(): CorrelationHit[] {
    const hits: CorrelationHit[] = [];
    while (this.#buffer.size > 0) this.#process(this.#buffer.pop()!, hits);
    this.#closeBefore(Infinity, hits);
    this.#early.clear();
    this.#run = undefined;
    this.#changes = undefined;
    this.#version += 1;
    return hits;
  }

  #advance(time: number): CorrelationHit[] {
    if (time > this.#newest) this.#newest = time;
    const watermark = this.#newest - this.#latenessMs;
    const hits: CorrelationHit[] = [];
    const before = this.#buffer.size;
    // Strictly older than the watermark: a signal at the watermark itself may still be joined by another.
    while (this.#buffer.size > 0 && this.#buffer.peek()!.time < watermark) {
      const signal = this.#buffer.pop()!;
      this.#changes?.buffer.push(`${signal.rule.id}\u001f${signal.eventId}`);
      this.#process(signal, hits);
      this.#released += 1;
    }
    const closed = this.#closeBefore(watermark, hits);
    if (before !== this.#buffer.size || closed) {
      this.#version += 1;
      // In-order processing has passed these: an early hit it did not find again is not due any more.
      for (const [key, end] of this.#early) {
        if (end >= watermark) continue;
        this.#early.delete(key);
        this.#changes?.early.push([key, null]);
      }
    }
    if (this.#seen.size > this.#seenPruneAt) {
      for (const [key, at] of this.#seen) {
        if (at >= watermark) continue;
        this.#seen.delete(key);
        this.#changes?.seen.push([key, null]);
      }
      this.#seenPruneAt = Math.max(1024, this.#seen.size * 2);
    }
    return hits;
  }

  /** The eager hits the buffered signals make, each returned once (see "Live streams" above). */
  #earlyHits(): CorrelationHit[] {
    if (this.#buffer.size === 0) this.#run = undefined;
    if (this.#buffer.size === 0 || this.#speculated === this.#version) return [];
    this.#speculated = this.#version;
    const hits = this.#replayProbe ? this.#replayedHits() : this.#incrementalHits();
    if (hits.length > 0) this.#version += 1;
    return hits;
  }

  /** Runs the buffered signals through a copy of the state (no window closes). */
  #replayedHits(): CorrelationHit[] {
    const probe = new Correlator(this.#correlations, { latenessMs: this.#latenessMs, sampleLimit: this.#sampleLimit });
    // Windowed correlations never hit without a close: the probe needs the eager ones only.
    probe.#load({ ...this.#snapshotOf((state) => state.correlation.eager, KEEP_RULES), seen: [] });
    probe.#probe = true;
    const hits: CorrelationHit[] = [];
    while (probe.#buffer.size > 0) probe.#route(probe.#buffer.pop()!, hits);
    for (const hit of hits) this.#setEarly(hitKey(hit), hit.windowEnd);
    return hits;
  }

  #setEarly(key: string, end: number): void {
    this.#early.set(key, end);
    this.#changes?.early.push([key, end]);
  }

  /** What #replayedHits returns, from the run kept between ticks (see ProbeRun). */
  #incrementalHits(): CorrelationHit[] {
    this.#slackMs = Math.min(this.#latenessMs, Math.max(this.#slackMs * 0.99, 2 * this.#lag + 1));
    this.#lag = 0;
    let run = this.#run;
    if (run) {
      const arrived = run.arrived.sort(processingOrder);
      run.arrived = [];
      // Arrived before a settled signal: the settled state is not the replay's any more.
      if (run.last && arrived.length > 0 && !before(run.last, arrived[0]!)) run = undefined;
      else run.tail = mergeSorted(run.tail, arrived);
    }
    if (!run) run = this.#startRun();
    this.#run = run;
    // Settle the signals older than the margin, and any in-order processing has taken (base must pass them).
    const horizon = this.#newest - this.#slackMs;
    let settled = 0;
    for (const signal of run.tail) {
      if (signal.time >= horizon && run.next >= this.#released) break;
      const found: CorrelationHit[] = [];
      run.base.#route(signal, found);
      for (const hit of found) run.hits.push({ at: run.next, key: hitKey(hit), hit });
      run.last = signal;
      run.next += 1;
      settled += 1;
    }
    if (settled > 0) run.tail = run.tail.slice(settled);
    while (run.hitsHead < run.hits.length && run.hits[run.hitsHead]!.at < this.#released) run.hitsHead += 1;
    if (run.hitsHead > 1024 && run.hitsHead * 2 > run.hits.length) {
      run.hits.splice(0, run.hitsHead);
      run.hitsHead = 0;
    }
    const tailHits: CorrelationHit[] = [];
    if (run.tail.length > 0) {
      const copy = run.base.#copyEager();
      for (const signal of run.tail) copy.#route(signal, tailHits);
    }
    // As the replay's copy of #early: a hit returned early already is skipped once.
    const skipped = new Set<string>();
    const hits: CorrelationHit[] = [];
    const consider = (key: string, hit: CorrelationHit) => {
      if (this.#early.has(key) && !skipped.has(key)) skipped.add(key);
      else hits.push(hit);
    };
    for (let i = run.hitsHead; i < run.hits.length; i += 1) consider(run.hits[i]!.key, run.hits[i]!.hit);
    for (const hit of tailHits) consider(hitKey(hit), hit);
    for (const hit of hits) this.#setEarly(hitKey(hit), hit.windowEnd);
    return hits;
  }

  /** A new run: the eager state as it is, nothing settled, the whole buffer as the tail. */
  #startRun(): ProbeRun {
    const base = this.#copyEager();
    return { base, last: undefined, next: this.#released, hits: [], hitsHead: 0, tail: this.#buffer.items().sort(processingOrder), arrived: [] };
  }

  /** A correlator for probing: a copy of the eager correlations' state, routing only to them, buffering nothing. */
  #copyEager(): Correlator {
    const copy = new Correlator(this.#correlations, { latenessMs: this.#latenessMs, sampleLimit: this.#sampleLimit });
    copy.#load({ ...this.#snapshotOf((state) => state.correlation.eager, KEEP_RULES), buffer: [], seen: [], early: [] });
    copy.#probe = true;
    copy.#eagerOnly = true;
    return copy;
  }

  /** The state as plain data (JSON-safe): open windows, the reorder buffer, the signals seen. */
  snapshot(): CorrelatorSnapshot {
    return this.#snapshotOf();
  }

  /** snapshot() with the buffer, the seen ids and the early hits left empty: the state file journals those. */
  snapshotHead(): CorrelatorSnapshot {
    return this.#snapshotOf(undefined, new RuleTable(), false);
  }

  /**
   * The changes to the buffer, the seen ids and the early hits since the last call; undefined when they were not
   * kept (the first call, or after a restore or a flush): then only a whole snapshot, taken now, is a base for the next.
   */
  takeChanges(): CorrelatorChanges | undefined {
    const changes = this.#changes;
    this.#changes = { buffer: [], seen: [], early: [] };
    return changes;
  }

  /** `packer`: a rules table for a snapshot that is written out; the in-memory probe keeps the signals as they are. */
  #snapshotOf(only?: (state: CorrelationState) => boolean, packer: SignalPacker = new RuleTable(), lists = true): CorrelatorSnapshot {
    const buffer = lists ? this.#buffer.items().map((signal) => packer.pack(signal)) : [];
    const correlations = this.#states.filter((state) => !only || only(state)).map((state) => state.snapshot(packer));
    return {
      version: 2,
      newest: Number.isFinite(this.#newest) ? this.#newest : null,
      dropped: this.#dropped,
      ...(packer instanceof RuleTable ? { rules: packer.rules } : {}),
      buffer,
      seen: lists ? [...this.#seen] : [],
      early: lists ? [...this.#early] : [],
      correlations,
    };
  }

  /**
   * Takes back a snapshot into a new correlator (of this rule set or an older one: state of a
   * correlation that is gone or changed is left out). Data of the wrong shape throws and changes
   * nothing. The wall-clock time the process was down does not count as event time.
   */
  restore(snapshot: unknown): void {
    new Correlator(this.#correlations, { latenessMs: this.#latenessMs, sampleLimit: this.#sampleLimit }).#load(snapshot);
    this.#load(snapshot);
  }

  #load(snapshot: unknown): void {
    const data = snapshot as CorrelatorSnapshot;
    // Version 1 wrote each signal's rule whole; it is still read after an upgrade.
    if (!isObject(data) || (data.version !== 1 && data.version !== 2) || !Array.isArray(data.buffer) || !Array.isArray(data.seen)
      || !Array.isArray(data.early) || !Array.isArray(data.correlations) || (data.rules !== undefined && !Array.isArray(data.rules))) {
      throw new Error('not a correlation state snapshot (version 1 or 2)');
    }
    if (data.newest !== null && !Number.isFinite(data.newest)) throw new Error('snapshot: newest is not a time');
    this.#run = undefined;
    this.#changes = undefined;
    this.#newest = data.newest ?? -Infinity;
    this.#dropped = Number.isFinite(data.dropped) ? data.dropped : 0;
    if (data.newest !== null) this.#anchor = { event: data.newest, wall: this.#now() };
    for (const signal of data.buffer) this.#buffer.push(unpackSignal(signal, data.rules));
    this.#seen = new Map(data.seen.map(([key, at]) => [String(key), Number(at)]));
    this.#early = new Map(data.early.map(([key, end]) => [String(key), Number(end)]));
    const byRule = new Map(data.correlations.map((state) => [state?.rule, state]));
    for (const state of this.#states) {
      const saved = byRule.get(state.correlation.rule.id);
      if (saved && saved.shape === shapeOf(state.correlation)) state.restore(saved, data.rules);
    }
    this.#version += 1;
  }

  #routed(signal: Pick<Signal, 'rule'>): boolean {
    return this.#routes.has(signal.rule.id) || (signal.rule.name !== undefined && this.#routes.has(signal.rule.name));
  }

  #process(signal: Signal, hits: CorrelationHit[]): void {
    this.#closeBefore(signal.time, hits);
    this.#route(signal, hits);
  }

  #route(signal: Signal, hits: CorrelationHit[]): void {
    const byId = this.#routes.get(signal.rule.id);
    const byName = signal.rule.name !== undefined && signal.rule.name !== signal.rule.id ? this.#routes.get(signal.rule.name) : undefined;
    for (const routes of [byId, byName]) {
      if (!routes) continue;
      for (const { state, index } of routes) {
        if (this.#eagerOnly && !state.correlation.eager) continue;
        const hit = state.add(signal, index);
        if (hit) this.#emit(hit, hits);
      }
    }
  }

  /** Closes windowed groups ending before `time`, earliest first, so chained input stays in order. */
  #closeBefore(time: number, hits: CorrelationHit[]): boolean {
    if (this.#probe) return false;
    let closed = false;
    for (;;) {
      let first: CorrelationState | undefined;
      let firstAt = Infinity;
      for (const state of this.#states) {
        const at = state.nextClosing(time);
        if (at !== undefined && at < firstAt) [first, firstAt] = [state, at];
      }
      if (!first) return closed;
      closed = true;
      const hit = first.closeNext();
      if (!hit) continue;
      this.#emit(hit, hits, firstAt);
      // A windowed hit feeding another correlation: the eager state moved in a way the probe run did not follow.
      if (this.#routed(hit)) this.#run = undefined;
    }
  }

  #emit(hit: CorrelationHit, hits: CorrelationHit[], at = hit.windowEnd): void {
    // Returned early by tick() already; it still feeds the correlations chained to it.
    const key = this.#early.size === 0 ? undefined : hitKey(hit);
    if (key !== undefined && this.#early.delete(key)) this.#changes?.early.push([key, null]);
    else hits.push(hit);
    if (!this.#routed(hit)) return;
    const derived: Signal = {
      rule: hit.rule,
      eventId: `${hit.rule.id}@${hit.windowStart}/${Object.values(hit.group).join('\u001f')}`,
      time: at,
      event: { shouwang: hit.signals[0]?.event.shouwang, ...hit.group },
      from: hit,
    };
    this.#route(derived, hits);
  }
}

const EMPTY: Map<string, number> = new Map();

/** A signal's group for a correlation: its group-by values joined by U+001F; undefined when one is missing. */
export function groupKeyOf(c: CompiledCorrelation, signal: Pick<Signal, 'rule' | 'event'>): string | undefined {
  let key = '';
  for (let i = 0; i < c.groupBy.length; i += 1) {
    const value = text(getField(signal.event, fieldFor(c, c.groupBy[i]!, signal.rule.id, signal.rule.name)));
    if (value === undefined) return undefined;
    key = i === 0 ? value : `${key}\u001f${value}`;
  }
  return key;
}

/** What Correlator.snapshot() returns: plain data, JSON-safe. */
export interface CorrelatorSnapshot {
  version: 1 | 2;
  /** The newest event time seen (null: none yet). */
  newest: number | null;
  dropped: number;
  /** Version 2: the rules of the signals below, each written once; a signal names its rule by its index here. */
  rules?: RuleRef[];
  buffer: SavedSignal[];
  seen: [string, number][];
  early: [string, number][];
  correlations: StateSnapshot[];
}

interface StateSnapshot {
  rule: string;
  /** What the state depends on: a correlation whose rule changed starts afresh. */
  shape: string;
  lastSweep: number | null;
  groups: {
    key: string; entries: (Omit<Entry, 'signal'> & { signal: SavedSignal })[]; newest: number; count: number; sum: number; distinct: [string, number][];
    latest: (Signal | null)[]; chains: (Signal[] | null)[]; closesAt: number;
  }[];
}

function shapeOf(c: CompiledCorrelation): string {
  return JSON.stringify([c.type, c.timespanMs, c.groupBy, c.aliases, c.rules, c.fields, c.percentile ?? null]);
}

/** One hit, however often it is found: the correlation, its group and its window. */
function hitKey(hit: CorrelationHit): string {
  return JSON.stringify([hit.rule.id, hit.windowStart, hit.windowEnd, Object.values(hit.group)]);
}

function isObject(value: unknown): value is Record<string, never> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A signal read back from a snapshot: the fields processing relies on must be there. */
/** A signal as saved: its rule whole (version 1, and chained hits), or the index of its rule in the snapshot's rules. */
type SavedSignal = Omit<Signal, 'rule'> & { rule: RuleRef | number };

/**
 * The rules of one snapshot, each written once. A brute force keeps minutes of signals of one rule in the reorder
 * buffer: written whole, the rule's title and tags were over half of each signal on disk.
 */
interface SignalPacker {
  pack(signal: Signal): SavedSignal;
}

/** The probe's copy of the state stays in memory: its signals keep their rules. */
const KEEP_RULES: SignalPacker = { pack: (signal) => signal };

class RuleTable implements SignalPacker {
  readonly rules: RuleRef[] = [];
  /** By identity (signals of a loaded rule share its ref), then by content (refs restored or built apart). */
  readonly #byRef = new Map<RuleRef, number>();
  readonly #byContent = new Map<string, number>();

  pack(signal: Signal): SavedSignal {
    if (signal.from) return signal;
    let index = this.#byRef.get(signal.rule);
    if (index === undefined) {
      const content = JSON.stringify(signal.rule);
      index = this.#byContent.get(content);
      if (index === undefined) {
        index = this.rules.length;
        this.rules.push(signal.rule);
        this.#byContent.set(content, index);
      }
      this.#byRef.set(signal.rule, index);
    }
    return { ...signal, rule: index };
  }
}

function unpackSignal(value: unknown, rules: readonly unknown[] | undefined): Signal {
  const saved = value as SavedSignal;
  if (isObject(saved) && typeof saved.rule === 'number') {
    const rule = rules?.[saved.rule];
    if (rule === undefined) throw new Error('snapshot: a signal names a rule that is not listed');
    return checkSignal({ ...saved, rule });
  }
  return checkSignal(saved);
}

function checkSignal(value: unknown): Signal {
  const signal = value as Signal;
  if (!isObject(signal) || typeof signal.eventId !== 'string' || !Number.isFinite(signal.time) || !isObject(signal.event)
    || !isObject(signal.rule) || typeof signal.rule.id !== 'string') {
    throw new Error('snapshot: a signal is malformed');
  }
  return signal;
}

/** Min-heap by (time, rule id, event id): the processing order does not depend on arrival order. */
class SignalHeap {
  readonly #items: Signal[] = [];

  get size(): number {
    return this.#items.length;
  }

  peek(): Signal | undefined {
    return this.#items[0];
  }

  /** The signals held, in no particular order. */
  items(): Signal[] {
    return [...this.#items];
  }

  push(signal: Signal): void {
    const items = this.#items;
    items.push(signal);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(items[i]!, items[parent]!)) break;
      [items[i], items[parent]] = [items[parent]!, items[i]!];
      i = parent;
    }
  }

  pop(): Signal | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (items.length === 0 || last === undefined) return top;
    items[0] = last;
    for (let i = 0; ;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < items.length && before(items[left]!, items[smallest]!)) smallest = left;
      if (right < items.length && before(items[right]!, items[smallest]!)) smallest = right;
      if (smallest === i) break;
      [items[i], items[smallest]] = [items[smallest]!, items[i]!];
      i = smallest;
    }
    return top;
  }
}

function processingOrder(a: Signal, b: Signal): number {
  return before(a, b) ? -1 : before(b, a) ? 1 : 0;
}

/** Two lists in processing order, as one. */
function mergeSorted(a: Signal[], b: Signal[]): Signal[] {
  if (b.length === 0) return a;
  if (a.length === 0) return b;
  const merged: Signal[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) merged.push(before(b[j]!, a[i]!) ? b[j++]! : a[i++]!);
  while (i < a.length) merged.push(a[i++]!);
  while (j < b.length) merged.push(b[j++]!);
  return merged;
}

function before(a: Signal, b: Signal): boolean {
  if (a.time !== b.time) return a.time < b.time;
  if (a.rule.id !== b.rule.id) return a.rule.id < b.rule.id;
  return a.eventId < b.eventId;
}

function text(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** Nearest-rank percentile: the smallest value with at least p% of the values at or below it. */
function nearestRank(values: number[], percentile: number): number {
  values.sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((percentile / 100) * values.length));
  return values[rank - 1]!;
}
