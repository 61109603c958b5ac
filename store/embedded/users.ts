import type { Database } from 'better-sqlite3';
import { toMillis } from '../paging.js';
import { applyUserChange } from '../user-change.js';
import type { SessionRecord, SessionStore, UserRecord, UserStore, UserUpdate } from '../ports.js';

export class EmbeddedUserStore implements UserStore {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  async create(user: UserRecord): Promise<boolean> {
    const result = this.#db.prepare('INSERT OR IGNORE INTO users (username, doc) VALUES (?, ?)').run(user.username, JSON.stringify(user));
    return result.changes === 1;
  }

  async get(username: string): Promise<UserRecord | undefined> {
    const row = this.#db.prepare('SELECT doc FROM users WHERE username = ?').get(username) as { doc: string } | undefined;
    return row ? (JSON.parse(row.doc) as UserRecord) : undefined;
  }

  async list(): Promise<UserRecord[]> {
    const rows = this.#db.prepare('SELECT doc FROM users ORDER BY username').all() as { doc: string }[];
    return rows.map((row) => JSON.parse(row.doc) as UserRecord);
  }

  async update(username: string, change: UserUpdate): Promise<UserRecord | undefined> {
    // Read and write in one transaction, so two failed logins at once both count.
    return this.#db.transaction(() => {
      const row = this.#db.prepare('SELECT doc FROM users WHERE username = ?').get(username) as { doc: string } | undefined;
      if (!row) return undefined;
      const next = applyUserChange(JSON.parse(row.doc) as UserRecord, change);
      this.#db.prepare('UPDATE users SET doc = ? WHERE username = ?').run(JSON.stringify(next), username);
      return next;
    }).immediate();
  }

  async delete(username: string): Promise<boolean> {
    return this.#db.prepare('DELETE FROM users WHERE username = ?').run(username).changes === 1;
  }

  async count(): Promise<number> {
    return (this.#db.prepare('SELECT count(*) AS n FROM users').get() as { n: number }).n;
  }
}

export class EmbeddedSessionStore implements SessionStore {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  async create(session: SessionRecord): Promise<void> {
    this.#db.prepare('INSERT INTO sessions (id_hash, username, expires_at, doc) VALUES (?, ?, ?, ?)').run(
      session.idHash, session.username, toMillis(session.expiresAt, 'expiresAt'), JSON.stringify(session),
    );
  }

  async get(idHash: string): Promise<SessionRecord | undefined> {
    const row = this.#db.prepare('SELECT doc FROM sessions WHERE id_hash = ?').get(idHash) as { doc: string } | undefined;
    return row ? (JSON.parse(row.doc) as SessionRecord) : undefined;
  }

  async touch(idHash: string, lastSeenAt: string): Promise<void> {
    this.#db.prepare("UPDATE sessions SET doc = json_set(doc, '$.lastSeenAt', ?) WHERE id_hash = ?").run(lastSeenAt, idHash);
  }

  async delete(idHash: string): Promise<void> {
    this.#db.prepare('DELETE FROM sessions WHERE id_hash = ?').run(idHash);
  }

  async deleteForUser(username: string): Promise<number> {
    return this.#db.prepare('DELETE FROM sessions WHERE username = ?').run(username).changes;
  }

  async deleteExpired(before: string): Promise<number> {
    return this.#db.prepare('DELETE FROM sessions WHERE expires_at < ?').run(toMillis(before, 'before')).changes;
  }
}
