import { SAMPLE_EVENT_LIMIT, alertId, alertPriority, getField, isPlainObject, type Alert } from '../../core/index.js';
import type { CorrelationHit, Signal } from '../types.js';
import { DEFAULT_SUPPRESS_MS, type AlertPolicy } from './alert-policy.js';
import { mlpsRefs } from './mlps-refs.js';

/** One match folded into an alert: the sink counts it once, however often it is replayed. */
export interface AlertContribution {
  alert: Alert;
  /** What is counted: the event id of a signal, the window of a correlation hit. */
  key: string;
  /** Event time of the match, epoch ms. */
  time: number;
  /** End of the alert's suppression window, epoch ms: after it (plus lateness) no repeat is expected. */
  windowEnd: number;
}

export interface AlertBuilderOptions {
  /** Rule id → policy (from readAlertPolicy); rules without one get the default suppression and grouping. */
  policies?: ReadonlyMap<string, AlertPolicy>;
  defaultSuppressMs?: number;
  /** The clock for the timeline's "raised" entry. */
  now?: () => Date;
  actor?: string;
}

/**
 * Alerts from signals and correlation hits. The id is rule + group key + suppression window start
 * (aligned to the epoch), so a repeat within the window folds into the same alert.
 */
export class AlertBuilder {
  readonly #policies: ReadonlyMap<string, AlertPolicy>;
  readonly #defaultSuppressMs: number;
  readonly #now: () => Date;
  readonly #actor: string;
  readonly #mlpsMemo = new WeakMap<string[], Map<number | undefined, readonly string[]>>();

  constructor(options: AlertBuilderOptions = {}) {
    this.#policies = options.policies ?? new Map();
    this.#defaultSuppressMs = options.defaultSuppressMs ?? DEFAULT_SUPPRESS_MS;
    this.#now = options.now ?? (() => new Date());
    this.#actor = options.actor ?? 'shouwang';
  }

  /** A single-event rule matched: grouped by the affected system (or the rule's `group_by` fields). */
  fromSignal(signal: Signal): AlertContribution {
    const policy = this.#policies.get(signal.rule.id);
    const groupKey = policy?.groupBy
      ? policy.groupBy.map((field) => `${field}=${display(getField(signal.event, field))}`).join('; ')
      : `system=${systemOf(signal.event) ?? '-'}`;
    return this.#contribution(signal, groupKey, signal.time, signal.time, [signal.eventId], signal.eventId, signal.rule.tags, policy);
  }

  /** A correlation held: grouped by its group-by values. */
  fromHit(hit: CorrelationHit): AlertContribution {
    const policy = this.#policies.get(hit.rule.id);
    const groupKey = Object.keys(hit.group).sort().map((name) => `${name}=${hit.group[name]}`).join('; ');
    const events = eventIdsOf(hit);
    // A correlation evidences its own controls; without any, those of the rules it correlates.
    const tags = mlpsRefs(hit.rule.tags).length > 0 ? hit.rule.tags : hit.signals.flatMap((signal) => signal.rule.tags);
    const first = firstEvent(hit);
    const source: Signal = { rule: hit.rule, eventId: events[0] ?? '', time: hit.windowStart, event: first };
    return this.#contribution(source, groupKey, hit.windowStart, hit.windowEnd, events, `hit@${hit.windowStart}-${hit.windowEnd}`, tags, policy);
  }

  /**
   * mlpsRefs, read once per rule and level: a rule's tags are one array for its life (a correlation's borrowed
   * tags are a new array each time and simply miss). Other levels than 1–5 are not kept, so the memo stays small.
   */
  #mlpsRefs(tags: string[], mlpsLevel: number | undefined): string[] {
    if (mlpsLevel !== undefined && !(Number.isInteger(mlpsLevel) && mlpsLevel >= 1 && mlpsLevel <= 5)) return mlpsRefs(tags, mlpsLevel);
    let byLevel = this.#mlpsMemo.get(tags);
    if (!byLevel) this.#mlpsMemo.set(tags, (byLevel = new Map()));
    let refs = byLevel.get(mlpsLevel);
    if (!refs) byLevel.set(mlpsLevel, (refs = mlpsRefs(tags, mlpsLevel)));
    return [...refs];
  }

  #contribution(
    signal: Signal, groupKey: string, from: number, to: number, events: string[], key: string, tags: string[], policy?: AlertPolicy,
  ): AlertContribution {
    const suppressMs = policy?.suppressMs ?? this.#defaultSuppressMs;
    const windowStart = Math.floor(from / suppressMs) * suppressMs;
    const tagsOf = isPlainObject(signal.event.shouwang) ? signal.event.shouwang : {};
    const mlpsLevel = typeof tagsOf.mlps_level === 'number' ? tagsOf.mlps_level : undefined;
    const system = typeof tagsOf.system === 'string' && tagsOf.system !== '' ? tagsOf.system : undefined;
    const department = typeof tagsOf.department === 'string' ? tagsOf.department : undefined;
    const { rule } = signal;
    const alert: Alert = {
      id: alertId(rule.id, groupKey, new Date(windowStart).toISOString()),
      rule: { id: rule.id, title: rule.title, level: rule.level },
      mlps: this.#mlpsRefs(tags, mlpsLevel),
      ...(department ? { department } : {}),
      ...(system ? { system } : {}),
      ...(mlpsLevel !== undefined ? { mlpsLevel } : {}),
      priority: alertPriority(rule.level, mlpsLevel),
      status: 'new',
      timeline: [{ at: this.#now().toISOString(), actor: this.#actor, action: 'raised' }],
      firstSeen: new Date(from).toISOString(),
      lastSeen: new Date(to).toISOString(),
      count: 1,
      sampleEventIds: events.slice(0, SAMPLE_EVENT_LIMIT),
      groupKey,
    };
    return { alert, key, time: to, windowEnd: windowStart + suppressMs };
  }
}

/** The system an event concerns: the inventory's system, else the host it came from. */
function systemOf(event: Record<string, unknown>): string | undefined {
  const value = getField(event, 'shouwang.system') ?? getField(event, 'host.name') ?? getField(event, 'host.hostname');
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function display(value: unknown): string {
  if (value === undefined || value === null || value === '') return '-';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** The real events behind a hit, through chained correlations, oldest first. */
function eventIdsOf(hit: CorrelationHit): string[] {
  const ids: string[] = [];
  const walk = (signals: Signal[]) => {
    for (const signal of signals) {
      if (ids.length >= SAMPLE_EVENT_LIMIT) return;
      if (signal.from) walk(signal.from.signals);
      else if (!ids.includes(signal.eventId)) ids.push(signal.eventId);
    }
  };
  walk(hit.signals);
  return ids;
}

function firstEvent(hit: CorrelationHit): Record<string, unknown> {
  let signal = hit.signals[0];
  while (signal?.from) signal = signal.from.signals[0];
  return signal?.event ?? {};
}
