import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import type { ShouwangEvent } from '../../core/index.js';
import { EmbeddedStore, parseQuery } from '../../store/index.js';
import { WAL_AUTOCHECKPOINT_PAGES } from '../../store/embedded/events.js';
import { MIGRATIONS } from '../../store/embedded/migrations.js';
import { keywordPhrase, SEARCH_INDEX_DELAY_MS } from '../../store/embedded/search-index.js';
import { eventually } from '../support/eventually.js';

const dir = mkdtempSync(join(tmpdir(), 'shouwang-staging-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const event = (id: string, extra: Partial<ShouwangEvent> = {}): ShouwangEvent =>
  ({ id, '@timestamp': '2026-04-01T00:00:00.000Z', message: `staged ${id}`, host: { name: `host-${id}` }, shouwang: { department: 'gaj' }, ...extra }) as ShouwangEvent;

/** What a reader of the file that is not the store sees: the indexed table and the full-text index only. */
function plainReader(path: string) {
  const db = new Database(path, { readonly: true });
  return {
    inEvents: (id: string) => (db.prepare('SELECT count(*) AS n FROM events WHERE id = ?').get(id) as { n: number }).n,
    inIndex: (host: string) => (db.prepare('SELECT count(*) AS n FROM events_search WHERE events_search MATCH ?').get(keywordPhrase(host)) as { n: number }).n,
    staged: () => (db.prepare('SELECT count(*) AS n FROM events_staged').get() as { n: number }).n,
    close: () => db.close(),
  };
}

describe('embedded store: writes staged, merged into the indexed table in the background', () => {
  it('finds an event in the search right after its write, and merges and indexes it for other readers within the stated bound', async () => {
    const path = join(dir, 'bound.db');
    const store = new EmbeddedStore({ path });
    await store.events.write([event('b1')]);
    const reader = plainReader(path);
    // The write only appended to the staging table: the indexed table and the full-text index have not seen it yet.
    expect(reader.staged()).toBe(1);
    // Bound for other readers: the background step starts SEARCH_INDEX_DELAY_MS after a write (the deadline is generous for a shared machine).
    await eventually(() => {
      expect(reader.inEvents('b1')).toBe(1);
      expect(reader.inIndex('host-b1')).toBe(1);
      expect(reader.staged()).toBe(0);
    }, { timeout: SEARCH_INDEX_DELAY_MS + 15_000 });
    // Through the store the bound is zero: a search merges what is pending first.
    await store.events.write([event('b2')]);
    expect(reader.staged()).toBe(1);
    expect((await store.events.search({ match: parseQuery('staged') })).items.map((e) => e.id).sort()).toEqual(['b1', 'b2']);
    reader.close();
    await store.close();
  });

  it('counts a replay as duplicates whether the first copy is still staged, already merged, or in the same batch', async () => {
    const store = new EmbeddedStore({ path: join(dir, 'dedupe.db') });
    expect(await store.events.write([event('d1'), event('d1')])).toEqual({ written: 1, duplicates: 1, rejected: [] });
    expect(await store.events.write([event('d1')])).toEqual({ written: 0, duplicates: 1, rejected: [] });
    await store.events.search({});
    expect(await store.events.write([event('d1'), event('d2')])).toEqual({ written: 1, duplicates: 1, rejected: [] });
    expect((await store.events.range()).count).toBe(2);
    await store.close();
  });

  it('counts every replayed event of a large batch as a duplicate, whatever its id, across the chunks the id index is read in', async () => {
    const store = new EmbeddedStore({ path: join(dir, 'replay-chunks.db') });
    // 257 ids: several read chunks and a partial one; odd ids among them (a lone surrogate, NUL, quotes, 4-byte characters).
    const ids = [...Array.from({ length: 250 }, (_, i) => `r-${i}`), '\ud800', 'a\u0000b', '"\'', '𠮷野家', 'NULL', '', ' '];
    const events = ids.filter((id) => id !== '').map((id) => event(id));
    expect(await store.events.write(events)).toMatchObject({ written: 256, duplicates: 0 });
    await store.events.search({});
    const replay = [...events.slice(0, 99), event('new-1'), ...events.slice(99), event('new-2'), events[5]!];
    expect(await store.events.write(replay)).toEqual({ written: 2, duplicates: 257, rejected: [] });
    expect((await store.events.range()).count).toBe(258);
    await store.close();
  });

  it('leaves checkpointing to the background step: writes past the WAL threshold copy nothing into the file, the merge after them does', async () => {
    const path = join(dir, 'checkpoint.db');
    const store = new EmbeddedStore({ path });
    const fileSize = () => statSync(path).size;
    const before = fileSize();
    // Past the threshold in the WAL: 110 events of 400,000 characters (4 KiB pages), ten per write.
    const blob = 'x'.repeat(400_000);
    const big = Array.from({ length: 110 }, (_, i) => event(`c${i}`, { labels: { blob } } as Partial<ShouwangEvent>));
    expect(big.length * blob.length).toBeGreaterThan(WAL_AUTOCHECKPOINT_PAGES * 4096);
    for (let i = 0; i < big.length; i += 10) await store.events.write(big.slice(i, i + 10));
    // No timer ran between the writes (each resolves at once), so no background step either: nothing was checkpointed.
    expect(fileSize()).toBe(before);
    await eventually(() => expect(fileSize()).toBeGreaterThan(big.length * blob.length), { timeout: SEARCH_INDEX_DELAY_MS + 30_000 });
    expect((await store.events.range()).count).toBe(big.length);
    await store.close();
  });

  it('stores an event whose department or system is not text without failing its batch, scoped as Elasticsearch would or hidden from scoped users', async () => {
    const store = new EmbeddedStore({ path: join(dir, 'odd-department.db') });
    const odd = (id: string, shouwang: unknown) => event(id, { shouwang } as Partial<ShouwangEvent>);
    const batch = [event('fine'), odd('bool', { department: true }), odd('object', { department: { id: 'gaj' } }), odd('number', { department: 5 }),
      odd('array', { department: ['gaj', 'sthj'], system: ['a', 'b'] }), odd('system-object', { department: 'gaj', system: { name: 'x' } })];
    expect(await store.events.write(batch)).toEqual({ written: 6, duplicates: 0, rejected: [] });
    const seen = async (departments: string[]) => (await store.events.search({ scope: { departments } })).items.map((e) => e.id).sort();
    expect(await seen(['true'])).toEqual(['bool']);
    expect(await seen(['5'])).toEqual(['number']);
    expect(await seen(['gaj'])).toEqual(['fine', 'system-object']);
    expect((await store.events.search({})).items).toHaveLength(6);
    expect((await store.events.get('object'))?.shouwang).toEqual({ department: { id: 'gaj' } });
    expect(await store.events.get('array', { departments: ['gaj'] })).toBeUndefined();
    await store.close();
  });

  it('keeps one copy of an event two processes staged at once (each counts it written, as stated)', async () => {
    const path = join(dir, 'two.db');
    const [first, second] = [new EmbeddedStore({ path }), new EmbeddedStore({ path })];
    expect(await first.events.write([event('t1')])).toMatchObject({ written: 1 });
    expect(await second.events.write([event('t1'), event('t2')])).toMatchObject({ written: 2 });
    expect((await second.events.search({})).items.map((e) => e.id).sort()).toEqual(['t1', 't2']);
    // Merged now: both see the copy in the indexed table.
    expect(await first.events.write([event('t1')])).toEqual({ written: 0, duplicates: 1, rejected: [] });
    expect((await first.events.range()).count).toBe(2);
    await first.close();
    await second.close();
  });

  it('reads staged events by id within the caller scope, counts them in the range, and deletes them by retention', async () => {
    const path = join(dir, 'reads.db');
    const store = new EmbeddedStore({ path });
    await store.events.write([event('r1'), event('r2', { '@timestamp': '2026-05-01T00:00:00.000Z' })]);
    const reader = plainReader(path);
    expect(reader.staged()).toBe(2);
    expect((await store.events.get('r1'))?.message).toBe('staged r1');
    expect(await store.events.get('r1', { departments: ['gaj'] })).toBeDefined();
    // Another department's event id reads as absent, staged or not.
    expect(await store.events.get('r1', { departments: ['sthj'] })).toBeUndefined();
    expect(await store.events.deleteBefore('2026-04-15T00:00:00.000Z')).toBe(1);
    expect(await store.events.get('r1')).toBeUndefined();
    expect(await store.events.range()).toMatchObject({ count: 1, oldest: '2026-05-01T00:00:00.000Z' });
    reader.close();
    await store.close();
  });

  it('merges rows a killed writer left staged soon after the store opens again, without a new write', async () => {
    const path = join(dir, 'killed.db');
    await new EmbeddedStore({ path }).close();
    const raw = new Database(path);
    raw.prepare('INSERT INTO events_staged (id, ts, department, system, doc) VALUES (?, ?, ?, ?, ?)')
      .run('k1', Date.parse('2026-04-01T00:00:00.000Z'), 'gaj', null, JSON.stringify(event('k1')));
    raw.close();
    const store = new EmbeddedStore({ path });
    const reader = plainReader(path);
    await eventually(() => expect([reader.inEvents('k1'), reader.inIndex('host-k1'), reader.staged()]).toEqual([1, 1, 0]),
      { timeout: SEARCH_INDEX_DELAY_MS + 15_000 });
    reader.close();
    await store.close();
  });

  it('opens a database of the schema before staging (version 7, events not yet indexed) and keeps its events searchable and deduplicated', async () => {
    const path = join(dir, 'upgrade-7.db');
    const old = new Database(path);
    old.pragma('journal_mode = WAL');
    old.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
    for (const migration of MIGRATIONS.filter((m) => m.version <= 7)) {
      old.exec(migration.sql);
      old.prepare('INSERT INTO schema_migrations VALUES (?, ?, ?)').run(migration.version, migration.name, '2026-01-01T00:00:00Z');
    }
    // As version 7 wrote them: straight into events, above the full-text mark.
    const insert = old.prepare('INSERT INTO events (id, ts, department, system, message, doc) VALUES (?, ?, ?, ?, ?, ?)');
    for (const id of ['o1', 'o2']) insert.run(id, Date.parse('2026-04-01T00:00:00.000Z'), 'gaj', null, `staged ${id}`, JSON.stringify(event(id)));
    old.close();

    const store = new EmbeddedStore({ path });
    expect((await store.events.search({ match: parseQuery('host-o1') })).items.map((e) => e.id)).toEqual(['o1']);
    expect(await store.events.write([event('o2'), event('n1')])).toEqual({ written: 1, duplicates: 1, rejected: [] });
    expect((await store.events.search({ match: parseQuery('staged') })).items.map((e) => e.id).sort()).toEqual(['n1', 'o1', 'o2']);
    await store.close();
    const db = new Database(path, { readonly: true });
    expect(db.prepare('SELECT max(version) AS v FROM schema_migrations').get()).toEqual({ v: MIGRATIONS.at(-1)!.version });
    db.close();
  });
});

describe('a write lock held by another process', () => {
  it('makes alert writes "store unavailable" (503, a sink retries) after busy_timeout, never an unexplained error', async () => {
    const path = join(dir, 'locked.db');
    const store = new EmbeddedStore({ path });
    const other = new Database(path);
    try {
      other.exec('BEGIN IMMEDIATE');
      await expect(store.alerts.upsert([])).rejects.toMatchObject({ code: 'SW_ERR_STORE_UNAVAILABLE', statusCode: 503 });
      await expect(store.alerts.update('no-such-alert', { status: 'resolved', actor: 'officer' })).rejects.toMatchObject({ code: 'SW_ERR_STORE_UNAVAILABLE' });
      other.exec('ROLLBACK');
      await expect(store.alerts.upsert([])).resolves.toMatchObject({ created: 0, updated: 0 });
    } finally {
      other.close();
      await store.close();
    }
  });
});
