import { createHash } from 'node:crypto';
import { DEFAULT_TIME_ZONE, zoneOffset, type Alert } from '../../core/index.js';
import { inDailyRange, lastDailyAt } from './clock-time.js';
import { routeAlert } from './routing.js';
import { routeRecipients, type Subscriber } from './user-recipients.js';
import { DISPATCH_ALERT_LIMIT, type Dispatch, type DispatchKind, type NotifyConfig, type Recipients, type RouteConfig } from './types.js';

export interface PlannerOptions {
  config: Pick<NotifyConfig, 'routes' | 'groupWindow' | 'rateLimitPerMinute' | 'quietHours' | 'digestLevels' | 'digestAt'>;
  /** Milliseconds since the epoch; a test moves it by hand. */
  now?: () => number;
  /** A rule's tags (Sigma `tags`), for routes that match on tags. */
  tagsOf?: (ruleId: string) => readonly string[];
  /** Department contacts and on-call at a time (inventory), for routes with `toDepartment`. */
  contactsOf?: (department: string | undefined, at: number) => Recipients;
  /** Console users with notification preferences, for routes with `toUsers`. */
  usersOf?: () => readonly Subscriber[];
  /** `timeZone`: local time of quiet hours and the digest when `quietHours.utcOffset` is not set (default Asia/Shanghai). */
  timeZone?: string;
  /** What a planner before a restart still held (`snapshot()`): open groups, quiet-hours, digest and rate-limit waits. */
  state?: unknown;
}

/** The waiting work of a planner, kept on disk across restarts (not the announced ids: job ids catch those repeats). */
export interface PlannerState {
  v: 1;
  lastDigest: number;
  groups: [string, Group][];
  quiet: Bucket[];
  digest: Bucket[];
  limited: Bucket[];
}

/** Alerts waiting for one later message (quiet hours, rate limit, digest). */
interface Bucket {
  routeId: string; channelId: string; alerts: Alert[]; count: number;
  /** On routes that add recipients (toDepartment, toUsers): the alerts' department ('' none), one bucket each, so the message keeps them. */
  party?: string;
}

const bucketKey = (b: { routeId: string; channelId: string; party?: string | undefined }) =>
  `${b.routeId}\u0000${b.channelId}${b.party === undefined ? '' : `\u0000${b.party}`}`;

interface Group { routeId: string; channels: readonly string[]; openedAt: number; lead: Alert; repeats: Alert[]; count: number; toDepartment?: boolean; toUsers?: boolean }

/** A BullMQ job id: no `:` and bounded, the same for the same parts. */
export function dispatchKey(...parts: (string | number)[]): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('base64url').slice(0, 32);
}

/**
 * Decides which messages go out and when, from alerts and the clock only (no I/O), so storms,
 * quiet hours and digests are tested with a hand-moved clock. Per route:
 * - the first alert of a rule on a system sends at once; repeats within `groupWindow` are folded
 *   into one `group` message with their count when the window closes (a flapping source: two messages);
 * - `digestLevels` wait for the daily digest at `digestAt`;
 * - in quiet hours only critical alerts go out; the rest go as one `held` message when they end;
 * - past `rateLimitPerMinute` on a channel, messages wait and go as one `held` message when it allows.
 * The same alert id is announced once per route (its repeats count in the group).
 */
export class NotifyPlanner {
  readonly #config: PlannerOptions['config'];
  readonly #now: () => number;
  readonly #tagsOf: (ruleId: string) => readonly string[];
  readonly #contactsOf: PlannerOptions['contactsOf'];
  readonly #usersOf: PlannerOptions['usersOf'];
  readonly #timeZone: string;
  readonly #groups = new Map<string, Group>();
  readonly #announced = new Map<string, number>();
  readonly #quiet = new Map<string, Bucket>();
  readonly #digest = new Map<string, Bucket>();
  readonly #limited = new Map<string, Bucket>();
  /** Send times per channel within the last minute. */
  readonly #sent = new Map<string, number[]>();
  #lastDigest: number;
  /** Something waiting changed since the last snapshot. */
  #dirty = false;

  constructor(options: PlannerOptions) {
    this.#config = options.config;
    this.#now = options.now ?? Date.now;
    this.#tagsOf = options.tagsOf ?? (() => []);
    this.#contactsOf = options.contactsOf;
    this.#usersOf = options.usersOf;
    this.#timeZone = options.timeZone ?? DEFAULT_TIME_ZONE;
    this.#lastDigest = lastDailyAt(this.#now(), this.#config.digestAt, this.#offsetAt(this.#now()));
    if (isPlannerState(options.state)) this.#restore(options.state);
  }

  get dirty(): boolean {
    return this.#dirty;
  }

