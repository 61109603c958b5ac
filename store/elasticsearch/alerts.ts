import { randomUUID } from 'node:crypto';
import type { Client, estypes } from '@elastic/elasticsearch';
import {
  applyAlertChange, markSuppressed, mergeAlert, sameMark, suppresses, type Alert, type AlertStatus, type AlertStatusChange, type AlertSuppression,
} from '../../core/index.js';
import { StoreErrors } from '../errors.js';
import { alertSortField, decodeAlertCursor, encodeAlertCursor, LEVEL_RANKS, STATUS_RANKS } from '../alert-sort.js';
import { dayZone } from '../day-zone.js';
import { pageSize } from '../paging.js';
import {
  TOTAL_COUNT_LIMIT, type AlertGroup, type AlertGroupField, type AlertPageRequest, type AlertDayGroup, type AlertProblem, type AlertQuery, type AlertSortField,
  type AlertStore, type Bucket, type Page, type Scope,
} from '../ports.js';
import type { IndexNames } from './indices.js';
import { bool, compositeBuckets, rangeClause, scopeClause, termsClause, type Clause } from './query.js';
import { call, SEND_ONCE, translateError } from './translate.js';

const GROUP_FIELDS: Record<AlertGroupField, string> = {
  status: 'status', level: 'rule.level', department: 'department', system: 'system', ruleId: 'rule.id', assignee: 'assignee',
};
/** Optimistic concurrency: a write that lost a race re-reads and tries again. */
const MAX_ATTEMPTS = 8;
/** Active suppressions read per search (the index's max_result_window is 10,000; pages go on past it). */
const SUPPRESSION_PAGE = 1000;
/**
 * The last upserts that wrote an alert, by token. A write can land and still come back as a 409: Elasticsearch
 * re-sends a bulk item to a new primary after a node dies, and the item meets its own first copy. Only the token tells
 * that apart from another writer's change, which must be merged; without it the contribution would count twice.
 */
const WRITE_TOKENS = 8;
/**
 * How long an alert write waits for an unavailable primary shard before Elasticsearch refuses it (its default is a
 * minute): well inside the client's request timeout, so a write the caller gave up on cannot land later.
 */
const PRIMARY_WAIT = '2s';
type StoredAlert = Alert & { writes?: string[] };
const alertOf = ({ writes: _writes, ...alert }: StoredAlert): Alert => alert;

function alertQuery(query: AlertQuery): Clause {
  return bool([
    ...rangeClause('lastSeen', query),
    ...termsClause('status', query.status),
    ...termsClause('rule.level', query.level),
    ...termsClause('department', query.department),
    ...termsClause('system', query.system),
    ...termsClause('rule.id', query.ruleId),
    ...(query.assignee !== undefined ? [{ term: { assignee: query.assignee } }] : []),
    ...(query.mlps !== undefined ? [{ term: { mlps: query.mlps } }] : []),
    ...termsClause('mlpsLevel', query.mlpsLevel),
    ...termsClause('sampleEventIds', query.eventIds),
    // A mark counts until its suppression's expiry: an alert with no repeat since is listed again once it ends.
    ...(query.suppressed === undefined ? [] : [query.suppressed ? MARK_IN_FORCE : { bool: { must_not: [MARK_IN_FORCE] } }]),
    ...scopeClause('department', query.scope),
  ]);
}

const MARK_IN_FORCE = { range: { 'suppressed.until': { gt: 'now' } } };

type Order = 'asc' | 'desc';
/**
 * Level and status sort by rank without scripts (the cluster may run without Painless): a function_score
 * query scores each document rank + 2 (unknown or missing 1, as SQLite's -1) and the sort is on _score.
 */
const RANKED: Partial<Record<AlertSortField, { field: string; values: readonly string[] }>> = {
  level: { field: 'rule.level', values: LEVEL_RANKS }, status: { field: 'status', values: STATUS_RANKS },
};
const RANK_OFFSET = 2;

