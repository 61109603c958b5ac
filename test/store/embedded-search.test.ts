import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SEARCH_INDEX_DELAY_MS } from '../../store/embedded/search-index.js';
import Database from 'better-sqlite3';
import { seededRandom, type ShouwangEvent } from '../../core/index.js';
import { EmbeddedStore, KEYWORD_FIELDS, parseQuery } from '../../store/index.js';
import { MIGRATIONS } from '../../store/embedded/migrations.js';
import { keywordPhrase, keywordTermsSql } from '../../store/embedded/search-index.js';

const dir = mkdtempSync(join(tmpdir(), 'shouwang-search-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const WORDS = ['sudo', 'SSHD', 'sshd', 'web-1', 'root', 'Root', 'ad', 'a', '10.0.0.7', 'fail', 'Failed', 'sudoers', '/api/login', 'dept-x', '失败', '登录失败', 'o"k', 'x y', 'ädmin', 'отказ'];
const VALUES = ['sudo', 'sshd', 'SSHD', 'web-1', 'web-10', 'root', 'ad', 'a', '10.0.0.7', 'sudoers', '/api/login', 'o"k', 'x y', 'x\u001fy', '登录'];

/** Hostile-ish events: keyword values that are words of other events' messages, arrays, numbers, objects, separators. */
function events(count: number, prefix: string): ShouwangEvent[] {
  const next = seededRandom(15);
  const pick = <T>(list: readonly T[]) => list[Math.floor(next() * list.length)]!;
  return Array.from({ length: count }, (_, i) => ({
    id: `${prefix}-${i}`, '@timestamp': new Date(Date.UTC(2026, 3, 1) + i * 1000).toISOString(),
    ...(i % 7 ? { message: `${pick(['Failed', 'Accepted', '用户登录失败', 'pam_unix(sudo:session)', 'ÄDMIN Отказ'])} password for ${pick(VALUES)} from ${pick(VALUES)}` } : {}),
    process: { name: i % 11 === 0 ? [pick(VALUES), pick(VALUES)] : pick(VALUES) },
    host: { name: pick(VALUES) },
    user: { name: i % 5 === 0 ? 7 : pick(VALUES) },
    source: { ip: pick(['10.0.0.7', '10.0.0.8']) },
    ...(i % 13 === 0 ? { service: { name: { nested: pick(VALUES) } } } : {}),
    shouwang: { department: 'd', system: pick(VALUES) },
  } as ShouwangEvent));
}

/** The bare-word meaning, evaluated in JS: message contains the word (any case), or a keyword field's text value equals it (ASCII case). */
function expected(all: readonly ShouwangEvent[], word: string): string[] {
  const lower = (s: string) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());
  return all.filter((event) => {
    if (typeof event.message === 'string' && event.message.toLowerCase().includes(word.toLowerCase())) return true;
    return KEYWORD_FIELDS.some((field) => {
      const value = field.split('.').reduce<unknown>((v, part) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[part] : undefined), event);
      return typeof value === 'string' && lower(value) === lower(word);
    });
  }).map((e) => e.id).sort();
}

async function found(store: EmbeddedStore, q: string): Promise<string[]> {
  const ids: string[] = [];
  let after: string | undefined;
  do {
    const page = await store.events.search({ match: parseQuery(q) }, { size: 100, ...(after ? { after } : {}) });
    ids.push(...page.items.map((e) => e.id));
    after = page.next;
  } while (after);
  return ids.sort();
}

const quoted = (word: string) => (/^[\w.\-/]+$/.test(word) ? word : `"${word.replace(/"/g, '\\"')}"`);

