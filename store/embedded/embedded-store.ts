import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from '../../core/index.js';
import type { Store } from '../ports.js';
import { EmbeddedAlertStore } from './alerts.js';
import { EmbeddedAssetStore } from './assets.js';
import { EmbeddedAuditTrailStore } from './audit-trail.js';
import { EventReader } from './event-reader.js';
import { EmbeddedEventStore, WAL_AUTOCHECKPOINT_PAGES } from './events.js';
import { EmbeddedJobResultStore } from './job-results.js';
import { migrate } from './migrations.js';
import { EmbeddedSessionStore, EmbeddedUserStore } from './users.js';

export interface EmbeddedStoreOptions {
  /** A file path, or `:memory:` for tests that need no file. */
  path: string;
  /** A console read of events past this many ms is stopped (SW_ERR_STORE_QUERY_TIMEOUT); default 10 s. */
  queryTimeoutMs?: number;
}

/** The default store: one SQLite file in WAL mode, so one machine runs everything without a server. */
export class EmbeddedStore implements Store {
  readonly kind = 'embedded';
  readonly events: EmbeddedEventStore;
  readonly alerts: EmbeddedAlertStore;
  readonly assets: EmbeddedAssetStore;
  readonly jobResults: EmbeddedJobResultStore;
  readonly audit: EmbeddedAuditTrailStore;
  readonly users: EmbeddedUserStore;
  readonly sessions: EmbeddedSessionStore;
  readonly #db: Database.Database;
  readonly #reader: EventReader | undefined;
  #closed = false;

  constructor(options: EmbeddedStoreOptions) {
    const onDisk = options.path !== ':memory:' && options.path !== '';
    if (onDisk) {
      mkdirSync(dirname(options.path), { recursive: true, mode: PRIVATE_DIR_MODE });
      // Created 0600 before SQLite opens it; SQLite gives its -wal and -shm files the database file's mode.
      closeSync(openSync(options.path, 'a', PRIVATE_FILE_MODE));
      chmodSync(options.path, PRIVATE_FILE_MODE);
    }
    this.#db = new Database(options.path);
    this.#db.pragma('journal_mode = WAL');
    // Files left by an older version (0644, password hashes and CSRF tokens inside) are tightened too.
    if (onDisk) for (const suffix of ['-wal', '-shm']) if (existsSync(options.path + suffix)) chmodSync(options.path + suffix, PRIVATE_FILE_MODE);
    // NORMAL is durable across process crashes in WAL mode; only a power cut may lose the last commit.
    this.#db.pragma('synchronous = NORMAL');
    this.#db.pragma('busy_timeout = 5000');
    // Checkpoint every 10,000 pages (~40 MB of WAL) rather than 1,000: each checkpoint syncs the file,
    // and at 1,000 they cost writes about a third of their throughput (bench store-write). Event writes
    // leave it to the next other commit (events.ts).
    this.#db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
    // 64 MiB of page cache instead of 2: the id lookups of every write and the merges of staged events
    // into the indexes read index pages from memory rather than the OS (bench store-write).
    this.#db.pragma('cache_size = -65536');
    migrate(this.#db);
    // On a file, the console's event reads run in worker threads on read-only connections (event-reader.ts).
    if (onDisk) this.#reader = new EventReader(options.path, { timeoutMs: options.queryTimeoutMs ?? 10_000 });
    this.events = new EmbeddedEventStore(this.#db, this.#reader);
    this.alerts = new EmbeddedAlertStore(this.#db);
    this.assets = new EmbeddedAssetStore(this.#db);
    this.jobResults = new EmbeddedJobResultStore(this.#db);
    this.audit = new EmbeddedAuditTrailStore(this.#db);
    this.users = new EmbeddedUserStore(this.#db);
    this.sessions = new EmbeddedSessionStore(this.#db);
  }

  async health(): Promise<{ ok: boolean; detail: string }> {
    if (this.#closed) return { ok: false, detail: 'closed' };
    const row = this.#db.prepare('SELECT sqlite_version() AS version').get() as { version: string };
    return { ok: true, detail: `sqlite ${row.version}, ${this.#db.name}` };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.#reader?.close();
      this.events.close();
    } finally {
      this.#db.close();
    }
  }
}
