import type { QueryNode } from './query-language.js';
import type {
  Alert, AlertStatus, AlertStatusChange, AlertSuppression, AuditCheckpoint, AuditEntry, AuditKey, AuditLink, AuditVerification, ChainedAuditEntry, Inventory, JobResult, RuleLevel, ShouwangEvent,
} from '../core/index.js';

/** Which departments a caller may see; absent means all. Adapters apply it inside every query. */
export interface Scope {
  departments?: readonly string[];
}

/** ISO 8601 bounds: `from` inclusive, `to` exclusive. */
export interface TimeRange {
  from?: string;
  to?: string;
}

export type FieldValue = string | number | boolean;

export interface EventQuery extends TimeRange {
  /** Field (dotted ECS path) → value or any of several values; fields combine with AND. */
  filters?: Record<string, FieldValue | readonly FieldValue[]>;
  /** Full text over `message`: every whitespace-separated term must appear, case-insensitive. */
  text?: string;
  /** A parsed search-box query (store/query-language.ts); ANDed with everything else, never widens the scope. */
  match?: QueryNode;
  scope?: Scope;
}

export interface PageRequest {
  /** 1–1000, default 50. */
  size?: number;
  /** The opaque `next` of the previous page. */
  after?: string;
  order?: 'asc' | 'desc';
}

/** Counting stops here, as Elasticsearch's track_total_hits: past it `total` is a lower bound. */
export const TOTAL_COUNT_LIMIT = 10_000;

export interface Page<T> {
  items: T[];
  /** Exact up to TOTAL_COUNT_LIMIT; `totalIsLowerBound` says when more matched. */
  total: number;
  totalIsLowerBound?: true;
  /** Present when more items follow. */
  next?: string;
}

export interface Bucket {
  key: string;
  count: number;
}

export interface TimeBucket {
  start: string;
  count: number;
}

export interface WriteResult {
  written: number;
  duplicates: number;
  rejected: { id: string; reason: string }[];
}

export interface DataRange {
  count: number;
  oldest?: string;
  newest?: string;
}

/** Where silent-source checks look: the newest event of each source since a time, inside a scope. */
export interface SourceQuery {
  since?: string;
  systems?: readonly string[];
  scope?: Scope;
}

/**
 * An event stamped further ahead of the clock than this does not count as its source speaking: one
 * spoofed or misclocked line must not keep a source "reporting" until its date (fix the sender's NTP).
 */
export const SOURCE_CLOCK_SKEW_MS = 5 * 60_000;

/** One log source as the store has heard it: a system, a host and a dataset ('' when the events carry none). */
export interface SourceSeen {
  system: string;
  host: string;
  dataset: string;
  department?: string;
  /** The newest event's timestamp. */
  lastSeen: string;
}

export interface EventStore {
  /** Idempotent by id: a second write of the same id is a duplicate, not a new event. */
  write(events: readonly ShouwangEvent[]): Promise<WriteResult>;
  get(id: string, scope?: Scope): Promise<ShouwangEvent | undefined>;
  search(query: EventQuery, page?: PageRequest): Promise<Page<ShouwangEvent>>;
  countBy(query: EventQuery, field: string, limit?: number): Promise<Bucket[]>;
  /** Non-empty buckets of `intervalMs`, aligned to the epoch, oldest first. */
  histogram(query: EventQuery, intervalMs: number): Promise<TimeBucket[]>;
  range(scope?: Scope): Promise<DataRange>;
  /**
   * The newest event per (system, host, dataset) among events at or after `since` that carry a system
   * and are not stamped more than SOURCE_CLOCK_SKEW_MS ahead of the clock, in one grouped query:
   * silent-source checks and posture ask it often. Inside a scope, only that scope's events count.
   */
  sourcesSeen(query: SourceQuery): Promise<SourceSeen[]>;
  /** Retention: removes events older than `before`; returns how many. */
  deleteBefore(before: string): Promise<number>;
}

export interface AlertQuery extends TimeRange {
  status?: readonly AlertStatus[];
  level?: readonly RuleLevel[];
  department?: readonly string[];
  system?: readonly string[];
  ruleId?: readonly string[];
  mlps?: string;
  /** The system's MLPS protection level (1–4). */
  mlpsLevel?: readonly number[];
  assignee?: string;
  /** Alerts that sampled any of these events (related alerts). */
  eventIds?: readonly string[];
  /** false: only alerts no suppression marked (the triage list's default); true: only marked ones; absent: all. */
  suppressed?: boolean;
  scope?: Scope;
}