describe('embedded bare-word search on one full-text index', () => {
  it('finds a bare word in the message or as a whole keyword value, as the per-row comparison did', async () => {
    const store = new EmbeddedStore({ path: join(dir, 'words.db') });
    const generated = events(600, 'w');
    const rejected = new Set((await store.events.write(generated)).rejected.map((r) => r.id));
    const all = generated.filter((e) => !rejected.has(e.id));
    expect(all.length).toBeGreaterThan(500);
    for (const word of WORDS) {
      const q = quoted(word);
      expect(await found(store, q), q).toEqual(expected(all, word.replace(/\\"/g, '"')));
      expect((await found(store, `NOT ${q}`)).length, `NOT ${q}`).toBe(all.length - expected(all, word).length);
    }
    // A deleted event leaves the index with it.
    await store.events.deleteBefore(new Date(Date.UTC(2026, 3, 1) + 300_000).toISOString());
    expect(await found(store, 'sudo')).toEqual(expected(all.slice(300), 'sudo'));
    await store.close();
  });

  it('indexes a backlog before a search one chunk per turn of the event loop, so other work runs meanwhile', async () => {
    const store = new EmbeddedStore({ path: join(dir, 'backlog.db') });
    const generated = [...events(15_000, 'b'), { id: 'needle', '@timestamp': '2026-05-01T00:00:00.000Z', host: { name: 'needle-host' } } as ShouwangEvent];
    await store.events.write(generated);
    let turns = 0;
    let searching = true;
    const other = () => { if (searching) { turns += 1; setImmediate(other); } };
    setImmediate(other);
    const page = await store.events.search({ match: parseQuery('needle-host') }, { size: 10 });
    searching = false;
    expect(page.items.map((e) => e.id)).toEqual(['needle']);
    // 15,001 pending rows are three chunks and a bit, merged and indexed; the background step may take
    // one of them when its delay passes meanwhile: the loop turned between the others.
    expect(turns).toBeGreaterThanOrEqual(2);
    await store.close();
  });

  it('indexes the events of a version-5 database when upgrading, so sudo, sshd and a host name are found by bare word', async () => {
    const path = join(dir, 'upgrade-5.db');
    const old = new Database(path);
    old.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
    for (const migration of MIGRATIONS.filter((m) => m.version <= 5)) {
      old.exec(migration.sql);
      old.prepare('INSERT INTO schema_migrations VALUES (?, ?, ?)').run(migration.version, migration.name, '2026-01-01T00:00:00Z');
    }
    const all = events(300, 'u').filter((e) => typeof (e as { service?: { name?: unknown } }).service?.name !== 'object');
    const insert = old.prepare('INSERT INTO events (id, ts, department, system, message, doc) VALUES (?, ?, ?, ?, ?, ?)');
    for (const e of all) insert.run(e.id, Date.parse(e['@timestamp']), 'd', null, typeof e.message === 'string' ? e.message : null, JSON.stringify(e));
    old.close();

    const store = new EmbeddedStore({ path });
    for (const word of ['sudo', 'sshd', 'web-1', 'Failed']) {
      expect(await found(store, word), word).toEqual(expected(all, word));
      expect((await found(store, word)).length, word).toBeGreaterThan(0);
    }
    await store.close();
  });

  it('builds the keywords column in the migration and on write from the same KEYWORD_FIELDS', () => {
    const step = MIGRATIONS.find((m) => m.version === 6)!;
    expect(step.sql).toContain(keywordTermsSql('doc'));
    expect(step.sql).toContain(keywordTermsSql('new.doc'));
  });

  it('finds an event by bare word in the search right after its write, and indexes it in the background within the stated delay', async () => {
    const path = join(dir, 'deferred.db');
    const store = new EmbeddedStore({ path });
    const event = { id: 'd1', '@timestamp': '2026-04-01T00:00:00.000Z', message: 'deferred', host: { name: 'web-deferred-1' } };
    await store.events.write([event]);
    // A plain reader of the file, which never indexes: the background step must have run.
    const reader = new Database(path, { readonly: true });
    const indexed = () => reader.prepare('SELECT count(*) AS n FROM events_search WHERE events_search MATCH ?').get(keywordPhrase('web-deferred-1'));
    await expect.poll(indexed, { timeout: SEARCH_INDEX_DELAY_MS + 10_000, interval: 50 }).toEqual({ n: 1 });
    reader.close();
    await store.events.write([{ ...event, id: 'd2' }]);
    expect(await found(store, 'web-deferred-1')).toEqual(['d1', 'd2']);
    await store.close();
  });

  it('indexes rows a crashed writer left behind when the store opens again, and after retention empties the table', async () => {
    const path = join(dir, 'left-behind.db');
    await new EmbeddedStore({ path }).close();
    const raw = new Database(path);
    raw.prepare('INSERT INTO events (id, ts, message, doc) VALUES (?, ?, ?, ?)')
      .run('c1', 0, 'left behind', JSON.stringify({ id: 'c1', '@timestamp': '1970-01-01T00:00:00.000Z', message: 'left behind', user: { name: 'crash' } }));
    raw.close();
    const store = new EmbeddedStore({ path });
    expect(await found(store, 'crash')).toEqual(['c1']);
    expect(await store.events.deleteBefore('2030-01-01T00:00:00.000Z')).toBe(1);
    await store.events.write([{ id: 'c2', '@timestamp': '2026-04-01T00:00:00.000Z', user: { name: 'crash' } }]);
    expect(await found(store, 'crash')).toEqual(['c2']);
    await store.close();
  });
});