function rankedQuery(query: Clause, field: string, values: readonly string[]): Clause {
  return {
    function_score: {
      query, score_mode: 'sum', boost_mode: 'replace',
      functions: [
        ...values.map((value, i) => ({ filter: { term: { [field]: value } }, weight: i + RANK_OFFSET })),
        { filter: { bool: { must_not: [{ terms: { [field]: [...values] } }] } }, weight: RANK_OFFSET - 1 },
      ],
    },
  };
}

/** The sorted field as Elasticsearch sorts it; missing values sort as the embedded store's coalesce() does. */
const SORTS: Record<Exclude<AlertSortField, 'lastSeen'>, (order: Order) => estypes.SortCombinations> = {
  priority: (order) => ({ priority: { order, missing: 0 } }),
  firstSeen: (order) => ({ firstSeen: { order, format: 'epoch_millis' } }),
  level: (order) => ({ _score: { order } }),
  status: (order) => ({ _score: { order } }),
  count: (order) => ({ count: { order, missing: 0 } }),
  system: (order) => ({ system: { order, missing: '' } }),
  department: (order) => ({ department: { order, missing: '' } }),
  mlpsLevel: (order) => ({ mlpsLevel: { order, missing: 0 } }),
};

const inScope = (alert: Alert, scope: Scope | undefined) =>
  !scope?.departments || (alert.department !== undefined && scope.departments.includes(alert.department));

export class ElasticsearchAlertStore implements AlertStore {
  readonly #client: Client;
  readonly #index: string;
  readonly #suppressions: string;

  constructor(client: Client, names: IndexNames) {
    this.#client = client;
    this.#index = names.alerts;
    this.#suppressions = names.alertSuppressions;
  }

