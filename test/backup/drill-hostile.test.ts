// Hostile review of restore drills: corrupted, truncated and hostile dumps, and a drill server that is the source.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  DropDatabaseSwitches, mariadbDrillServer, postgresDrillServer, runRestoreDrill, SCRATCH_PREFIX, type DrillServer,
} from '../../backup/drill/index.js';
import { formatSetName } from '../../backup/index.js';
import { drillSystem, mariadbSourceDump, postgresSourceDump, uniqueId, writeSet } from './fixtures/drill-sources.js';

const dir = mkdtempSync(join(tmpdir(), 'shouwang-drill-hostile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A set name `hours` before now: fresh sets, so only the case under test can fail the drill. */
const setAgo = (hours: number) => formatSetName(new Date(Date.now() - hours * 3_600_000));
const systemId = (prefix: string) => uniqueId(prefix).replace(/_/g, '-');
const stepsOf = (detail: Record<string, unknown>) => (detail.steps as { step: string }[]).map((s) => s.step);
const scratchLeft = async (server: DrillServer, system: string) =>
  (await server.listDatabases()).filter((name) => name.startsWith(`${SCRATCH_PREFIX}${system.replace(/-/g, '_')}`));

describe('restore drill: PostgreSQL dumps that are not what they claim', () => {
  let postgres: DrillServer;
  let goodDump: string;
  let source: string;

  beforeAll(async () => {
    postgres = postgresDrillServer(inject('postgresUrl'));
    goodDump = join(dir, 'citizens.dump');
    ({ database: source } = await postgresSourceDump(inject('postgresUrl'), goodDump, 5));
  });

  it('fails when the newest set\'s dump is corrupted, instead of drilling an older set', async () => {
    const root = join(dir, 'pg-corrupt-newest');
    writeSet(root, setAgo(30), { 'citizens.dump': goodDump });
    const garbage = join(dir, 'garbage.dump');
    const bytes = readFileSync(goodDump);
    bytes.write('XXXXX', 0, 'latin1'); // the header a broken backup job or a bit flip left behind
    writeFileSync(garbage, bytes);
    const newest = setAgo(2);
    writeSet(root, newest, { 'citizens.dump': garbage }); // its manifest matches the broken file
    const system = drillSystem(systemId('pg-corrupt'), root, { validationQueries: ['SELECT count(*) FROM citizens'] });
    const result = await runRestoreDrill(system, { servers: { postgresql: postgres }, runId: 'job-c1' });
    expect(result.status).toBe('fail');
    expect(result.summary).toContain(newest);
    expect(result.summary).toContain('citizens.dump');
    expect(result.summary).toContain('PGDMP');
    expect(stepsOf(result.detail)).toEqual(['locate']);
  });

  it('fails when the newest set\'s dump is empty, instead of restoring it as a file set', async () => {
    const root = join(dir, 'pg-empty-newest');
    writeSet(root, setAgo(30), { 'citizens.dump': goodDump });
    writeFileSync(join(dir, 'empty.sql'), '');
    writeSet(root, setAgo(2), { 'permits.sql': join(dir, 'empty.sql') });
    const system = drillSystem(systemId('pg-empty'), root, { validationQueries: ['SELECT count(*) FROM citizens'] });
    const result = await runRestoreDrill(system, { servers: { postgresql: postgres }, runId: 'job-c2' });
    expect(result.status).toBe('fail');
    expect(result.summary).toMatch(/permits\.sql: 空文件 \/ empty file/);
  });

  it('fails a drill that restored a set older than the RPO, saying how old', async () => {
    const root = join(dir, 'pg-stale');
    const stale = setAgo(50);
    writeSet(root, stale, { 'citizens.dump': goodDump });
    const system = drillSystem(systemId('pg-stale'), root, { rpo: '1d', validationQueries: ['SELECT count(*) FROM citizens'] });
    const result = await runRestoreDrill(system, { servers: { postgresql: postgres }, runId: 'job-c4' });
    expect(result.status).toBe('fail');
    expect(result.summary).toContain(`the restored set ${stale} is 2.1d old, beyond the RPO of 1.0d`);
    expect(result.summary).toContain('超过 RPO');
    expect(result.detail).toMatchObject({ set: stale, rpoSeconds: 86_400, rto: { met: false } });
    expect(stepsOf(result.detail)).toContain('validate');
  });

  it('does not pass a dump that no manifest lists: it restored, but its checksum was never compared', async () => {
    const root = join(dir, 'pg-unlisted');
    const set = writeSet(root, setAgo(2), { 'citizens.dump': goodDump });
    writeFileSync(join(set, 'manifest.json'), JSON.stringify({ files: [] }));
    const system = drillSystem(systemId('pg-unlisted'), root, { validationQueries: ['SELECT count(*) FROM citizens'] });
    const result = await runRestoreDrill(system, { servers: { postgresql: postgres }, runId: 'job-c5' });
    expect(result.status).toBe('warn');
    expect(result.summary).toContain('its checksum was not compared');
    expect(result.detail).toMatchObject({ checksumCompared: false, rto: { met: true } });
  });

  it('fails a dump of another database than the system\'s, and passes one of its own', async () => {
    const root = join(dir, 'pg-wrong-db');
    writeSet(root, setAgo(2), { 'citizens.dump': goodDump });
    const system = drillSystem(systemId('pg-wrong'), root, { validationQueries: ['SELECT count(*) FROM citizens'] });
    system.databases = [{ engine: 'postgresql', name: 'hukou', host: '10.255.0.1', port: 5432 }];
    const wrong = await runRestoreDrill(system, { servers: { postgresql: postgres }, runId: 'job-c6' });
    expect(wrong.status).toBe('fail');
    expect(wrong.summary).toContain(`the dump is of database ${source}, not of this system's hukou`);
    expect(stepsOf(wrong.detail)).not.toContain('create');
    system.databases = [{ engine: 'postgresql', name: source, host: '10.255.0.1', port: 5432 }];
    expect((await runRestoreDrill(system, { servers: { postgresql: postgres }, runId: 'job-c7' })).status).toBe('pass');
  });

  it('refuses to restore when the drill server is the system\'s own production database', async () => {
    const root = join(dir, 'pg-source');
    writeSet(root, setAgo(2), { 'citizens.dump': goodDump });
    const url = new URL(inject('postgresUrl'));
    // Named differently from the drill URL (localhost for 127.0.0.1): the same server all the same.
    const host = url.hostname === '127.0.0.1' ? 'localhost' : url.hostname;
    const system = drillSystem(systemId('pg-source'), root, { validationQueries: ['SELECT count(*) FROM citizens'] });
    system.databases = [{ engine: 'postgresql', name: 'citizens', host, port: Number(url.port) }];
    const result = await runRestoreDrill(system, { servers: { postgresql: postgres }, runId: 'job-c3' });
    expect(result.status).toBe('fail');
    expect(result.summary).toContain("the drill server is this system's own database postgresql:citizens@");
    expect(stepsOf(result.detail)).not.toContain('create');
    expect(await scratchLeft(postgres, system.id)).toEqual([]);
  });

  it('refuses to restore when the drill server is another inventory system\'s production database', async () => {
    const root = join(dir, 'pg-other-source');
    writeSet(root, setAgo(2), { 'citizens.dump': goodDump });
    const url = new URL(inject('postgresUrl'));
    const host = url.hostname === '127.0.0.1' ? 'localhost' : url.hostname;
    const system = drillSystem(systemId('pg-drilled'), root, { validationQueries: ['SELECT count(*) FROM citizens'] });
    system.databases = [{ engine: 'postgresql', name: source, host: '192.0.2.10', port: 5432 }];
    const other = drillSystem(systemId('pg-other'), join(dir, 'pg-other-root'));
    other.databases = [{ engine: 'postgresql', name: 'claims', host, port: Number(url.port) }];
    const result = await runRestoreDrill(system, { servers: { postgresql: postgres }, runId: 'job-c3b', systems: [system, other] });
    expect(result.status).toBe('fail');
    expect(result.summary).toContain(`系统 ${other.id} 的生产数据库`);
    expect(result.summary).toContain(`the drill server is the production database of system ${other.id}: postgresql:claims@`);
    expect(stepsOf(result.detail)).not.toContain('create');
    expect(await scratchLeft(postgres, system.id)).toEqual([]);
  });
});

describe('restore drill: MariaDB dumps that are cut short or hostile', () => {
  let mariadb: DrillServer;
  let dump: string;
  let admin: mysql.Connection;

  beforeAll(async () => {
    mariadb = mariadbDrillServer(inject('mariadbUrl'));
    dump = join(dir, 'permits.sql');
    await mariadbSourceDump(inject('mariadbUrl'), dump, 20);
    admin = await mysql.createConnection(inject('mariadbUrl'));
  });
  afterAll(() => admin.end());

  it('fails a SQL dump cut short at a statement boundary even when its manifest matches', async () => {
    const text = readFileSync(dump, 'utf8');
    expect(text).toMatch(/^-- Dump completed/m);
    // Everything after the rows: what a job killed mid-dump (or a full disk) leaves, and it restores without an error.
    const cut = text.slice(0, text.indexOf('\n', text.indexOf('UNLOCK TABLES')) + 1);
    const truncated = join(dir, 'truncated.sql');
    writeFileSync(truncated, cut);
    const root = join(dir, 'maria-truncated');
    writeSet(root, setAgo(2), { 'permits.sql': truncated });
    const system = drillSystem(systemId('maria-cut'), root, { validationQueries: ['SELECT count(*) FROM permits'] });
    const result = await runRestoreDrill(system, { servers: { mariadb }, runId: 'job-m1' });
    expect(result.status).toBe('fail');
    expect(result.summary).toContain('SQL 转储不完整');
    expect(result.summary).toContain('Dump completed');
    expect(await scratchLeft(mariadb, system.id)).toEqual([]);
  });

  it('fails a MariaDB dump of another database than the system\'s', async () => {
    const root = join(dir, 'maria-wrong-db');
    writeSet(root, setAgo(2), { 'permits.sql': dump });
    const system = drillSystem(systemId('maria-wrong'), root, { validationQueries: ['SELECT count(*) FROM permits'] });
    system.databases = [{ engine: 'mysql', name: 'permits_prod', host: '10.255.0.2', port: 3306 }];
    const result = await runRestoreDrill(system, { servers: { mariadb }, runId: 'job-m4' });
    expect(result.status).toBe('fail');
    expect(result.summary).toMatch(/the dump is of database drill_src_\w+, not of this system's permits_prod/);
  });

  it('does not run a shell command written into a dump', async () => {
    const marker = join(dir, `shell-ran-${uniqueId('m')}`);
    const hostile = join(dir, 'shell.sql');
    writeFileSync(hostile, `-- MariaDB dump 10.19\n\\! touch ${marker}\nCREATE TABLE permits (id int);\nINSERT INTO permits VALUES (1);\n-- Dump completed on 2026-12-07\n`);
    const root = join(dir, 'maria-shell');
    writeSet(root, setAgo(2), { 'permits.sql': hostile });
    const system = drillSystem(systemId('maria-shell'), root, { validationQueries: ['SELECT count(*) FROM permits'] });
    const result = await runRestoreDrill(system, { servers: { mariadb }, runId: 'job-m2' });
    expect(existsSync(marker)).toBe(false);
    expect(result.status).toBe('fail');
    expect(result.summary).toContain('sandbox');
    expect(await scratchLeft(mariadb, system.id)).toEqual([]);
  });

  it('keeps a dump\'s indented USE, DROP SCHEMA, \\u and connect lines from reaching another database', async () => {
    const victim = uniqueId('victim');
    await admin.query(`CREATE DATABASE ${victim}`);
    await admin.query(`CREATE TABLE ${victim}.keep (id int)`);
    try {
      const hostile = join(dir, 'switch.sql');
      writeFileSync(hostile, [
        '-- MariaDB dump 10.19', `  USE \`${victim}\`;`, `\\u ${victim}`, `connect ${victim}`, `DROP SCHEMA \`${victim}\`;`,
        `/*!40000 drop schema if exists \`${victim}\`*/;`, 'CREATE TABLE permits (id int);', 'INSERT INTO permits VALUES (1);',
        '-- Dump completed on 2026-12-07', '',
      ].join('\n'));
      const root = join(dir, 'maria-switch');
      writeSet(root, setAgo(2), { 'permits.sql': hostile });
      const system = drillSystem(systemId('maria-switch'), root, { validationQueries: ['SELECT count(*) FROM permits'] });
      const result = await runRestoreDrill(system, { servers: { mariadb }, runId: 'job-m3' });
      expect(result.status).toBe('pass');
      const [tables] = await admin.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = ?`, [victim]);
      expect((tables as { table_name?: string; TABLE_NAME?: string }[]).map((t) => t.table_name ?? t.TABLE_NAME)).toEqual(['keep']);
      expect(await scratchLeft(mariadb, system.id)).toEqual([]);
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${victim}`);
    }
  });

  it('drops the hostile switch lines whatever their case or indentation, and keeps data that merely mentions them', async () => {
    const dump = "  use `x`;\n\tDROP SCHEMA x;\ncreate schema `x`;\n\\u x\n\\r x\nCONNECT x\nINSERT INTO t VALUES ('use me\\nUSE x');\nSELECT 'connect';\n";
    const out: Buffer[] = [];
    for await (const chunk of Readable.from([Buffer.from(dump)]).pipe(new DropDatabaseSwitches())) out.push(chunk as Buffer);
    expect(Buffer.concat(out).toString('utf8')).toBe("INSERT INTO t VALUES ('use me\\nUSE x');\nSELECT 'connect';\n");
  });
});

describe('restore drill: file sets', () => {
  it('fails when the newest set has no usable manifest, instead of drilling an older set', async () => {
    const root = join(dir, 'files-bad-manifest');
    writeFileSync(join(dir, 'f.tar'), 'archive f');
    writeSet(root, setAgo(5), { 'f.tar': join(dir, 'f.tar') });
    const newest = setAgo(1);
    const set = writeSet(root, newest, { 'f.tar': join(dir, 'f.tar') });
    writeFileSync(join(set, 'manifest.json'), '{"files": [');
    const result = await runRestoreDrill(drillSystem(systemId('files-manifest'), root), { servers: {}, runId: 'job-f1' });
    expect(result.status).toBe('fail');
    expect(result.summary).toContain(`the newest set ${newest} cannot be restored against a manifest`);
  });
});

describe('restore drill: a try killed mid-drill', () => {
  it('the next try of the same job removes what the killed one left: its restored files and its throwaway server', async () => {
    const base = mkdtempSync(join(dir, 'tmp-'));
    const root = join(dir, 'files-killed');
    writeFileSync(join(dir, 'k.tar'), 'archive k');
    writeSet(root, setAgo(2), { 'k.tar': join(dir, 'k.tar') });
    const system = drillSystem(systemId('killed'), root);
    // The directory a try of this job works in, seen while it restores.
    let workDir = '';
    const first = await runRestoreDrill(system, {
      servers: {}, runId: 'job-k1', tmpDir: base,
      onProgress: () => { workDir ||= readdirSync(base).map((name) => join(base, name))[0] ?? ''; },
    });
    expect(first.status).toBe('pass');
    expect(workDir).not.toBe('');
    expect(readdirSync(base)).toEqual([]);

    // What a SIGKILLed worker leaves: a restored file and a server whose pid file lies in the directory.
    mkdirSync(join(workDir, 'run'), { recursive: true });
    mkdirSync(join(workDir, 'restore'), { recursive: true });
    writeFileSync(join(workDir, 'restore', 'restored.bin'), Buffer.alloc(64 << 10));
    const server = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1e6)', workDir], { stdio: 'ignore' });
    const exited = once(server, 'exit');
    writeFileSync(join(workDir, 'run', 'mariadb.pid'), `${server.pid}\n`);
    try {
      const retry = await runRestoreDrill(system, { servers: {}, runId: 'job-k1', tmpDir: base });
      expect(retry.status).toBe('pass');
      const [, signal] = await exited;
      expect(signal).toBe('SIGKILL');
      expect(readdirSync(base)).toEqual([]);
    } finally {
      server.kill('SIGKILL');
    }
  });
});