/** Columns an alert list sorts by; ties fall to last seen, then id, in the same direction. */
export const ALERT_SORT_FIELDS = ['priority', 'lastSeen', 'firstSeen', 'level', 'count', 'status', 'system', 'department', 'mlpsLevel'] as const;
export type AlertSortField = (typeof ALERT_SORT_FIELDS)[number];

export interface AlertPageRequest extends PageRequest {
  /** Default last seen. Level and status sort by severity and workflow order, not by name; a missing system sorts as "". */
  sort?: AlertSortField;
}

/** Alerts of one rule or one system, for a grouped list. */
export interface AlertGroup {
  key: string;
  count: number;
  maxPriority: number;
  lastSeen: string;
  /** The rule's title when grouped by rule. */
  title?: string;
}

export const ALERT_GROUP_FIELDS = ['status', 'level', 'department', 'system', 'ruleId', 'assignee'] as const;
export type AlertGroupField = (typeof ALERT_GROUP_FIELDS)[number];


/** Alerts of one rule on one system: the unit the risk score counts once (console/posture). */
export interface AlertProblem {
  system: string;
  department?: string;
  ruleId: string;
  ruleTitle: string;
  count: number;
  maxPriority: number;
  lastSeen: string;
}

/** Alerts of one day (by last seen), department, system and rule: the unit of the posture trend, from one grouped query. */
export interface AlertDayGroup {
  /** The instant the day starts (local midnight at the requested UTC offset). */
  day: string;
  department?: string;
  system?: string;
  ruleId: string;
  ruleTitle: string;
  count: number;
  /** How many of `count` have one of the requested open statuses. */
  open: number;
  maxPriority: number;
  lastSeen: string;
}

export interface AlertStore {
  /** New ids are inserted; known ids fold the repeat in (count, last seen, samples). */
  upsert(alerts: readonly Alert[]): Promise<{ created: number; updated: number; suppressed?: string[] }>;
  get(id: string, scope?: Scope): Promise<Alert | undefined>;
  /** Triage: status, assignee, comment; each change lands on the timeline. */
  update(id: string, change: AlertStatusChange, scope?: Scope): Promise<Alert>;
  /** Sorted by `page.sort` (default last seen) with stable keyset paging; the time range applies to last seen. */
  search(query: AlertQuery, page?: AlertPageRequest): Promise<Page<Alert>>;
  countBy(query: AlertQuery, field: AlertGroupField): Promise<Bucket[]>;
  /** Alerts grouped by rule or system in one grouped query: worst priority first, then count, then key; at most `limit` groups. */
  groups(query: AlertQuery, by: 'ruleId' | 'system', limit?: number): Promise<AlertGroup[]>;
  /** Alerts with a system grouped by (system, rule), in one grouped query; sorted by system, then rule. */
  problems(query: AlertQuery): Promise<AlertProblem[]>;
  /**
   * Alerts grouped by (day of last seen, department, system, rule) in one grouped query, days starting at local
   * midnight in `timeZone` (an IANA name; 23 or 25 hours across a daylight-saving switch, quarter-hour offsets as
   * the zone has them); `day` is that midnight's instant. `open` counts those with a status in `openStatuses`.
   */
  daily(query: AlertQuery, options: { timeZone: string; openStatuses: readonly AlertStatus[] }): Promise<AlertDayGroup[]>;
  /** Triage suppressions: upsert marks the alerts an active one covers and answers their ids in `suppressed` (absent: none), not to be notified. */
  createSuppression(suppression: AlertSuppression): Promise<void>;
  /** The suppressions not yet expired at `now`, in scope (a scoped caller sees only its departments'), newest first. */
  activeSuppressions(now: Date, scope?: Scope): Promise<AlertSuppression[]>;
  /** Deletes one early; undefined when absent or out of scope. */
  deleteSuppression(id: string, scope?: Scope): Promise<AlertSuppression | undefined>;
}

export interface AssetStore {
  replaceInventory(inventory: Inventory): Promise<void>;
  /** The departments and systems in scope. */
  getInventory(scope?: Scope): Promise<Inventory>;
}

export interface JobResultQuery extends TimeRange {
  kind?: string;
  system?: string;
  status?: JobResult['status'];
  scope?: Scope;
}

export interface JobResultStore {
  /** Idempotent by id: a retried job replaces its own result. */
  put(result: JobResult): Promise<void>;
  get(id: string, scope?: Scope): Promise<JobResult | undefined>;
  /** Sorted by finish time; the time range applies to the finish time. */
  search(query: JobResultQuery, page?: PageRequest): Promise<Page<JobResult>>;
  /**
   * The newest `perGroup` results of each (system, site) pair matching the query (results without a
   * site form their own group), in one grouped query; newest first. For "latest run per site" views.
   */
  latestPerSystem(query: JobResultQuery, perGroup: number): Promise<JobResult[]>;
}