  /** The waiting work, for the state file; clears `dirty`. */
  snapshot(): PlannerState {
    this.#dirty = false;
    return {
      v: 1, lastDigest: this.#lastDigest, groups: [...this.#groups],
      quiet: [...this.#quiet.values()], digest: [...this.#digest.values()], limited: [...this.#limited.values()],
    };
  }

  #restore(state: PlannerState): void {
    // Routes removed from the config since are dropped with what waited for them.
    const known = new Set(this.#config.routes.map((r) => r.id));
    this.#lastDigest = Math.max(this.#lastDigest, state.lastDigest);
    for (const [key, group] of state.groups) if (known.has(group.routeId)) this.#groups.set(key, group);
    const put = (target: Map<string, Bucket>, buckets: Bucket[]) => {
      for (const b of buckets) if (known.has(b.routeId)) target.set(bucketKey(b), b);
    };
    put(this.#quiet, state.quiet);
    put(this.#digest, state.digest);
    put(this.#limited, state.limited);
  }

  /** A stated offset, else the zone's at that instant (a DST zone moves quiet hours and the digest with its clocks). */
  #offsetAt(now: number): string {
    return this.#config.quietHours?.utcOffset ?? zoneOffset(this.#timeZone, now);
  }

  #inQuietHours(now: number): boolean {
    const quiet = this.#config.quietHours;
    return quiet ? inDailyRange(now, quiet.from, quiet.to, this.#offsetAt(now)) : false;
  }

  /** The messages an alert (new, or a repeat of a known one) causes now. */
  accept(alert: Alert): Dispatch[] {
    const now = this.#now();
    const out: Dispatch[] = [];
    for (const route of routeAlert(this.#config.routes, alert, this.#tagsOf(alert.rule.id))) {
      this.#dirty = true;
      const seenKey = `${route.id}\u0000${alert.id}`;
      const repeat = this.#announced.has(seenKey);
      this.#announced.set(seenKey, now);
      if (this.#config.digestLevels.includes(alert.rule.level)) {
        for (const channelId of route.channels) hold(this.#digest, route.id, channelId, alert, repeat, this.#partyOf(route.id, alert));
        continue;
      }
      if (alert.rule.level !== 'critical' && this.#inQuietHours(now)) {
        for (const channelId of route.channels) hold(this.#quiet, route.id, channelId, alert, repeat, this.#partyOf(route.id, alert));
        continue;
      }
      const groupKey = `${route.id}\u0000${alert.rule.id}\u0000${alert.system ?? '-'}`;
      const group = this.#groups.get(groupKey);
      if (group && now < group.openedAt + this.#config.groupWindow * 1000) {
        group.count += alert.count;
        if (!repeat && group.repeats.length < DISPATCH_ALERT_LIMIT - 1) group.repeats.push(alert);
        continue;
      }
      if (repeat) continue; // a repeat after its window: counted on the alert, no new message
      this.#groups.set(groupKey, { routeId: route.id, channels: route.channels, openedAt: now, lead: alert, repeats: [], count: 0, toDepartment: route.toDepartment, toUsers: route.toUsers });
      const recipients = this.#recipients(route, alert, now);
      for (const channelId of route.channels) {
        out.push(...this.#limit(now, withRecipients(dispatchOf('alert', route.id, channelId, [alert], alert.count, 0, alert.id), recipients)));
      }
    }
    return out;
  }

  /** Messages that are due now: closed groups, the end of quiet hours, the digest, rate-limited waits. */
  tick(): Dispatch[] {
    const now = this.#now();
    const out: Dispatch[] = [];
    for (const [key, group] of this.#groups) {
      if (now < group.openedAt + this.#config.groupWindow * 1000) continue;
      this.#groups.delete(key);
      if (group.count === 0) continue;
      const alerts = [group.lead, ...group.repeats];
      const recipients = this.#recipients(group, group.lead, now);
      for (const channelId of group.channels) {
        out.push(...this.#limit(now, withRecipients(dispatchOf('group', group.routeId, channelId, alerts, group.count, 0, key, group.openedAt), recipients)));
      }
    }
    if (!this.#inQuietHours(now)) out.push(...this.#flush(this.#quiet, 'held', now, true));
    const digestAt = lastDailyAt(now, this.#config.digestAt, this.#offsetAt(now));
    if (digestAt > this.#lastDigest) {
      this.#lastDigest = digestAt;
      out.push(...this.#flush(this.#digest, 'digest', digestAt, false));
    }
    for (const [key, bucket] of this.#limited) {
      if (!this.#hasToken(bucket.channelId, now)) continue;
      this.#limited.delete(key);
      this.#take(bucket.channelId, now);
      out.push(this.#bucketDispatch(bucket, 'held', 'limited', now));
    }
    if (out.length) this.#dirty = true;
    // Announced ids are kept a day: a repeat after that is announced again (a new episode).
    for (const [key, at] of this.#announced) if (at < now - 86_400_000) this.#announced.delete(key);
    return out;
  }

  #recipients(route: { toDepartment?: boolean; toUsers?: boolean }, alert: Alert, now: number): Recipients | undefined {
    return routeRecipients(route, alert, now, this.#contactsOf, this.#usersOf);
  }

  /** Only routes that add recipients split their waiting alerts by department. */
  #partyOf(routeId: string, alert: Alert | undefined): string | undefined {
    const route = this.#config.routes.find((r) => r.id === routeId);
    return route?.toDepartment || route?.toUsers ? (alert?.department ?? '') : undefined;
  }

  /** One message for a bucket, with its department's recipients at `at` (whoever is on call when it goes). */
  #bucketDispatch(bucket: Bucket, kind: DispatchKind, keyPart: string, at: number): Dispatch {
    const dispatch = dispatchOf(kind, bucket.routeId, bucket.channelId, bucket.alerts, bucket.count, 0, keyPart, at, ...(bucket.party === undefined ? [] : [bucket.party]));
    const route = this.#config.routes.find((r) => r.id === bucket.routeId);
    if (bucket.party === undefined || !route) return dispatch;
    const each = bucket.alerts.map((alert) => this.#recipients(route, alert, at)).filter((r) => r !== undefined);
    return withRecipients(dispatch, { emails: [...new Set(each.flatMap((r) => r.emails))], phones: [...new Set(each.flatMap((r) => r.phones))] });
  }

  #flush(buckets: Map<string, Bucket>, kind: DispatchKind, at: number, limited: boolean): Dispatch[] {
    const out: Dispatch[] = [];
    for (const bucket of buckets.values()) {
      const dispatch = this.#bucketDispatch(bucket, kind, kind, at);
      out.push(...(limited ? this.#limit(at, dispatch) : [dispatch]));
    }
    buckets.clear();
    return out;
  }

  /** Passes the message if its channel has room this minute, else keeps it for one `held` message. */
  #limit(now: number, dispatch: Dispatch): Dispatch[] {
    const party = this.#partyOf(dispatch.routeId, dispatch.alerts[0]);
    const key = bucketKey({ ...dispatch, party });
    if (this.#hasToken(dispatch.channelId, now) && !this.#limited.has(key)) {
      this.#take(dispatch.channelId, now);
      return [dispatch];
    }
    const bucket = this.#limited.get(key) ?? { routeId: dispatch.routeId, channelId: dispatch.channelId, alerts: [], count: 0, ...(party === undefined ? {} : { party }) };
    for (const alert of dispatch.alerts) if (bucket.alerts.length < DISPATCH_ALERT_LIMIT) bucket.alerts.push(alert);
    bucket.count += dispatch.count;
    this.#limited.set(key, bucket);
    return [];
  }

  #hasToken(channelId: string, now: number): boolean {
    const times = this.#sent.get(channelId);
    if (!times) return this.#config.rateLimitPerMinute > 0;
    // Send times only grow: drop the expired ones from the front (not a filter per message: a storm made that quadratic).
    let expired = 0;
    while (expired < times.length && times[expired]! <= now - 60_000) expired += 1;
    if (expired) times.splice(0, expired);
    return times.length < this.#config.rateLimitPerMinute;
  }

  #take(channelId: string, now: number): void {
    const times = this.#sent.get(channelId);
    if (times) times.push(now);
    else this.#sent.set(channelId, [now]);
  }
}

function withRecipients(dispatch: Dispatch, recipients: Recipients | undefined): Dispatch {
  return recipients && (recipients.emails.length || recipients.phones.length) ? { ...dispatch, recipients } : dispatch;
}

function isPlannerState(value: unknown): value is PlannerState {
  const state = value as Partial<PlannerState> | undefined;
  return !!state && state.v === 1 && typeof state.lastDigest === 'number'
    && [state.groups, state.quiet, state.digest, state.limited].every(Array.isArray);
}

function hold(buckets: Map<string, Bucket>, routeId: string, channelId: string, alert: Alert, repeat: boolean, party: string | undefined): void {
  const key = bucketKey({ routeId, channelId, party });
  const bucket = buckets.get(key) ?? { routeId, channelId, alerts: [], count: 0, ...(party === undefined ? {} : { party }) };
  bucket.count += alert.count;
  if (!repeat && bucket.alerts.length < DISPATCH_ALERT_LIMIT) bucket.alerts.push(alert);
  buckets.set(key, bucket);
}

function dispatchOf(
  kind: DispatchKind, routeId: string, channelId: string, alerts: Alert[], count: number, step: number, ...keyParts: (string | number)[]
): Dispatch {
  return { key: dispatchKey(kind, routeId, channelId, step, ...keyParts), kind, routeId, channelId, step, alerts, count };
}

export type { RouteConfig };
