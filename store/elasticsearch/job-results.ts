import type { Client, estypes } from '@elastic/elasticsearch';
import type { JobResult } from '../../core/index.js';
import { StoreErrors } from '../errors.js';
import type { JobResultQuery, JobResultStore, Page, PageRequest, Scope } from '../ports.js';
import type { IndexNames } from './indices.js';
import { bool, rangeClause, scopeClause, searchPage, termsClause } from './query.js';
import { call } from './translate.js';

export class ElasticsearchJobResultStore implements JobResultStore {
  readonly #client: Client;
  readonly #index: string;

  constructor(client: Client, names: IndexNames) {
    this.#client = client;
    this.#index = names.jobResults;
  }

  async put(result: JobResult): Promise<void> {
    await call(() => this.#client.index({ index: this.#index, id: result.id, document: result, refresh: 'wait_for' }));
  }

  async get(id: string, scope?: Scope): Promise<JobResult | undefined> {
    const response = await call(() => this.#client.search<JobResult>({
      index: this.#index, query: bool([{ ids: { values: [id] } }, ...scopeClause('department', scope)]), size: 1,
    }));
    return response.hits.hits[0]?._source;
  }

  async search(query: JobResultQuery, page?: PageRequest): Promise<Page<JobResult>> {
    return searchPage(this.#client, {
      index: this.#index, query: resultQuery(query), timeField: 'finishedAt', tiebreak: 'id', page, decode: (source) => source as JobResult,
    });
  }

  async latestPerSystem(query: JobResultQuery, perGroup: number): Promise<JobResult[]> {
    if (!Number.isInteger(perGroup) || perGroup < 1 || perGroup > 100) throw StoreErrors.invalidQuery(`perGroup must be 1–100, got ${perGroup}`);
    const response = await call(() => this.#client.search({
      index: this.#index, query: resultQuery(query), size: 0, track_total_hits: false,
      aggregations: {
        systems: {
          terms: { field: 'system', size: 10_000 },
          aggregations: {
            sites: {
              terms: { field: 'site', size: 10, missing: '' },
              aggregations: { newest: { top_hits: { size: perGroup, sort: [{ finishedAt: 'desc' }, { id: 'desc' }] } } },
            },
          },
        },
      },
    }));
    type SiteBucket = estypes.AggregationsStringTermsBucket & { newest: estypes.AggregationsTopHitsAggregate };
    type SystemBucket = estypes.AggregationsStringTermsBucket & { sites: estypes.AggregationsStringTermsAggregate };
    const results: JobResult[] = [];
    for (const system of (response.aggregations?.systems as estypes.AggregationsStringTermsAggregate).buckets as SystemBucket[]) {
      for (const site of system.sites.buckets as SiteBucket[]) {
        for (const hit of site.newest.hits.hits) results.push(hit._source as JobResult);
      }
    }
    return results.sort((a, b) => (a.finishedAt === b.finishedAt ? (a.id < b.id ? 1 : -1) : a.finishedAt < b.finishedAt ? 1 : -1));
  }
}

function resultQuery(query: JobResultQuery) {
  return bool([
    ...rangeClause('finishedAt', query),
    ...termsClause('kind', query.kind === undefined ? undefined : [query.kind]),
    ...termsClause('system', query.system === undefined ? undefined : [query.system]),
    ...termsClause('status', query.status === undefined ? undefined : [query.status]),
    ...scopeClause('department', query.scope),
  ]);
}
