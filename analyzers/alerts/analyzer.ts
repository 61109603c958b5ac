import { Correlator, type CompiledCorrelation } from '../correlation/index.js';
import type { CorrelationHit, RuleProblem, RuleRef, Signal } from '../types.js';
import type { AlertBuilder } from './alert-builder.js';
import type { AlertSink } from './alert-sink.js';

/** The compiled single-event rule set (the Sigma engine): which rules an event matches. */
export interface SignalMatcher {
  matchSignals(event: Record<string, unknown>, eventId: string): Signal[];
}

export interface AnalyzerOptions {
  rules: SignalMatcher;
  correlations: readonly CompiledCorrelation[];
  builder: AlertBuilder;
  sink: AlertSink;
  /** How late (event time) a signal may arrive and still be correlated. */
  latenessMs: number;
  onLate?: (signal: Signal) => void;
  /** Receives problems found when linking the correlations (self-references are left out). */
  problems?: RuleProblem[];
  /** The wall clock for tick(), epoch ms. */
  now?: () => number;
  /** Distributed correlation: signals and event time go here (to Redis) instead of this process's correlator. */
  forward?: SignalForward;
}

/** Where signals go when correlation runs in other processes (SignalPublisher). */
export interface SignalForward {
  add(signal: Signal): void;
  advanceTo(time: number): void;
}

/**
 * Events → signals → alerts. As Sigma specifies (`generate`), a rule that a correlation refers to
 * alerts only through that correlation, unless a correlation referring to it says `generate: true`;
 * the same holds for a correlation that another correlation refers to (a chain alerts at its end).
 */
export class Analyzer {
  readonly #rules: SignalMatcher;
  readonly #correlator: Correlator;
  readonly #builder: AlertBuilder;
  readonly #sink: AlertSink;
  readonly #silent: Set<string>;
  readonly #forward: SignalForward | undefined;

  constructor(options: AnalyzerOptions) {
    this.#rules = options.rules;
    this.#forward = options.forward;
    this.#builder = options.builder;
    this.#sink = options.sink;
    this.#correlator = new Correlator(options.correlations, {
      latenessMs: options.latenessMs,
      ...(options.onLate ? { onLate: options.onLate } : {}),
      ...(options.problems ? { problems: options.problems } : {}),
      ...(options.now ? { now: options.now } : {}),
    });
    this.#silent = correlationOnlyRules(options.correlations);
  }

  get correlator(): Correlator {
    return this.#correlator;
  }

  /** Runs one event through the rules; its alerts go to the sink. Returns the signals it raised. */
  analyze(event: Record<string, unknown>, eventId: string): Signal[] {
    const signals = this.#rules.matchSignals(event, eventId);
    if (this.#forward) return this.#forwardSignals(event, signals);
    if (signals.length === 0 && this.#correlator.waiting) {
      // Events without signals still move event time on, so correlations do not wait for the next signal.
      const time = Date.parse(String(event['@timestamp']));
      if (Number.isFinite(time)) this.advanceTo(time);
    }
    for (const signal of signals) {
      if (!this.#isSilent(signal.rule)) this.#sink.add(this.#builder.fromSignal(signal));
      this.#alertHits(this.#correlator.push(signal));
    }
    return signals;
  }

  #forwardSignals(event: Record<string, unknown>, signals: Signal[]): Signal[] {
    if (signals.length === 0) {
      const time = Date.parse(String(event['@timestamp']));
      if (Number.isFinite(time)) this.#forward!.advanceTo(time);
    }
    for (const signal of signals) {
      if (!this.#isSilent(signal.rule)) this.#sink.add(this.#builder.fromSignal(signal));
      this.#forward!.add(signal);
    }
    return signals;
  }

  /** Event time moved on without signals (a quiet live stream): releases correlations that are due. */
  advanceTo(time: number): void {
    this.#alertHits(this.#correlator.advanceTo(time));
  }

  /** Processing time (a live stream's timer): windows due by the wall clock close, eager hits alert early. */
  tick(): void {
    this.#alertHits(this.#correlator.tick());
  }

  /** End of input: tests every open correlation window and writes all alerts. */
  async flush(): Promise<void> {
    this.#alertHits(this.#correlator.flush());
    await this.#sink.flush();
  }

  #alertHits(hits: CorrelationHit[]): void {
    for (const hit of hits) if (!this.#isSilent(hit.rule)) this.#sink.add(this.#builder.fromHit(hit));
  }

  #isSilent(rule: RuleRef): boolean {
    return this.#silent.has(rule.id) || (rule.name !== undefined && this.#silent.has(rule.name));
  }
}

/** Rule ids and names that alert only through the correlations referring to them. */
export function correlationOnlyRules(correlations: readonly CompiledCorrelation[]): Set<string> {
  const silent = new Set<string>();
  const generated = new Set<string>();
  for (const correlation of correlations) {
    for (const ref of correlation.rules) (correlation.generate ? generated : silent).add(ref);
  }
  for (const ref of generated) silent.delete(ref);
  return silent;
}
