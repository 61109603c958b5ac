import type { Client, estypes } from '@elastic/elasticsearch';
import type { ShouwangEvent } from '../../core/index.js';
import { StoreErrors } from '../errors.js';
import { checkField, storableEvent, toMillis } from '../paging.js';
import type {
  Bucket, DataRange, EventQuery, EventStore, Page, PageRequest, Scope, SourceQuery, SourceSeen, TimeBucket, WriteResult,
} from '../ports.js';
import { SOURCE_CLOCK_SKEW_MS } from '../ports.js';
import type { IndexNames } from './indices.js';
import { bool, compositeBuckets, matchClause, rangeClause, scopeClause, searchPage, termsClause, textClause, type Clause } from './query.js';
import { call, reasonOf, sleep } from './translate.js';

const DEPARTMENT = 'shouwang.department';
/** Backoff for items Elasticsearch could not take yet (429, 5xx): 0.2 s doubling, five tries. */
const RETRY_DELAYS_MS = [200, 400, 800, 1600, 3200];
/** What a bulk answer is read for: each item's status, and the error of a refused one. */
const BULK_ANSWER = ['items.*.status', 'items.*.error'];


function eventQuery(query: EventQuery): Clause {
  return bool([
    ...rangeClause('@timestamp', query),
    ...scopeClause(DEPARTMENT, query.scope),
    ...Object.entries(query.filters ?? {}).flatMap(([field, wanted]) =>
      termsClause(field, Array.isArray(wanted) ? wanted : [wanted])),
    ...textClause('message', query.text),
    ...(query.match && query.match.kind !== 'all' ? [matchClause(query.match)] : []),
  ]);
}


export class ElasticsearchEventStore implements EventStore {
  readonly #client: Client;
  readonly #names: IndexNames;

  constructor(client: Client, names: IndexNames) {
    this.#client = client;
    this.#names = names;
  }

