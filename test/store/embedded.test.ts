import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { EmbeddedStore } from '../../store/index.js';
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
    expect(db.prepare('SELECT count(*) AS n FROM schema_migrations').get()).toEqual({ n: 2 });
    db.close();
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
    expect(await reopened.audit.verify()).toEqual({ ok: false, count: 3, brokenAt: 2 });
    await reopened.close();
  });
});
