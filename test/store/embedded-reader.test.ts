import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShouwangError, type ShouwangEvent } from '../../core/index.js';
import { EventReader } from '../../store/embedded/event-reader.js';
import { EmbeddedEventStore } from '../../store/embedded/events.js';
import { EmbeddedStore, parseQuery, type EventQuery } from '../../store/index.js';

const dir = mkdtempSync(join(tmpdir(), 'shouwang-reader-'));
const path = join(dir, 'events.db');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const EVENTS = 6_000;
/** Many leading-wildcard clauses: each parses every row's keyword values again, so SQLite scans for a while on few rows. */
const SLOW: EventQuery = { match: parseQuery(Array.from({ length: 24 }, (_, i) => `*zz${i}*q*x`).concat('*root7*').join(' OR ')) };

async function fill(file: string, count: number): Promise<void> {
  const store = new EmbeddedStore({ path: file });
  const users = ['root', 'admin', 'alice', 'bob'];
  await store.events.write(Array.from({ length: count }, (_, i) => ({
    id: `e-${i}`, '@timestamp': new Date(Date.UTC(2026, 10, 1) + i * 1000).toISOString(),
    message: `Failed password for ${users[i % 4]} from 10.0.0.${i % 200}`,
    user: { name: `${users[i % 4]}${i % 13}` }, host: { name: `web-${i % 9}` }, process: { name: 'sshd' },
    shouwang: { department: `d${i % 3}`, system: 's1' },
  } as ShouwangEvent)));
  await store.close();
}

/** A third of the events: the same scan over it ends well before the full one. */
const small = join(dir, 'small.db');
beforeAll(async () => {
  await fill(path, EVENTS);
  await fill(small, EVENTS / 3);
});

/** The old path: the same reads on the caller's thread, on a connection of its own. */
function inThread(): { events: EmbeddedEventStore; close: () => void } {
  const db = new Database(path);
  return { events: new EmbeddedEventStore(db), close: () => db.close() };
}

/** Counts turns of a timer loop until `read` settles: the event loop's progress while it runs. */
async function turnsDuring<T>(read: () => Promise<T>): Promise<{ turns: number; result: T }> {
  let turns = 0;
  let running = true;
  const loop = () => {
    turns += 1;
    if (running) setImmediate(loop);
  };
  setImmediate(loop);
  try {
    return { result: await read(), turns };
  } finally {
    running = false;
  }
}

