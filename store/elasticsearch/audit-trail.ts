import type { Client } from '@elastic/elasticsearch';
import {
  ChainVerifier, chainEntry, type AuditCheckpoint, type AuditEntry, type AuditKey, type AuditLink, type AuditVerification,
  type ChainedAuditEntry,
} from '../../core/index.js';
import { AuditAnchor, type AnchorOptions } from '../audit-anchor.js';
import { StoreErrors } from '../errors.js';
import type { AuditQuery, AuditTrailStore, Page, PageRequest } from '../ports.js';
import type { IndexNames } from './indices.js';
import { bool, rangeClause, searchPage, type Clause } from './query.js';
import { call, SEND_ONCE, translateError } from './translate.js';

const MAX_ATTEMPTS = 64;
const BATCH = 1000;

/**
 * The stored document: the entry and how many departments it names, which terms_set needs to ask "all of
 * them in the scope" without a script (clusters may run without Painless). verify checks the count.
 */
type StoredEntry = ChainedAuditEntry & { departmentCount: number };
const stored = (entry: ChainedAuditEntry): StoredEntry => ({ ...entry, departmentCount: entry.departments?.length ?? 0 });
function entryOf(source: unknown): ChainedAuditEntry {
  const { departmentCount: _count, ...entry } = source as StoredEntry;
  return entry;
}

/** Inside a scope: entries with departments, every one of them in the scope; city-wide entries never. */
function auditScopeClause(query: AuditQuery): Clause[] {
  const departments = query.scope?.departments;
  if (!departments) return [];
  if (departments.length === 0) return [{ match_none: {} }];
  return [
    { terms: { departments: [...departments] } },
    { terms_set: { departments: { terms: [...departments], minimum_should_match_field: 'departmentCount' } } },
  ];
}

export class ElasticsearchAuditTrailStore implements AuditTrailStore {
  readonly #client: Client;
  readonly #index: string;
  readonly #checkpointIndex: string;
  #queue: Promise<unknown> = Promise.resolve();
  #tail: ChainedAuditEntry | undefined;
  #anchor: AuditAnchor | undefined;

  constructor(client: Client, names: IndexNames) {
    this.#client = client;
    this.#index = names.audit;
    this.#checkpointIndex = names.auditCheckpoints;
  }

  /**
   * The entry's id is its seq, created with op_type create: two writers cannot both take the same place.
   * The loser reads the winner's entry by id (a real-time get, unlike search) and chains onto it.
   * Appends from this process go one at a time, so only other processes can race.
   */
  append(entry: AuditEntry): Promise<ChainedAuditEntry> {
    const next = this.#queue.then(() => this.#append(entry));
    this.#queue = next.catch(() => undefined);
    return next.then(async (chained) => {
      await this.#anchor?.afterAppend(chained);
      return chained;
    });
  }

  async #append(entry: AuditEntry): Promise<ChainedAuditEntry> {
    let last = this.#tail ?? (await this.#last());
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
      const chained = chainEntry(last, entry);
      try {
        // Appends go one at a time: waiting for the scheduled refresh ('wait_for') held each login for up to a second.
        await this.#client.create({ index: this.#index, id: String(chained.seq), document: stored(chained), refresh: true }, SEND_ONCE);
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

  async list(query: AuditQuery, page?: PageRequest): Promise<Page<ChainedAuditEntry>> {
    return searchPage(this.#client, {
      index: this.#index, query: bool([...rangeClause('at', query), ...auditScopeClause(query)]), timeField: 'at', tiebreak: 'seq', page,
      decode: entryOf, tiebreakValue: Number,
    });
  }

  async verify(): Promise<AuditVerification> {
    // The mark outside the store first: an append racing with verify can only put the store ahead of it.
    const highWater = this.#anchor?.highWater();
    const verifier = new ChainVerifier(await this.checkpoints(), this.#anchor?.key.publicKey, highWater);
    for await (const docs of this.#bySeq<StoredEntry>(this.#index)) {
      for (const doc of docs) {
        // The count the scope filter reads must say what the hashed entry says.
        if (doc.departmentCount !== (doc.departments?.length ?? 0)) verifier.breakAt(doc.seq, 'column_mismatch');
        verifier.push([entryOf(doc)]);
      }
    }
    return verifier.result();
  }

  async anchorWith(key: AuditKey, options?: AnchorOptions): Promise<() => void> {
    this.#anchor = new AuditAnchor({
      head: async () => {
        const last = await this.#last();
        return last ? { seq: last.seq, hash: last.hash } : undefined;
      },
      latestCheckpoint: () => this.#latestCheckpoint(),
      putCheckpoint: async (checkpoint) => {
        try {
          // No wait for a refresh (a checkpoint follows every append): checkpoints() refreshes before it reads.
          await this.#client.create({ index: this.#checkpointIndex, id: String(checkpoint.seq), document: checkpoint });
        } catch (error) {
          // Another process anchored the same head first.
          if ((error as { statusCode?: number }).statusCode !== 409) throw translateError(error);
        }
      },
      hashAt: async (seq) => {
        try {
          return (await this.#client.get<ChainedAuditEntry>({ index: this.#index, id: String(seq) }))._source?.hash;
        } catch (error) {
          if ((error as { statusCode?: number }).statusCode === 404) return undefined;
          throw translateError(error);
        }
      },
    }, key, options);
    return this.#anchor.start();
  }

  async checkpoint(): Promise<AuditCheckpoint | undefined> {
    return this.#anchor ? this.#anchor.checkpoint() : this.#latestCheckpoint();
  }

  async checkpoints(): Promise<AuditCheckpoint[]> {
    // Every checkpoint stored so far (verify read the high-water mark before this, and it must find them).
    await call(() => this.#client.indices.refresh({ index: this.#checkpointIndex }));
    const all: AuditCheckpoint[] = [];
    for await (const batch of this.#bySeq<AuditCheckpoint>(this.#checkpointIndex)) all.push(...batch);
    return all;
  }

  async links(fromSeq: number, toSeq: number): Promise<AuditLink[]> {
    const links: AuditLink[] = [];
    for await (const batch of this.#bySeq(this.#index, { range: { seq: { gte: fromSeq, lte: toSeq } } })) {
      links.push(...batch.map(({ seq, prevHash, hash }) => ({ seq, prevHash, hash })));
    }
    return links;
  }

  /** Every document of an index in seq order, a batch at a time. */
  async *#bySeq<T extends { seq: number } = ChainedAuditEntry>(index: string, query?: Clause): AsyncGenerator<T[]> {
    let after: number | undefined;
    for (;;) {
      const response = await call(() => this.#client.search<T>({
        index, size: BATCH, sort: [{ seq: 'asc' }], ...(query ? { query } : {}), ...(after !== undefined ? { search_after: [after] } : {}),
      }));
      const batch = response.hits.hits.map((hit) => hit._source!);
      if (batch.length === 0) return;
      yield batch;
      after = batch[batch.length - 1]!.seq;
    }
  }

  async #latestCheckpoint(): Promise<AuditCheckpoint | undefined> {
    const response = await call(() => this.#client.search<AuditCheckpoint>({ index: this.#checkpointIndex, size: 1, sort: [{ seq: 'desc' }] }));
    return response.hits.hits[0]?._source;
  }

  async #last(): Promise<ChainedAuditEntry | undefined> {
    const response = await call(() => this.#client.search<ChainedAuditEntry>({ index: this.#index, size: 1, sort: [{ seq: 'desc' }] }));
    return response.hits.hits[0]?._source;
  }
}
