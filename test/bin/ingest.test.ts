import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadInventory } from '../../core/index.js';
import { EmbeddedStore } from '../../store/index.js';
import { runCli } from '../harness/built.js';

// The built command line, as users run `shouwang ingest`.
const dir = mkdtempSync(join(tmpdir(), 'shouwang-ingest-opts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function ingest(args: string[], db: string) {
  return runCli(['ingest', ...args], { SHOUWANG_DATA_DIR: join(dir, 'data'), SHOUWANG_LOG_LEVEL: 'warn', SHOUWANG_EMBEDDED_PATH: join(dir, db) });
}

async function stored(db: string) {
  const store = new EmbeddedStore({ path: join(dir, db) });
  try {
    return (await store.events.search({}, { size: 50, order: 'asc' })).items;
  } finally {
    await store.close();
  }
}

/** A MariaDB server_audit line: its time has no zone. */
const AUDIT = "20261126 10:00:01,db01,app,10.0.0.5,12,40,QUERY,hr,'select 1',0";

describe('shouwang ingest options', () => {
  it('--utc-offset +00:00: a MariaDB audit line lands 8 h later than at the default +08:00', async () => {
    const file = join(dir, 'audit.log');
    writeFileSync(file, `${AUDIT}\n`);
    expect(ingest([file, '--format', 'mariadb-audit', '--source', 'db-cst'], 'zones.db').status).toBe(0);
    const utc = ingest([file, '--format', 'mariadb-audit', '--source', 'db-utc', '--utc-offset', '+00:00'], 'zones.db');
    expect(utc.stdout).toMatch(/read 1 行 lines: 写入 written 1/);
    const times = Object.fromEntries((await stored('zones.db')).map((event) => [event.shouwang?.source, event['@timestamp']]));
    expect(times).toEqual({ 'db-cst': '2026-11-26T02:00:01.000Z', 'db-utc': '2026-11-26T10:00:01.000Z' });
    expect(ingest([file, '--utc-offset', '8'], 'zones.db')).toMatchObject({ status: 2, stderr: expect.stringContaining('--utc-offset') });
  });

  it('timeZone (SHOUWANG_TIME_ZONE=UTC): a MariaDB audit line without zone lands at its wall-clock time in UTC, 8 h later than at the default', async () => {
    const file = join(dir, 'audit-tz.log');
    writeFileSync(file, `${AUDIT}\n`);
    expect(ingest([file, '--format', 'mariadb-audit', '--source', 'tz-default'], 'tz.db').status).toBe(0);
    const utc = runCli(['ingest', file, '--format', 'mariadb-audit', '--source', 'tz-utc'], {
      SHOUWANG_DATA_DIR: join(dir, 'data'), SHOUWANG_LOG_LEVEL: 'warn', SHOUWANG_EMBEDDED_PATH: join(dir, 'tz.db'), SHOUWANG_TIME_ZONE: 'UTC',
    });
    expect(utc.status).toBe(0);
    const times = Object.fromEntries((await stored('tz.db')).map((event) => [event.shouwang?.source, event['@timestamp']]));
    expect(times).toEqual({ 'tz-default': '2026-11-26T02:00:01.000Z', 'tz-utc': '2026-11-26T10:00:01.000Z' });
    const bad = runCli(['ingest', file], { SHOUWANG_DATA_DIR: join(dir, 'data'), SHOUWANG_TIME_ZONE: 'Asia/Shanghia' });
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/timeZone \(SHOUWANG_TIME_ZONE\)/);
  });

  it('--encoding gbk: Chinese is read right, and a line with bytes invalid in GBK is kept and tagged encoding_invalid', async () => {
    const file = join(dir, 'gbk.log');
    const header = Buffer.from('Nov 26 10:00:01 gaj-jwzh-app01 oa[7]: ');
    writeFileSync(file, Buffer.concat([
      header, Buffer.from([0xd6, 0xd0, 0xce, 0xc4]), Buffer.from('\n'), // 中文
      header, Buffer.from('bad '), Buffer.from([0x81, 0x20]), Buffer.from('\n'), // a lead byte without its trail
    ]));
    expect(ingest([file, '--encoding', 'gbk', '--source', 'gbk'], 'gbk.db').stdout).toMatch(/read 2 行 lines: 写入 written 2/);
    const events = await stored('gbk.db');
    // Same time: sorted by message for a stable order.
    const got = events.map((event) => [event.message, event.tags]).sort((a, b) => String(a[0]).localeCompare(String(b[0])));
    expect(got).toEqual([['bad \uFFFD ', ['encoding_invalid']], ['中文', undefined]]);
    expect(ingest([file, '--encoding', 'latin1'], 'gbk.db')).toMatchObject({ status: 2, stderr: expect.stringContaining('--encoding') });
  });

  it('--system maps every event to that system, whatever its host; an unknown system is refused', async () => {
    const system = loadInventory('config/inventory.demo.yaml').systems[1]!;
    const file = join(dir, 'unknown-host.log');
    writeFileSync(file, 'Nov 26 10:00:01 host-nobody-knows sshd[1]: Accepted password for ops from 10.0.0.1 port 22 ssh2\n');
    expect(ingest([file, '--system', system.id, '--source', 'mapped'], 'system.db').status).toBe(0);
    const [event] = await stored('system.db');
    expect(event?.shouwang).toEqual({ system: system.id, department: system.department, mlps_level: system.mlpsLevel, source: 'mapped' });
    expect(ingest([file, '--system', 'no-such-system'], 'system.db')).toMatchObject({ status: 2, stderr: expect.stringContaining('no-such-system') });
  });

  it('streams joined PostgreSQL records; ingesting again stores nothing twice', async () => {
    const args = ['test/fixtures/logs/pgaudit/pgaudit_audit_lines.txt', '--format', 'pgaudit', '--source', 'pg', '--host', 'db01'];
    expect(ingest(args, 'pg.db').stdout).toMatch(/read 415 行 lines: 写入 written 415, 重复 duplicates 0, 死信 dead letters 0/);
    expect(ingest(args, 'pg.db').stdout).toMatch(/written 0, 重复 duplicates 415/);
  });
});
