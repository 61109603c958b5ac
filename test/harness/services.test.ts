import { randomUUID } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { Redis } from 'ioredis';
import pg from 'pg';
import mysql from 'mysql2/promise';

describe('real services from the harness', () => {
  it('Redis answers and keeps what it is given', async () => {
    const redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: 1 });
    const key = `test-${randomUUID()}`;
    try {
      await redis.set(key, '守望', 'EX', 60);
      expect(await redis.get(key)).toBe('守望');
      expect(await redis.info('server')).toMatch(/redis_version:\d+/);
    } finally {
      await redis.del(key);
      redis.disconnect();
    }
  });

  it('PostgreSQL runs SQL in a fresh database', async () => {
    const admin = new pg.Client({ connectionString: inject('postgresUrl') });
    await admin.connect();
    const database = `test_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
    try {
      await admin.query(`CREATE DATABASE ${database}`);
      const client = new pg.Client({ connectionString: inject('postgresUrl').replace(/\/postgres$/, `/${database}`) });
      await client.connect();
      await client.query('CREATE TABLE t (id serial PRIMARY KEY, name text)');
      await client.query('INSERT INTO t (name) VALUES ($1), ($2)', ['市公安局', '市人社局']);
      const { rows } = await client.query('SELECT count(*)::int AS n, current_setting($1) AS version FROM t', ['server_version_num']);
      expect(rows[0]).toMatchObject({ n: 2 });
      expect(Number(rows[0].version)).toBeGreaterThanOrEqual(130000);
      await client.end();
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${database}`);
      await admin.end();
    }
  });

  it('MariaDB accepts a TCP login and runs SQL in a fresh database', async () => {
    const connection = await mysql.createConnection(inject('mariadbUrl'));
    const database = `test_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
    try {
      await connection.query(`CREATE DATABASE ${database} CHARACTER SET utf8mb4`);
      await connection.query(`CREATE TABLE ${database}.t (id INT PRIMARY KEY AUTO_INCREMENT, name VARCHAR(64))`);
      await connection.query(`INSERT INTO ${database}.t (name) VALUES (?), (?)`, ['市卫健委', '市大数据管理局']);
      const [rows] = await connection.query(`SELECT count(*) AS n, VERSION() AS version FROM ${database}.t`);
      expect(rows).toMatchObject([{ n: 2, version: expect.stringMatching(/MariaDB/) }]);
    } finally {
      await connection.query(`DROP DATABASE IF EXISTS ${database}`);
      await connection.end();
    }
  });

  // Serial GC keeps old-generation garbage until a full collection, and Elasticsearch nudges only G1 to collect before
  // its real-memory breaker trips: with that check on, the node answered bulks 429 with no live data left (1,175 trips
  // in one pipeline bench; rsyslog dropped those events). A node on Serial GC must count reservations, not heap.
  it('Elasticsearch on Serial GC does not trip its parent breaker on uncollected garbage', async () => {
    const url = inject('elasticsearchUrl');
    const read = async <T>(path: string) => ((await (await fetch(`${url}${path}`)).json()) as { nodes?: Record<string, T> }).nodes ?? {};
    const jvm = await read<{ jvm: { gc_collectors: string[] } }>('/_nodes/jvm?filter_path=nodes.*.jvm.gc_collectors');
    // A node without the setting drops out of the filtered answer (an answer of {} when none has it).
    const settings = await read<{ settings?: { indices?: { breaker?: { total?: { use_real_memory?: string } } } } }>(
      '/_nodes/settings?filter_path=nodes.*.settings.indices.breaker');
    for (const [id, node] of Object.entries(jvm)) {
      if (!node.jvm.gc_collectors.includes('MarkSweepCompact')) continue; // not Serial GC: the default check suits it
      expect(settings[id]?.settings?.indices?.breaker?.total?.use_real_memory, `node ${id}`).toBe('false');
    }
    expect(Object.keys(jvm).length).toBeGreaterThan(0);
  });
});
