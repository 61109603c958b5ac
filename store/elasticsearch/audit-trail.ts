import type { Client } from '@elastic/elasticsearch';
import { chainEntry, findChainBreak, type AuditEntry, type ChainedAuditEntry } from '../../core/index.js';
import { StoreErrors } from '../errors.js';
import type { AuditTrailStore, Page, PageRequest, TimeRange } from '../ports.js';
import type { IndexNames } from './indices.js';
import { bool, rangeClause, searchPage } from './query.js';
import { call, translateError } from './translate.js';

const MAX_ATTEMPTS = 64;

export class ElasticsearchAuditTrailStore implements AuditTrailStore {
  readonly #client: Client;
  readonly #index: string;
  #queue: Promise<unknown> = Promise.resolve();
  #tail: ChainedAuditEntry | undefined;

  constructor(client: Client, names: IndexNames) {
    this.#client = client;
    this.#index = names.audit;
  }

  /**
   * The entry's id is its seq, created with op_type create: two writers cannot both take the same place.
   * The loser reads the winner's entry by id (a real-time get, unlike search) and chains onto it.
   * Appends from this process go one at a time, so only other processes can race.
   */
  append(entry: AuditEntry): Promise<ChainedAuditEntry> {
    const next = this.#queue.then(() => this.#append(entry));
    this.#queue = next.catch(() => undefined);
    return next;
  }

  async #append(entry: AuditEntry): Promise<ChainedAuditEntry> {
    let last = this.#tail ?? (await this.#last());
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
      const chained = chainEntry(last, entry);
      try {
        await this.#client.create({ index: this.#index, id: String(chained.seq), document: chained, refresh: 'wait_for' });
        this.#tail = chained;
        return chained;
      } catch (error) {
        if ((error as { statusCode?: number }).statusCode !== 409) throw translateError(error);
        const winner = await call(() => this.#client.get<ChainedAuditEntry>({ index: this.#index, id: String(chained.seq) }));
        last = winner._source;
      }
    }
    throw StoreErrors.unavailable('audit trail append kept racing with other writers');
  }

  async list(range: TimeRange, page?: PageRequest): Promise<Page<ChainedAuditEntry>> {
    return searchPage(this.#client, {
      index: this.#index, query: bool(rangeClause('at', range)), timeField: 'at', tiebreak: 'seq', page,
      decode: (source) => source as ChainedAuditEntry, tiebreakValue: Number,
    });
  }

  async verify(): Promise<{ ok: boolean; count: number; brokenAt?: number }> {
    let count = 0;
    let previous: ChainedAuditEntry | undefined;
    let after: number | undefined;
    for (;;) {
      const response = await call(() => this.#client.search<ChainedAuditEntry>({
        index: this.#index, size: 1000, sort: [{ seq: 'asc' }], ...(after !== undefined ? { search_after: [after] } : {}),
      }));
      const entries = response.hits.hits.map((hit) => hit._source!);
      if (entries.length === 0) return { ok: true, count };
      const brokenAt = findChainBreak(entries, previous);
      if (brokenAt !== undefined) return { ok: false, count: count + entries.length, brokenAt };
      count += entries.length;
      previous = entries[entries.length - 1]!;
      after = previous.seq;
    }
  }

  async #last(): Promise<ChainedAuditEntry | undefined> {
    const response = await call(() => this.#client.search<ChainedAuditEntry>({ index: this.#index, size: 1, sort: [{ seq: 'desc' }] }));
    return response.hits.hits[0]?._source;
  }
}