  async upsert(alerts: readonly Alert[]): Promise<{ created: number; updated: number; suppressed?: string[] }> {
    // Repeats inside one batch fold together first, so each id is written once.
    const folded = new Map<string, Alert>();
    for (const alert of alerts) {
      const seen = folded.get(alert.id);
      folded.set(alert.id, seen ? mergeAlert(seen, alert) : alert);
    }
    let now = Date.now();
    let active: AlertSuppression[] = [];
    let pending = [...folded.values()];
    let created = 0;
    let updated = 0;
    const token = randomUUID();
    const tried = new Map<string, 'created' | 'updated'>();
    for (let attempt = 0; pending.length > 0; attempt += 1) {
      if (attempt >= MAX_ATTEMPTS) throw StoreErrors.unavailable(`alert upsert kept conflicting for ${pending.length} alerts`);
      const { docs } = await call(() => this.#client.mget<StoredAlert>({ index: this.#index, ids: pending.map((a) => a.id) }));
      // Read after the alerts, on every try: a try that lost to a suppression's re-marking (409) must not write back a
      // list from before the suppression was made or ended.
      now = Date.now();
      active = await this.activeSuppressions(new Date(now));
      const operations: unknown[] = [];
      const kinds: ('created' | 'updated')[] = [];
      const writing: Alert[] = [];
      pending.forEach((alert, i) => {
        const stored = docs[i] as estypes.GetGetResult<StoredAlert> | undefined;
        if (stored?.found && stored._source?.writes?.includes(token)) {
          // This upsert's own write, answered with a 409: it landed already.
          if (tried.get(alert.id) === 'created') created += 1;
          else updated += 1;
          return;
        }
        writing.push(alert);
        if (stored?.found && stored._source) {
          operations.push({ index: { _index: this.#index, _id: alert.id, if_seq_no: stored._seq_no, if_primary_term: stored._primary_term } });
          operations.push({ ...markSuppressed(mergeAlert(alertOf(stored._source), alert), active, now), writes: [...(stored._source.writes ?? []), token].slice(-WRITE_TOKENS) });
          kinds.push('updated');
        } else {
          operations.push({ create: { _index: this.#index, _id: alert.id } }, { ...markSuppressed(alert, active, now), writes: [token] });
          kinds.push('created');
        }
        tried.set(alert.id, kinds[kinds.length - 1]!);
      });
      pending = writing;
      if (pending.length === 0) break;
      // Searchable on return by refreshing the one small shard now: 'wait_for' waited for the next scheduled refresh, up
      // to refresh_interval for every batch of the rules' alert sink, so alerts trailed a burst of events by seconds.
      // PRIMARY_WAIT: a bulk that waits for a dead primary outlives the client's timeout, then lands; the alert sink has
      // retried meanwhile and counts the batch twice (cluster test, one node killed). Refused in time, it lands never.
      const response = await call(() => this.#client.bulk({ operations: operations as never, refresh: true, timeout: PRIMARY_WAIT }, SEND_ONCE));
      const retry: Alert[] = [];
      response.items.forEach((item, i) => {
        const outcome = (item.index ?? item.create)!;
        if (outcome.status === 409) retry.push(pending[i]!);
        else if (outcome.error) throw StoreErrors.unavailable(`alert ${pending[i]!.id}: ${outcome.error.reason}`);
        else if (kinds[i] === 'created') created += 1;
        else updated += 1;
      });
      pending = retry;
    }
    // Folded alerts carry the rule, department and group key of the stored one (the same id): the mark is decided here.
    const suppressed = [...folded.values()].filter((alert) => active.some((s) => suppresses(s, alert, now))).map((alert) => alert.id);
    return { created, updated, ...(suppressed.length ? { suppressed } : {}) };
  }

  async createSuppression(suppression: AlertSuppression): Promise<void> {
    await call(() => this.#client.index({ index: this.#suppressions, id: suppression.id, document: suppression, op_type: 'create', refresh: true }, SEND_ONCE));
    await this.#remarkOrLeave(suppression);
  }

  /**
   * The suppression is stored (made or ended) whatever happens here: a remark that fails leaves the stored alerts to be
   * marked at their next repeat, as before remarking existed, rather than failing a request whose change was made.
   */
  async #remarkOrLeave(suppression: Pick<AlertSuppression, 'ruleId' | 'department'>): Promise<void> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
      const conflicts = await this.#remark(suppression).catch(() => 0);
      if (conflicts === 0) return;
    }
  }

  /**
   * Marks (or unmarks) the stored alerts of a suppression's rule and department as markSuppressed decides with the active
   * suppressions now, as upsert does for a repeat: a suppression made hides its alerts at once, one ended shows them
   * again, without waiting for their next repeat. Answers how many writes met a concurrent one (409): the caller runs
   * it again, on what that write left. Any other refused item throws.
   */
  async #remark({ ruleId, department }: Pick<AlertSuppression, 'ruleId' | 'department'>): Promise<number> {
    const now = Date.now();
    const inDepartment = department === undefined ? { bool: { must_not: [{ exists: { field: 'department' } }] } } : { term: { department } };
    // Only a suppression of the same rule and department can cover these alerts.
    const active = await this.#active(new Date(now), [{ term: { ruleId } }, inDepartment]);
    const query = bool([{ term: { 'rule.id': ruleId } }, inDepartment]);
    let conflicts = 0;
    let wrote = false;
    for (let after: estypes.SortResults | undefined; ;) {
      const response = await call(() => this.#client.search<StoredAlert>({
        index: this.#index, size: SUPPRESSION_PAGE, query, sort: [{ id: 'asc' }], seq_no_primary_term: true, ...(after ? { search_after: after } : {}),
      }));
      const hits = response.hits.hits;
      const operations = hits.flatMap((hit) => {
        const stored = hit._source!;
        const next = markSuppressed(alertOf(stored), active, now);
        if (sameMark(next, stored)) return [];
        return [{ index: { _index: this.#index, _id: hit._id, if_seq_no: hit._seq_no, if_primary_term: hit._primary_term } }, { ...next, writes: stored.writes ?? [] }];
      });
      if (operations.length) {
        const response = await call(() => this.#client.bulk({ operations, timeout: PRIMARY_WAIT }));
        for (const item of response.items) {
          const outcome = item.index!;
          if (outcome.status === 409) conflicts += 1;
          else if (outcome.error) throw StoreErrors.unavailable(`alert ${outcome._id}: ${outcome.error.reason}`);
        }
        wrote = true;
      }
      if (hits.length < SUPPRESSION_PAGE) break;
      after = hits[hits.length - 1]!.sort;
    }
    // One refresh for every page: the list shows the change when the request returns.
    if (wrote) await call(() => this.#client.indices.refresh({ index: this.#index }));
    return conflicts;
  }

  /**
   * Every active suppression, a page at a time: one left out would let its alerts be notified and unmarked (a single
   * search stopped at 1,000). search_after on (createdAt, id) skips none when one is created or deleted meanwhile.
   */
  async activeSuppressions(now: Date, scope?: Scope): Promise<AlertSuppression[]> {
    return this.#active(now, scopeClause('department', scope));
  }

  async #active(now: Date, clauses: Clause[]): Promise<AlertSuppression[]> {
    const query = bool([{ range: { expiresAt: { gt: now.getTime(), format: 'epoch_millis' } } }, ...clauses]);
    const found: AlertSuppression[] = [];
    for (let after: estypes.SortResults | undefined; ;) {
      const response = await call(() => this.#client.search<AlertSuppression>({
        index: this.#suppressions, ignore_unavailable: true, allow_no_indices: true, size: SUPPRESSION_PAGE, query,
        sort: [{ createdAt: { order: 'desc' } }, { id: { order: 'asc' } }], ...(after ? { search_after: after } : {}),
      }));
      const hits = response.hits.hits;
      found.push(...hits.map((hit) => hit._source!));
      if (hits.length < SUPPRESSION_PAGE) return found;
      after = hits[hits.length - 1]!.sort;
    }
  }

  async deleteSuppression(id: string, scope?: Scope): Promise<AlertSuppression | undefined> {
    const response = await call(() => this.#client.get<AlertSuppression>({ index: this.#suppressions, id }).catch((error: { statusCode?: number }) => {
      if (error.statusCode === 404) return undefined;
      throw error;
    }));
    const suppression = response?.found ? response._source : undefined;
    // Out of scope reads as absent, as for alerts.
    if (!suppression || (scope?.departments && (suppression.department === undefined || !scope.departments.includes(suppression.department)))) return undefined;
    await call(() => this.#client.delete({ index: this.#suppressions, id, refresh: true }).catch((error: { statusCode?: number }) => {
      if (error.statusCode !== 404) throw error;
    }));
    await this.#remarkOrLeave(suppression);
    return suppression;
  }

  async get(id: string, scope?: Scope): Promise<Alert | undefined> {
    const found = await this.#load(id);
    return found && inScope(found.alert, scope) ? found.alert : undefined;
  }

  async update(id: string, change: AlertStatusChange, scope?: Scope): Promise<Alert> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
      const found = await this.#load(id);
      // Out of scope reads as absent: a caller learns nothing about other departments' alerts.
      if (!found || !inScope(found.alert, scope)) throw StoreErrors.notFound('alert', id);
      const next = applyAlertChange(found.alert, change);
      if (!next) throw StoreErrors.transition(found.alert.status, change.status ?? found.alert.status);
      try {
        await this.#client.index({
          index: this.#index, id, document: next, if_seq_no: found.seqNo, if_primary_term: found.primaryTerm, refresh: true,
        }, SEND_ONCE);
        return next;
      } catch (error) {
        if ((error as { statusCode?: number }).statusCode !== 409) throw translateError(error);
      }
    }
    throw StoreErrors.unavailable(`alert ${id} kept changing under concurrent updates`);
  }

  async search(query: AlertQuery, page?: AlertPageRequest): Promise<Page<Alert>> {
    const sort = alertSortField(page?.sort);
    const size = pageSize(page);
    const order = page?.order ?? 'desc';
    // Keyset paging on (sorted field, last seen, id) with search_after; the cursor format matches the embedded store.
    const ranked = RANKED[sort];
    const after = page?.after ? decodeAlertCursor(page.after, sort) : undefined;
    if (after && ranked) after[0] = Number(after[0]) + RANK_OFFSET;
    const response = await call(() => this.#client.search<Alert>({
      index: this.#index, size: size + 1, track_total_hits: TOTAL_COUNT_LIMIT,
      query: ranked ? rankedQuery(alertQuery(query), ranked.field, ranked.values) : alertQuery(query),
      sort: [
        ...(sort === 'lastSeen' ? [] : [SORTS[sort](order)]),
        { lastSeen: { order, format: 'epoch_millis' } } as estypes.SortCombinations, { id: order },
      ],
      ...(after ? { search_after: after } : {}),
    }));
    const hits = response.hits.hits;
    const items = hits.slice(0, size);
    const last = items[items.length - 1];
    const total = response.hits.total as estypes.SearchTotalHits;
    // Dates come back as strings under the epoch_millis format; the cursor keeps numbers, as SQLite gives them.
    const textPrimary = sort === 'system' || sort === 'department';
    const key = last?.sort?.map((value, i, all) => (i === all.length - 1 || (i === 0 && textPrimary) ? String(value)
      : i === 0 && ranked ? Number(value) - RANK_OFFSET : Number(value)));
    return {
      items: items.map((hit) => alertOf(hit._source as StoredAlert)),
      total: Math.min(total.value, TOTAL_COUNT_LIMIT),
      ...(total.relation === 'gte' ? { totalIsLowerBound: true as const } : {}),
      ...(hits.length > size && key ? { next: encodeAlertCursor(key) } : {}),
    };
  }

  async groups(query: AlertQuery, by: 'ruleId' | 'system', limit = 1000): Promise<AlertGroup[]> {
    type Group = estypes.AggregationsStringTermsBucket & {
      maxPriority: { value: number | null }; lastSeen: { value: number | null }; title?: estypes.AggregationsStringTermsAggregate;
    };
    const response = await call(() => this.#client.search({
      index: this.#index, query: alertQuery(query), size: 0, track_total_hits: false,
      aggregations: {
        groups: {
          terms: { field: GROUP_FIELDS[by], size: limit, order: [{ maxPriority: 'desc' }, { _count: 'desc' }, { _key: 'asc' }] },
          aggregations: {
            maxPriority: { max: { field: 'priority' } }, lastSeen: { max: { field: 'lastSeen' } },
            ...(by === 'ruleId' ? { title: { terms: { field: 'rule.title.raw', size: 1 } } } : {}),
          },
        },
      },
    }));
    const buckets = (response.aggregations?.groups as estypes.AggregationsStringTermsAggregate).buckets as Group[];
    return buckets.map((bucket) => {
      const title = (bucket.title?.buckets as estypes.AggregationsStringTermsBucket[] | undefined)?.[0]?.key;
      return {
        key: String(bucket.key), count: bucket.doc_count, maxPriority: bucket.maxPriority.value ?? 0,
        lastSeen: new Date(bucket.lastSeen.value ?? 0).toISOString(), ...(title !== undefined ? { title: String(title) } : {}),
      };
    });
  }

  async countBy(query: AlertQuery, field: AlertGroupField): Promise<Bucket[]> {
    const target = GROUP_FIELDS[field];
    if (!target) throw StoreErrors.invalidQuery(`cannot group alerts by ${JSON.stringify(field)}`);
    const response = await call(() => this.#client.search({
      index: this.#index, query: alertQuery(query), size: 0, track_total_hits: false,
      aggregations: { groups: { terms: { field: target, size: 1000, order: [{ _count: 'desc' }, { _key: 'asc' }] } } },
    }));
    const buckets = (response.aggregations?.groups as estypes.AggregationsStringTermsAggregate).buckets as estypes.AggregationsStringTermsBucket[];
    return buckets.map((bucket) => ({ key: String(bucket.key), count: bucket.doc_count }));
  }


  async problems(query: AlertQuery): Promise<AlertProblem[]> {
    type Group = {
      key: { system: string; ruleId: string }; doc_count: number; maxPriority: { value: number | null }; lastSeen: { value: number | null };
      department: estypes.AggregationsStringTermsAggregate; title: estypes.AggregationsStringTermsAggregate;
    };
    const problems: AlertProblem[] = [];
    const pages = compositeBuckets<Group>('groups', (after) => call(() => this.#client.search({
      index: this.#index, query: alertQuery(query), size: 0, track_total_hits: false,
      aggregations: {
        groups: {
          composite: {
            size: 1000, sources: [{ system: { terms: { field: 'system' } } }, { ruleId: { terms: { field: 'rule.id' } } }],
            ...(after ? { after } : {}),
          },
          aggregations: {
            maxPriority: { max: { field: 'priority' } }, lastSeen: { max: { field: 'lastSeen' } },
            // The largest department id, as SQLite's max(): a system that moved departments is filed alike on both stores.
            department: { terms: { field: 'department', size: 1, order: { _key: 'desc' } } }, title: { terms: { field: 'rule.title.raw', size: 1 } },
          },
        },
      },
    })));
    for await (const group of pages) {
      const department = (group.department.buckets as estypes.AggregationsStringTermsBucket[])[0]?.key;
      const title = (group.title.buckets as estypes.AggregationsStringTermsBucket[])[0]?.key;
      problems.push({
        system: group.key.system, ...(department !== undefined ? { department: String(department) } : {}), ruleId: group.key.ruleId,
        ruleTitle: String(title ?? group.key.ruleId), count: group.doc_count, maxPriority: group.maxPriority.value ?? 0,
        lastSeen: new Date(group.lastSeen.value ?? 0).toISOString(),
      });
    }
    return problems;
  }

  async daily(query: AlertQuery, options: { timeZone: string; openStatuses: readonly AlertStatus[] }): Promise<AlertDayGroup[]> {
    type Group = {
      key: { day: number; department: string | null; system: string | null; ruleId: string }; doc_count: number;
      maxPriority: { value: number | null }; lastSeen: { value: number | null }; open: { doc_count: number };
      title: estypes.AggregationsStringTermsAggregate;
    };
    // The zone's name, not an offset: Elasticsearch's calendar days follow its daylight-saving switches and quarter hours.
    const timeZone = dayZone(options.timeZone);
    const groups: AlertDayGroup[] = [];
    const pages = compositeBuckets<Group>('groups', (after) => call(() => this.#client.search({
      index: this.#index, query: alertQuery(query), size: 0, track_total_hits: false,
      aggregations: {
        groups: {
          composite: {
            // A month of groups (about 5,000 at 5,000 alerts) in one or two round trips; max_buckets is 65,536.
            size: 10_000,
            sources: [
              { day: { date_histogram: { field: 'lastSeen', calendar_interval: '1d', time_zone: timeZone } } },
              { department: { terms: { field: 'department', missing_bucket: true } } },
              { system: { terms: { field: 'system', missing_bucket: true } } },
              { ruleId: { terms: { field: 'rule.id' } } },
            ],
            ...(after ? { after } : {}),
          },
          aggregations: {
            maxPriority: { max: { field: 'priority' } }, lastSeen: { max: { field: 'lastSeen' } },
            open: { filter: { terms: { status: [...options.openStatuses] } } }, title: { terms: { field: 'rule.title.raw', size: 1 } },
          },
        },
      },
    })));
    for await (const group of pages) {
      const title = (group.title.buckets as estypes.AggregationsStringTermsBucket[])[0]?.key;
      const { day, department, system, ruleId } = group.key;
      groups.push({
        day: new Date(day).toISOString(), ...(department !== null ? { department } : {}), ...(system !== null ? { system } : {}), ruleId,
        ruleTitle: String(title ?? ruleId), count: group.doc_count, open: group.open.doc_count, maxPriority: group.maxPriority.value ?? 0,
        lastSeen: new Date(group.lastSeen.value ?? 0).toISOString(),
      });
    }
    return groups;
  }

  async #load(id: string): Promise<{ alert: Alert; seqNo: number; primaryTerm: number } | undefined> {
    const response = await call(() => this.#client.get<Alert>({ index: this.#index, id }).catch((error: { statusCode?: number }) => {
      if (error.statusCode === 404) return undefined;
      throw error;
    }));
    if (!response?.found || !response._source) return undefined;
    return { alert: alertOf(response._source as StoredAlert), seqNo: response._seq_no!, primaryTerm: response._primary_term! };
  }
}
