import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EmbeddedStore } from '../../../store/index.js';
import { runCli } from '../../harness/built.js';

// The built command line, as users run `shouwang ingest`.
const dir = mkdtempSync(join(tmpdir(), 'shouwang-ingest-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function ingest(args: string[], db: string) {
  return runCli(['ingest', ...args], { SHOUWANG_DATA_DIR: dir, SHOUWANG_LOG_LEVEL: 'warn', SHOUWANG_EMBEDDED_PATH: join(dir, db) });
}

async function stored(db: string) {
  const store = new EmbeddedStore({ path: join(dir, db) });
  try {
    return (await store.events.search({}, { size: 50 })).items;
  } finally {
    await store.close();
  }
}

describe('shouwang ingest with record format options', () => {
  it('--format app-log: a stack trace is part of its record, not a dead letter', async () => {
    const file = join(dir, 'app.txt');
    writeFileSync(file, [
      '2026-12-01 09:15:02,123 [ERROR] com.x.order.OrderService - 下单失败',
      'java.lang.IllegalStateException: 库存不足',
      '\tat com.x.order.OrderService.place(OrderService.java:42)',
      '2026-12-01 09:15:03,000 [INFO] com.x.App - next', '',
    ].join('\n'));
    const result = ingest([file, '--format', 'app-log', '--source', 'orders'], 'app.db');
    expect(result.stdout).toMatch(/read 2 行 lines: 写入 written 2, 重复 duplicates 0, 死信 dead letters 0/);
    const events = await stored('app.db');
    expect(events.find((e) => e.message === '下单失败')).toMatchObject({ error: { type: 'java.lang.IllegalStateException' } });
    expect(ingest([file, '--format', 'app-log', '--pattern', '(bad'], 'app.db').stderr).toContain('not a valid regular expression');
  });

  it('--log-line-prefix and --host: a PostgreSQL log with a %h prefix maps to the server, its client stays source.ip', async () => {
    const file = join(dir, 'postgresql.txt');
    writeFileSync(file, [
      '2026-12-01 09:15:02.123 CST [5] app@hr 10.40.1.11 LOG:  connection authorized: user=app database=hr',
      '2026-12-01 09:15:03.000 CST [5] app@hr 10.40.1.11 ERROR:  relation "nope" does not exist at character 15',
      '2026-12-01 09:15:03.000 CST [5] app@hr 10.40.1.11 STATEMENT:  select * from nope', '',
    ].join('\n'));
    const result = ingest([file, '--format', 'pgaudit', '--log-line-prefix', '%m [%p] %u@%d %h ', '--host', 'gaj-hzgl-db01', '--source', 'pg'], 'pg.db');
    expect(result.stdout).toMatch(/read 2 行 lines: 写入 written 2, 重复 duplicates 0, 死信 dead letters 0/);
    const events = await stored('pg.db');
    expect(events).toHaveLength(2);
    for (const event of events) {
      expect(event).toMatchObject({ source: { ip: '10.40.1.11' }, db: { name: 'hr' }, shouwang: { system: 'gaj-hzgl' } });
    }
    expect(events.find((e) => e.event?.outcome === 'failure')).toMatchObject({ db: { statement: 'select * from nope' } });
  });
});