describe('embedded event reads in a worker thread', () => {
  it('keeps the event loop turning while a slow search runs, and answers what the in-thread search answered', async () => {
    const old = inThread();
    const before = await turnsDuring(() => old.events.search(SLOW, { size: 20 }));
    old.close();
    // The old path holds the loop for the whole scan (this is the finding).
    expect(before.turns).toBeLessThanOrEqual(2);
    expect(before.result.total).toBeGreaterThan(0);

    const store = new EmbeddedStore({ path });
    try {
      await store.events.range(); // the worker's cold start is not what this measures
      const after = await turnsDuring(() => store.events.search(SLOW, { size: 20 }));
      expect(after.turns).toBeGreaterThan(100);
      expect(after.result).toEqual(before.result);
    } finally {
      await store.close();
    }
  });

  it('answers counts, top values, histogram, range and get as the in-thread reads do, within the caller scope', async () => {
    const old = inThread();
    const store = new EmbeddedStore({ path });
    try {
      const scope = { departments: ['d1'] };
      const query: EventQuery = { match: parseQuery('user.name:root* OR admin5'), scope };
      expect(await store.events.countBy(query, 'user.name', 5)).toEqual(await old.events.countBy(query, 'user.name', 5));
      expect(await store.events.countBy(query, 'shouwang.department')).toEqual(await old.events.countBy(query, 'shouwang.department'));
      expect(await store.events.histogram(query, 600_000)).toEqual(await old.events.histogram(query, 600_000));
      expect(await store.events.range(scope)).toEqual(await old.events.range(scope));
      const page = await store.events.search(query, { size: 7, order: 'asc' });
      expect(page).toEqual(await old.events.search(query, { size: 7, order: 'asc' }));
      expect(await store.events.search(query, { size: 7, order: 'asc', after: page.next! })).toEqual(await old.events.search(query, { size: 7, order: 'asc', after: page.next! }));
      expect(await store.events.get('e-1', scope)).toEqual(await old.events.get('e-1', scope));
      expect(await store.events.get('e-0', scope)).toBeUndefined(); // another department's event
    } finally {
      old.close();
      await store.close();
    }
  });

  it('refuses an invalid query with the same error class, code, status and message as before', async () => {
    const old = inThread();
    const store = new EmbeddedStore({ path });
    const bad: [string, (events: EmbeddedEventStore | EmbeddedStore['events']) => Promise<unknown>][] = [
      ['field', (events) => events.search({ match: { kind: 'match', field: 'user name;--', value: 'x', phrase: false, column: 0 } })],
      ['interval', (events) => events.histogram({}, 10)],
      ['time', (events) => events.countBy({ from: 'yesterday-ish' }, 'user.name')],
      ['cursor', (events) => events.search({}, { after: 'not a cursor' })],
    ];
    try {
      for (const [, read] of bad) {
        const was = await read(old.events).catch((error: unknown) => error);
        const now = await read(store.events).catch((error: unknown) => error);
        expect(was).toBeInstanceOf(ShouwangError);
        expect(now).toBeInstanceOf(ShouwangError);
        expect((now as ShouwangError).code).toBe('SW_ERR_STORE_INVALID_QUERY');
        expect({ ...(now as ShouwangError), message: (now as Error).message }).toEqual({ ...(was as ShouwangError), message: (was as Error).message });
      }
      expect((await store.events.range()).count).toBe(EVENTS); // the worker is still there
    } finally {
      old.close();
      await store.close();
    }
  });

  it('stops a read past the deadline with SW_ERR_STORE_QUERY_TIMEOUT (503), and the next read works on a fresh worker', async () => {
    const store = new EmbeddedStore({ path, queryTimeoutMs: 30 });
    try {
      await store.events.range();
      const error = await store.events.search(SLOW).catch((thrown: unknown) => thrown);
      expect(error).toBeInstanceOf(ShouwangError);
      expect(error).toMatchObject({ code: 'SW_ERR_STORE_QUERY_TIMEOUT', statusCode: 503 });
      expect((error as Error).message).toMatch(/查询超过 30 ms.*query stopped after 30 ms/);
      expect(await store.events.get('e-2')).toMatchObject({ id: 'e-2' });
      expect((await store.events.search({ filters: { 'user.name': 'alice2' } }, { size: 1 })).total).toBeGreaterThan(0);
    } finally {
      await store.close();
    }
  });

  it('ends the scan of a read stopped past its deadline at once, not at its last row (SQLite runs it in native code)', async () => {
    const slow = new EventReader(small, { timeoutMs: 60_000 });
    const stopped = new EventReader(path, { timeoutMs: 30 });
    try {
      await Promise.all([slow.run('range'), stopped.run('range')]);
      let slowAnswered = false;
      // The same scan over a third of the rows, started first on a reader with time to finish it; the stopped
      // one's thread exits before that, where it used to run its whole scan (three times as long) first.
      const full = slow.run('search', SLOW, { size: 20 }).then(() => {
        slowAnswered = true;
      });
      await expect(stopped.run('search', SLOW, { size: 20 })).rejects.toMatchObject({ code: 'SW_ERR_STORE_QUERY_TIMEOUT' });
      await stopped.close(); // waits for the stopped worker's thread to exit
      expect(slowAnswered).toBe(false);
      await full;
    } finally {
      await Promise.all([slow.close(), stopped.close()]);
    }
  });

  it('counts the wait behind slow reads against the deadline: a read queued behind them is refused, not held on', async () => {
    const reader = new EventReader(path, { timeoutMs: 100 });
    try {
      await Promise.all([reader.run('range'), reader.run('range')]); // both workers started
      const slow = [reader.run('search', SLOW, { size: 20 }), reader.run('search', SLOW, { size: 20 })];
      const queued = reader.run('range');
      for (const read of [...slow, queued]) await expect(read).rejects.toMatchObject({ code: 'SW_ERR_STORE_QUERY_TIMEOUT' });
      expect((await reader.run('range')).count).toBe(EVENTS);
    } finally {
      await reader.close();
    }
  });

  it('answers "store unavailable" when its worker cannot open the file, and opens it on a later read once it exists', async () => {
    const later = join(dir, 'later.db');
    const reader = new EventReader(later, { timeoutMs: 10_000 });
    try {
      await expect(reader.run('range')).rejects.toMatchObject({ code: 'SW_ERR_STORE_UNAVAILABLE', statusCode: 503 });
      await fill(later, 3);
      expect(await reader.run('range')).toMatchObject({ count: 3 });
    } finally {
      await reader.close();
    }
  });

  it('sees an event written through the store at once', async () => {
    const copy = join(dir, 'fresh.db');
    const store = new EmbeddedStore({ path: copy });
    await store.events.range();
    await store.events.write([{ id: 'new-1', '@timestamp': '2026-11-02T00:00:00.000Z', message: 'zzfresh login', shouwang: { department: 'd0' } } as ShouwangEvent]);
    expect((await store.events.search({ match: parseQuery('zzfresh') })).items.map((e) => e.id)).toEqual(['new-1']);
    expect(await store.events.get('new-1')).toMatchObject({ id: 'new-1' });
    await store.close();
  });
});
