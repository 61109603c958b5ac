import type { Client } from '@elastic/elasticsearch';
import { toMillis } from '../paging.js';
import type { SessionRecord, SessionStore, UserRecord, UserStore, UserUpdate } from '../ports.js';
import { StoreErrors } from '../errors.js';
import { applyUserChange } from '../user-change.js';
import type { IndexNames } from './indices.js';
import { call, SEND_ONCE, translateError } from './translate.js';

const MAX_ATTEMPTS = 8;
const statusOf = (error: unknown) => (error as { statusCode?: number }).statusCode ?? (error as { meta?: { statusCode?: number } }).meta?.statusCode;

/** Users are few and rarely written: every write refreshes, so a list right after sees it. */
export class ElasticsearchUserStore implements UserStore {
  readonly #client: Client;
  readonly #index: string;

  constructor(client: Client, names: IndexNames) {
    this.#client = client;
    this.#index = names.users;
  }

  async create(user: UserRecord): Promise<boolean> {
    try {
      await this.#client.create({ index: this.#index, id: user.username, document: user, refresh: true }, SEND_ONCE);
      return true;
    } catch (error) {
      if (statusOf(error) === 409) return false;
      throw translateError(error);
    }
  }

  async get(username: string): Promise<UserRecord | undefined> {
    return (await this.#read(username))?.user;
  }

  async list(): Promise<UserRecord[]> {
    const response = await call(() => this.#client.search<UserRecord>({ index: this.#index, size: 10_000, sort: [{ username: 'asc' }] }));
    return response.hits.hits.map((hit) => hit._source!);
  }

  /** Optimistic concurrency: two failed logins at once both count. */
  async update(username: string, change: UserUpdate): Promise<UserRecord | undefined> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
      const current = await this.#read(username);
      if (!current) return undefined;
      const next = applyUserChange(current.user, change);
      try {
        await this.#client.index({
          index: this.#index, id: username, document: next, refresh: true, if_seq_no: current.seqNo, if_primary_term: current.primaryTerm,
        }, SEND_ONCE);
        return next;
      } catch (error) {
        if (statusOf(error) !== 409) throw translateError(error);
      }
    }
    throw StoreErrors.unavailable(`user ${username} kept changing under the update`);
  }

  async delete(username: string): Promise<boolean> {
    try {
      await this.#client.delete({ index: this.#index, id: username, refresh: true });
      return true;
    } catch (error) {
      if (statusOf(error) === 404) return false;
      throw translateError(error);
    }
  }

  async count(): Promise<number> {
    return (await call(() => this.#client.count({ index: this.#index }))).count;
  }

  async #read(username: string): Promise<{ user: UserRecord; seqNo: number; primaryTerm: number } | undefined> {
    try {
      const response = await this.#client.get<UserRecord>({ index: this.#index, id: username });
      return { user: response._source!, seqNo: response._seq_no!, primaryTerm: response._primary_term! };
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw translateError(error);
    }
  }
}

/** Sessions are read by id (real-time get), so writes need no refresh; bulk removals refresh first. */
export class ElasticsearchSessionStore implements SessionStore {
  readonly #client: Client;
  readonly #index: string;

  constructor(client: Client, names: IndexNames) {
    this.#client = client;
    this.#index = names.sessions;
  }

  async create(session: SessionRecord): Promise<void> {
    await call(() => this.#client.create({ index: this.#index, id: session.idHash, document: session }));
  }

  async get(idHash: string): Promise<SessionRecord | undefined> {
    try {
      return (await this.#client.get<SessionRecord>({ index: this.#index, id: idHash }))._source;
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw translateError(error);
    }
  }

  async touch(idHash: string, lastSeenAt: string): Promise<void> {
    try {
      await this.#client.update({ index: this.#index, id: idHash, doc: { lastSeenAt } });
    } catch (error) {
      // Logged out meanwhile: nothing to touch.
      if (statusOf(error) !== 404) throw translateError(error);
    }
  }

  async delete(idHash: string): Promise<void> {
    try {
      await this.#client.delete({ index: this.#index, id: idHash });
    } catch (error) {
      if (statusOf(error) !== 404) throw translateError(error);
    }
  }

  async deleteForUser(username: string): Promise<number> {
    return this.#deleteWhere({ term: { username } });
  }

  async deleteExpired(before: string): Promise<number> {
    return this.#deleteWhere({ range: { expiresAt: { lt: toMillis(before, 'before'), format: 'epoch_millis' } } });
  }

  /** Search then bulk delete: the test node has no full _delete_by_query, and the sets are small. */
  async #deleteWhere(query: Record<string, unknown>): Promise<number> {
    await call(() => this.#client.indices.refresh({ index: this.#index }));
    let removed = 0;
    for (;;) {
      const response = await call(() => this.#client.search({ index: this.#index, query, size: 1000, _source: false }));
      const ids = response.hits.hits.map((hit) => hit._id!);
      if (ids.length === 0) return removed;
      await call(() => this.#client.bulk({ refresh: true, operations: ids.map((id) => ({ delete: { _index: this.#index, _id: id } })) }));
      removed += ids.length;
    }
  }
}