  /**
   * Bulk `create` by id: an id already stored is a duplicate (409), a document the mapping refuses
   * is rejected with Elasticsearch's reason, and items refused for load (429, 5xx) are retried.
   */
  async write(events: readonly ShouwangEvent[]): Promise<WriteResult> {
    const result: WriteResult = { written: 0, duplicates: 0, rejected: [] };
    // Each event's two NDJSON lines are serialized once, here, and reused by a retry of the items refused for load.
    let pending: { id: string; lines: string }[] = [];
    for (const raw of events) {
      const prepared = storableEvent(raw);
      if ('reason' in prepared) {
        result.rejected.push({ id: String(raw.id ?? ''), reason: prepared.reason });
        continue;
      }
      const iso = new Date(raw['@timestamp']).toISOString();
      // A copy only when the time is not already in the stored form (the decoders write it so).
      const event = iso === prepared.event['@timestamp'] ? prepared.event : { ...prepared.event, '@timestamp': iso };
      const action = `{"create":{"_index":${JSON.stringify(this.#names.eventsFor(iso))},"_id":${JSON.stringify(event.id)}}}\n`;
      pending.push({ id: event.id, lines: `${action}${JSON.stringify(event)}\n` });
    }
    for (let attempt = 0; pending.length > 0; attempt += 1) {
      if (attempt > 0) {
        const delay = RETRY_DELAYS_MS[attempt - 1];
        if (delay === undefined) throw StoreErrors.unavailable(`${pending.length} events still refused after ${RETRY_DELAYS_MS.length} retries`);
        await sleep(delay);
      }
      const batch = pending;
      // A prebuilt body skips the client's serializer; filter_path keeps only what is read back (about 1/10 of the answer).
      const response = await call(() => this.#client.bulk({
        operations: Buffer.from(batch.map((item) => item.lines).join('')) as never, filter_path: BULK_ANSWER,
      }));
      const items = response.items ?? [];
      if (items.length !== batch.length) throw StoreErrors.unavailable(`bulk answered ${items.length} items for ${batch.length}`);
      pending = [];
      items.forEach((item, i) => {
        const outcome = item.create!;
        const event = batch[i]!;
        if (outcome.status === 201) result.written += 1;
        else if (outcome.status === 409) result.duplicates += 1;
        else if (outcome.status === 429 || outcome.status >= 500) pending.push(event);
        else result.rejected.push({ id: event.id, reason: reasonOf(outcome.error) });
      });
    }
    return result;
  }

  async get(id: string, scope?: Scope): Promise<ShouwangEvent | undefined> {
    const response = await call(() => this.#client.search<ShouwangEvent>({
      index: this.#names.eventsPattern,
      query: bool([{ ids: { values: [id] } }, ...scopeClause(DEPARTMENT, scope)]),
      size: 1,
      ignore_unavailable: true,
      allow_no_indices: true,
    }));
    return response.hits.hits[0]?._source;
  }

  async search(query: EventQuery, page?: PageRequest): Promise<Page<ShouwangEvent>> {
    return searchPage(this.#client, {
      index: this.#names.eventsPattern, query: eventQuery(query), timeField: '@timestamp', tiebreak: 'id', page,
      decode: (source) => source as ShouwangEvent,
    });
  }

  async countBy(query: EventQuery, field: string, limit = 10): Promise<Bucket[]> {
    const response = await this.#aggregate(query, {
      groups: { terms: { field: checkField(field), size: limit, order: [{ _count: 'desc' }, { _key: 'asc' }] } },
    });
    const buckets = (response.aggregations?.groups as estypes.AggregationsStringTermsAggregate | undefined)?.buckets;
    return ((buckets ?? []) as estypes.AggregationsStringTermsBucket[]).map((bucket) => ({
      key: bucket.key_as_string ?? String(bucket.key),
      count: bucket.doc_count,
    }));
  }

  async histogram(query: EventQuery, intervalMs: number): Promise<TimeBucket[]> {
    if (!Number.isInteger(intervalMs) || intervalMs < 1000) throw StoreErrors.invalidQuery(`interval must be ≥ 1000 ms, got ${intervalMs}`);
    const response = await this.#aggregate(query, {
      buckets: { date_histogram: { field: '@timestamp', fixed_interval: `${intervalMs}ms`, min_doc_count: 1 } },
    });
    const buckets = (response.aggregations?.buckets as estypes.AggregationsDateHistogramAggregate | undefined)?.buckets;
    return ((buckets ?? []) as estypes.AggregationsDateHistogramBucket[]).map((bucket) => ({
      start: new Date(Number(bucket.key)).toISOString(),
      count: bucket.doc_count,
    }));
  }

  async range(scope?: Scope): Promise<DataRange> {
    const response = await this.#aggregate({ ...(scope ? { scope } : {}) }, {
      oldest: { min: { field: '@timestamp' } },
      newest: { max: { field: '@timestamp' } },
    }, true);
    const total = (response.hits.total as estypes.SearchTotalHits).value;
    const edge = (name: string) => (response.aggregations?.[name] as estypes.AggregationsMinAggregate | undefined)?.value;
    const oldest = edge('oldest');
    const newest = edge('newest');
    return {
      count: total,
      ...(total && oldest != null ? { oldest: new Date(oldest).toISOString() } : {}),
      ...(total && newest != null ? { newest: new Date(newest).toISOString() } : {}),
    };
  }

  /**
   * One composite aggregation over (system, host, dataset, department) with the newest timestamp of
   * each, paged by its after key; a source whose system moved department keeps the newest one.
   */
  async sourcesSeen(query: SourceQuery): Promise<SourceSeen[]> {
    const filter = bool([
      { exists: { field: 'shouwang.system' } },
      { range: { '@timestamp': { ...(query.since ? { gte: toMillis(query.since, 'since') } : {}), lte: Date.now() + SOURCE_CLOCK_SKEW_MS, format: 'epoch_millis' } } },
      ...(query.systems ? termsClause('shouwang.system', query.systems) : []),
      ...scopeClause(DEPARTMENT, query.scope),
    ]);
    type SourceBucket = estypes.AggregationsCompositeBucket & { newest: estypes.AggregationsMaxAggregate };
    const sources = new Map<string, SourceSeen & { at: number }>();
    const pages = compositeBuckets<SourceBucket>('sources', (after) => call(() => this.#client.search({
      index: this.#names.eventsPattern, query: filter, size: 0, track_total_hits: false, ignore_unavailable: true, allow_no_indices: true,
      aggregations: {
        sources: {
          composite: {
            size: 1000, ...(after ? { after } : {}),
            sources: [
              { system: { terms: { field: 'shouwang.system' } } },
              { host: { terms: { field: 'host.name', missing_bucket: true } } },
              { dataset: { terms: { field: 'event.dataset', missing_bucket: true } } },
              { department: { terms: { field: DEPARTMENT, missing_bucket: true } } },
            ],
          },
          aggregations: { newest: { max: { field: '@timestamp' } } },
        },
      },
    })));
    for await (const bucket of pages) {
      const at = bucket.newest.value;
      if (at === null) continue;
      const source = { system: String(bucket.key.system), host: String(bucket.key.host ?? ''), dataset: String(bucket.key.dataset ?? '') };
      const key = `${source.system}\u0000${source.host}\u0000${source.dataset}`;
      const known = sources.get(key);
      if (known && known.at >= at) continue;
      const department = bucket.key.department;
      sources.set(key, { ...source, ...(department ? { department: String(department) } : {}), lastSeen: new Date(at).toISOString(), at });
    }
    return [...sources.values()].map(({ at: _at, ...source }) => source);
  }

  /** Drops whole months before `before`, then deletes the rest of the month it falls in. */
  async deleteBefore(before: string): Promise<number> {
    const cutoff = toMillis(before, 'before');
    const boundary = this.#names.eventsFor(new Date(cutoff).toISOString());
    const indices = await call(() => this.#client.cat.indices({ index: this.#names.eventsPattern, format: 'json', h: ['index', 'docs.count'] }));
    let deleted = 0;
    for (const { index, 'docs.count': docs } of indices) {
      if (!index || index >= boundary) continue;
      await call(() => this.#client.indices.delete({ index }));
      deleted += Number(docs ?? 0);
    }
    if (indices.some(({ index }) => index === boundary)) {
      const response = await call(() => this.#client.deleteByQuery({
        index: boundary, query: { range: { '@timestamp': { lt: cutoff, format: 'epoch_millis' } } }, refresh: true, conflicts: 'proceed',
      }));
      deleted += response.deleted ?? 0;
    }
    return deleted;
  }

  #aggregate(query: EventQuery, aggregations: Record<string, estypes.AggregationsAggregationContainer>, exactTotal = false) {
    return call(() => this.#client.search({
      index: this.#names.eventsPattern,
      query: eventQuery(query),
      size: 0,
      aggregations,
      track_total_hits: exactTotal ? true : false,
      ignore_unavailable: true,
      allow_no_indices: true,
    }));
  }
}
