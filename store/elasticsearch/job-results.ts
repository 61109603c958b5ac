import type { Client } from '@elastic/elasticsearch';
import type { JobResult } from '../../core/index.js';
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
    const filter = bool([
      ...rangeClause('finishedAt', query),
      ...termsClause('kind', query.kind === undefined ? undefined : [query.kind]),
      ...termsClause('system', query.system === undefined ? undefined : [query.system]),
      ...termsClause('status', query.status === undefined ? undefined : [query.status]),
      ...scopeClause('department', query.scope),
    ]);
    return searchPage(this.#client, {
      index: this.#index, query: filter, timeField: 'finishedAt', tiebreak: 'id', page, decode: (source) => source as JobResult,
    });
  }
}
