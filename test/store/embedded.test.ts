import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { CHECKPOINT_EVERY_ENTRIES, chainEntry } from '../../core/index.js';
import { EmbeddedStore, type Store } from '../../store/index.js';
import { MIGRATIONS } from '../../store/embedded/migrations.js';
import { describeAuditTamper } from './audit-tamper.js';
import { describeStoreContract } from './contract.js';

const dir = mkdtempSync(join(tmpdir(), 'shouwang-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeStoreContract('embedded (SQLite)', async () => new EmbeddedStore({ path: join(dir, 'contract.db') }));

describe('embedded store specifics', () => {
  it('runs in WAL mode and applies each migration once across reopenings', async () => {
    const path = join(dir, 'reopen.db');
    const first = new EmbeddedStore({ path });
    await first.events.write([{ id: 'x1', '@timestamp': '2026-01-01T00:00:00Z', message: 'kept across restarts' }]);
    await first.close();
    const second = new EmbeddedStore({ path });
    expect((await second.events.search({ text: 'restarts' })).total).toBe(1);
    await second.close();
    const db = new Database(path, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.prepare('SELECT count(*) AS n FROM schema_migrations').get()).toEqual({ n: MIGRATIONS.length });
    db.close();
  });

  it('fills the alert sort columns and the sampled-event table from the documents when upgrading a version-3 database', async () => {
    const path = join(dir, 'upgrade-3.db');
    const old = new Database(path);
    old.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
    for (const migration of MIGRATIONS.filter((m) => m.version <= 3)) {
      old.exec(migration.sql);
      old.prepare('INSERT INTO schema_migrations VALUES (?, ?, ?)').run(migration.version, migration.name, '2026-01-01T00:00:00Z');
    }
    const insert = old.prepare(`INSERT INTO alerts (id, rule_id, level, status, department, system, mlps, first_seen, last_seen, priority, doc)
      VALUES (?, 'r', 'high', 'new', 'd', 's', '[]', 0, 0, ?, ?)`);
    for (const [id, count, mlpsLevel] of [['a1', 3, 2], ['a2', 9, 4]] as const) {
      insert.run(id, 8, JSON.stringify({ id, rule: { id: 'r', title: `Rule ${id}`, level: 'high' }, priority: 8, count, mlpsLevel, sampleEventIds: [`${id}-e1`] }));
    }
    old.close();

    const store = new EmbeddedStore({ path });
    expect((await store.alerts.search({}, { sort: 'count' })).items.map((a) => a.id)).toEqual(['a2', 'a1']);
    expect((await store.alerts.search({ mlpsLevel: [2] })).items.map((a) => a.id)).toEqual(['a1']);
    expect((await store.alerts.search({ eventIds: ['a2-e1'] })).items.map((a) => a.id)).toEqual(['a2']);
    expect((await store.alerts.groups({}, 'ruleId'))[0]).toMatchObject({ key: 'r', count: 2, title: expect.stringMatching(/^Rule a/) });
    await store.close();
  });

  it('fills the posture columns from the documents when upgrading a version-2 database', async () => {
    const path = join(dir, 'upgrade.db');
    const old = new Database(path);
    old.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
    for (const migration of MIGRATIONS.filter((m) => m.version <= 2)) {
      old.exec(migration.sql);
      old.prepare('INSERT INTO schema_migrations VALUES (?, ?, ?)').run(migration.version, migration.name, '2026-01-01T00:00:00Z');
    }
    const insertEvent = old.prepare('INSERT INTO events (id, ts, department, system, message, doc) VALUES (?, ?, ?, ?, ?, ?)');
    for (const [id, iso, host] of [['e1', '2026-01-01T00:00:00.000Z', 'h1'], ['e2', '2026-01-03T00:00:00.000Z', 'h1'], ['e3', '2026-01-02T00:00:00.000Z', 'h2']] as const) {
      const event = { id, '@timestamp': iso, message: 'm', host: { name: host }, event: { dataset: 'syslog' }, shouwang: { department: 'd', system: 's' } };
      insertEvent.run(id, Date.parse(iso), 'd', 's', 'm', JSON.stringify(event));
    }
    const result = { id: 'r1', kind: 'backup-check', status: 'pass', system: 's', department: 'd', site: 'off-site', startedAt: '2026-01-01T00:00:00.000Z', finishedAt: '2026-01-01T00:00:00.000Z', summary: 'ok', detail: {} };
    old.prepare('INSERT INTO job_results (id, kind, status, system, department, finished_at, doc) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run('r1', 'backup-check', 'pass', 's', 'd', Date.parse(result.finishedAt), JSON.stringify(result));
    old.prepare(`INSERT INTO alerts (id, rule_id, level, status, department, system, mlps, first_seen, last_seen, doc)
      VALUES ('a1', 'r', 'high', 'new', 'd', 's', '[]', 0, 0, ?)`).run(JSON.stringify({ id: 'a1', priority: 17 }));
    old.close();

    const store = new EmbeddedStore({ path });
    expect(await store.events.sourcesSeen({})).toEqual([
      { system: 's', host: 'h1', dataset: 'syslog', department: 'd', lastSeen: '2026-01-03T00:00:00.000Z' },
      { system: 's', host: 'h2', dataset: 'syslog', department: 'd', lastSeen: '2026-01-02T00:00:00.000Z' },
    ]);
    expect((await store.jobResults.latestPerSystem({ kind: 'backup-check' }, 1)).map((r) => [r.id, r.site])).toEqual([['r1', 'off-site']]);
    expect(await store.alerts.problems({})).toEqual([
      { system: 's', department: 'd', ruleId: 'r', ruleTitle: 'r', count: 1, maxPriority: 17, lastSeen: '1970-01-01T00:00:00.000Z' },
    ]);
    await store.close();
  });

  it('refuses edits and deletions of the audit trail at the database level', async () => {
    const path = join(dir, 'audit.db');
    const store = new EmbeddedStore({ path });
    await store.audit.append({ at: '2026-01-01T00:00:00Z', actor: 'admin', action: 'user.create' });
    await store.close();
    const db = new Database(path);
    expect(() => db.prepare("UPDATE audit_trail SET doc = '{}'").run()).toThrow(/append-only/);
    expect(() => db.prepare('DELETE FROM audit_trail').run()).toThrow(/append-only/);
    db.close();
  });

  it('detects a tampered audit entry when verifying the chain', async () => {
    const path = join(dir, 'tamper.db');
    const store = new EmbeddedStore({ path });
    for (const action of ['a', 'b', 'c']) await store.audit.append({ at: '2026-01-01T00:00:00Z', actor: 'admin', action });
    await store.close();
    const db = new Database(path);
    // An attacker with file access drops the trigger and rewrites entry 2.
    db.exec('DROP TRIGGER audit_trail_no_update');
    const row = db.prepare('SELECT doc FROM audit_trail WHERE seq = 2').get() as { doc: string };
    db.prepare('UPDATE audit_trail SET doc = ? WHERE seq = 2').run(row.doc.replace('"action":"b"', '"action":"x"'));
    db.close();
    const reopened = new EmbeddedStore({ path });
    expect(await reopened.audit.verify()).toMatchObject({ ok: false, count: 3, brokenAt: 2, problem: 'chain' });
    await reopened.close();
  });

  it('reports an audit row of random bytes as a broken chain, not an error', async () => {
    const path = join(dir, 'garbage.db');
    const store = new EmbeddedStore({ path });
    for (const action of ['a', 'b', 'c']) await store.audit.append({ at: '2026-01-01T00:00:00Z', actor: 'admin', action });
    const db = new Database(path);
    db.exec('DROP TRIGGER audit_trail_no_update');
    db.prepare('UPDATE audit_trail SET doc = ? WHERE seq = 2').run(randomBytes(64).toString('latin1'));
    db.close();
    expect(await store.audit.verify()).toMatchObject({ ok: false, count: 3, brokenAt: 2, problem: 'chain', lastSeq: 3 });
    await store.close();
  });

  it('signs a checkpoint at every append, still verifies a trail anchored every 100 entries, and fails when checkpoints were removed', async () => {
    const path = join(dir, 'cadence.db');
    const store = new EmbeddedStore({ path });
    const stop = await store.audit.anchorWith(generateKeyPairSync('ed25519'));
    for (let n = 0; n < 2 * CHECKPOINT_EVERY_ENTRIES + 1; n += 1) {
      await store.audit.append({ at: '2026-01-01T00:00:00Z', actor: 'admin', action: 'session.login' });
    }
    expect((await store.audit.checkpoints()).map((cp) => cp.seq)).toEqual(Array.from({ length: 201 }, (_, n) => n + 1));
    expect(await store.audit.verify()).toMatchObject({ ok: true, count: 201, checkpoints: 201 });
    const db = new Database(path);
    db.exec('DROP TRIGGER audit_checkpoints_no_delete');
    // What an older version left: a checkpoint every 100 entries.
    db.prepare('DELETE FROM audit_checkpoints WHERE (seq - 1) % ? != 0').run(CHECKPOINT_EVERY_ENTRIES);
    expect(await store.audit.verify()).toMatchObject({ ok: true, checkpoints: 3 });
    db.exec('DELETE FROM audit_checkpoints');
    db.close();
    expect(await store.audit.verify()).toMatchObject({ ok: false, problem: 'checkpoint_missing' });
    stop();
    await store.close();
  });

  it('keeps entries from before the departments column city-wide and still verifiable after upgrading', async () => {
    const path = join(dir, 'audit-upgrade.db');
    const old = new Database(path);
    old.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
    for (const migration of MIGRATIONS.filter((m) => m.version <= 3)) {
      old.exec(migration.sql);
      old.prepare('INSERT INTO schema_migrations VALUES (?, ?, ?)').run(migration.version, migration.name, '2026-01-01T00:00:00Z');
    }
    const entry = chainEntry(undefined, { at: '2026-01-01T00:00:00.000Z', actor: 'admin', action: 'alert.update', target: 'a1' });
    old.prepare('INSERT INTO audit_trail (seq, at, hash, doc) VALUES (?, ?, ?, ?)').run(1, Date.parse(entry.at), entry.hash, JSON.stringify(entry));
    old.close();
    const store = new EmbeddedStore({ path });
    await store.audit.append({ at: '2026-01-02T00:00:00.000Z', actor: 'admin', action: 'alert.update', target: 'a2', departments: ['d'] });
    expect((await store.audit.list({ scope: { departments: ['d'] } })).items.map((e) => e.target)).toEqual(['a2']);
    expect((await store.audit.list({})).total).toBe(2);
    expect(await store.audit.verify()).toMatchObject({ ok: true, count: 2 });
    await store.close();
  });
});

/** Raw SQLite writes, as someone with the database file would make them (dropping the append-only triggers first). */
const rawDb = (store: Store) => {
  const db = new Database(storePaths.get(store)!);
  db.exec(`DROP TRIGGER IF EXISTS audit_trail_no_update; DROP TRIGGER IF EXISTS audit_trail_no_delete;
    DROP TRIGGER IF EXISTS audit_checkpoints_no_update; DROP TRIGGER IF EXISTS audit_checkpoints_no_delete;`);
  return db;
};
const storePaths = new WeakMap<Store, string>();
const withDb = async (store: Store, change: (db: Database.Database) => void) => {
  const db = rawDb(store);
  try {
    change(db);
  } finally {
    db.close();
  }
};

describeAuditTamper('embedded (SQLite file)', async () => {
  const path = join(dir, `anchor-${randomUUID()}.db`);
  const store = new EmbeddedStore({ path });
  storePaths.set(store, path);
  return store;
}, {
  deleteEntries: (store, seqs) => withDb(store, (db) => {
    for (const seq of seqs) db.prepare('DELETE FROM audit_trail WHERE seq = ?').run(seq);
  }),
  replaceEntries: (store, entries) => withDb(store, (db) => {
    for (const e of entries) {
      db.prepare('UPDATE audit_trail SET at = ?, departments = ?, hash = ?, doc = ? WHERE seq = ?')
        .run(Date.parse(e.at), e.departments ? JSON.stringify(e.departments) : null, e.hash, JSON.stringify(e), e.seq);
    }
  }),
  setTime: (store, seq, at) => withDb(store, (db) => {
    db.prepare('UPDATE audit_trail SET at = ? WHERE seq = ?').run(Date.parse(at), seq);
  }),
  putCheckpoint: (store, checkpoint) => withDb(store, (db) => {
    db.prepare('INSERT OR REPLACE INTO audit_checkpoints (seq, doc) VALUES (?, ?)').run(checkpoint.seq, JSON.stringify(checkpoint));
  }),
  deleteCheckpoints: (store, seqs) => withDb(store, (db) => {
    for (const seq of seqs) db.prepare('DELETE FROM audit_checkpoints WHERE seq = ?').run(seq);
  }),
  refresh: async () => {},
});