export interface AuditQuery extends TimeRange {
  /**
   * Inside a scope, only entries whose departments all lie in it; city-wide entries (no department:
   * users, inventory, rules, sessions) only without a scope.
   */
  scope?: Scope;
}

export interface AuditTrailStore {
  /** Append-only and hash-chained: each entry carries the hash of the one before. */
  append(entry: AuditEntry): Promise<ChainedAuditEntry>;
  list(query: AuditQuery, page?: PageRequest): Promise<Page<ChainedAuditEntry>>;
  /**
   * Re-computes the whole chain (never scoped: a chain can only be checked whole) against every
   * signed checkpoint; `brokenAt` and `problem` name the first thing that does not fit.
   */
  verify(): Promise<AuditVerification>;
  /**
   * From now on signs checkpoints with the instance key (at once, after every append, every
   * CHECKPOINT_EVERY_MS) and checks their signatures in verify; with `highWaterPath` also keeps the
   * newest checkpoint in that file outside the store, which verify requires the store to reach.
   * Returns the stop function.
   */
  anchorWith(key: AuditKey, options?: { highWaterPath?: string }): Promise<() => void>;
  /** Signs the current head now when anchored; the latest stored checkpoint either way. */
  checkpoint(): Promise<AuditCheckpoint | undefined>;
  /** Every stored checkpoint, by seq. */
  checkpoints(): Promise<AuditCheckpoint[]>;
  /** The chain's links (seq and hashes, no content) from `fromSeq` to `toSeq`, both included. */
  links(fromSeq: number, toSeq: number): Promise<AuditLink[]>;
}

/** A console account; the console decides what a role may do, the store only keeps it. */
export interface UserRecord {
  username: string;
  displayName: string;
  role: string;
  /** Department scope; empty means all (the console requires at least one for department viewers). */
  departments: string[];
  /** `scrypt$<log2 N>$<r>$<p>$<salt>$<hash>`, never the password itself. */
  passwordHash: string;
  disabled: boolean;
  failedLogins: number;
  lockedUntil?: string;
  /** Sessions carry the epoch they started in; bumping it logs the user out everywhere. */
  sessionEpoch: number;
  /** The user's own notification preferences (routes with `toUsers`); absent: none. */
  notifications?: NotificationPrefs;
  createdAt: string;
  updatedAt: string;
}

/** Where and from which level a user wants alert notifications; `optOut` keeps the addresses but sends nothing. */
export interface NotificationPrefs {
  email?: string;
  phone?: string;
  minLevel: RuleLevel;
  optOut: boolean;
}

export type UserChange = Partial<Omit<UserRecord, 'username' | 'createdAt'>>;
/** A change, or a function computing it from the stored user inside the update (a counter that must not lose a step). */
export type UserUpdate = UserChange | ((current: UserRecord) => UserChange);

export interface UserStore {
  /** False when the username is taken; the stored user is left as it was. */
  create(user: UserRecord): Promise<boolean>;
  get(username: string): Promise<UserRecord | undefined>;
  /** Sorted by username. */
  list(): Promise<UserRecord[]>;
  /** Undefined when there is no such user. Atomic: a function change sees the user as stored at that moment. */
  update(username: string, change: UserUpdate): Promise<UserRecord | undefined>;
  delete(username: string): Promise<boolean>;
  count(): Promise<number>;
}

/** A console session; its id is kept only as a SHA-256 hash, so a stolen store cannot log anyone in. */
export interface SessionRecord {
  idHash: string;
  username: string;
  epoch: number;
  csrfToken: string;
  createdAt: string;
  lastSeenAt: string;
  /** Absolute end, whatever the activity. */
  expiresAt: string;
  ip?: string;
}

export interface SessionStore {
  create(session: SessionRecord): Promise<void>;
  get(idHash: string): Promise<SessionRecord | undefined>;
  touch(idHash: string, lastSeenAt: string): Promise<void>;
  delete(idHash: string): Promise<void>;
  /** Returns how many were removed. */
  deleteForUser(username: string): Promise<number>;
  /** Removes sessions whose absolute end is before `before`. */
  deleteExpired(before: string): Promise<number>;
}

export interface Store {
  readonly kind: string;
  readonly events: EventStore;
  readonly alerts: AlertStore;
  readonly assets: AssetStore;
  readonly jobResults: JobResultStore;
  readonly audit: AuditTrailStore;
  readonly users: UserStore;
  readonly sessions: SessionStore;
  health(): Promise<{ ok: boolean; detail: string }>;
  /** Safe to call twice; resolves when everything is flushed. */
  close(): Promise<void>;
}
