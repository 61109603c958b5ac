import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  DRILL_STEP_LABEL, DropDatabaseSwitches, judgeValidation, mariadbDrillServer, postgresDrillServer, runRestoreDrill, SCRATCH_PREFIX,
  type DrillServer,
} from '../../backup/drill/index.js';
import { formatSetName } from '../../backup/index.js';
import { inventoryFromYaml } from '../../core/index.js';
import { drillSystem, mariadbSourceDump, postgresSourceDump, uniqueId, writeSet } from './fixtures/drill-sources.js';

const dir = mkdtempSync(join(tmpdir(), 'shouwang-drill-test-'));
// Sets named from now: a drill of a set older than the RPO (1d here) fails, whatever else it proves.
const setAgo = (hours: number) => formatSetName(new Date(Date.now() - hours * 3_600_000));
const [OLDER, NEWEST, OFF_SITE_SET, MARIA_SET] = [setAgo(30), setAgo(2), setAgo(3), setAgo(1)];
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const scratchLeft = async (server: DrillServer, system: string) =>
  (await server.listDatabases()).filter((name) => name.startsWith(`${SCRATCH_PREFIX}${system.replace(/-/g, '_')}`));

describe('restore drill: PostgreSQL custom-format dump', () => {
  let postgres: DrillServer;
  let root: string;
  let checksum: string;

  beforeAll(async () => {
    postgres = postgresDrillServer(inject('postgresUrl'));
    root = join(dir, 'pg-same-city');
    const dumpFile = join(dir, 'citizens.dump');
    ({ checksum } = await postgresSourceDump(inject('postgresUrl'), dumpFile, 250));
    // An older set without a dump, then the newest set with one.
    writeFileSync(join(dir, 'readme.txt'), 'no dump here');
    writeSet(root, OLDER, { 'readme.txt': join(dir, 'readme.txt') });
    writeSet(root, NEWEST, { 'citizens.dump': dumpFile });
  });

  it('restores, validates row count and checksum, measures the RTO and drops the scratch database', async () => {
    const system = drillSystem(uniqueId('pg-ok').replace(/_/g, '-'), root, {
      validationQueries: [
        'SELECT count(*) FROM citizens',
        { name: '市民数 citizens', sql: 'SELECT count(*) FROM citizens', expect: { equals: 250 } },
        { name: '校验和 checksum', sql: "SELECT md5(string_agg(name, ',' ORDER BY id)) FROM citizens", expect: { equals: checksum } },
        { name: '无重复 no duplicates', sql: 'SELECT id FROM citizens GROUP BY id HAVING count(*) > 1', expect: { maxRows: 0 } },
      ],
    });
    const progress: string[] = [];
    const result = await runRestoreDrill(system, { servers: { postgresql: postgres }, runId: 'job-1', onProgress: (p) => progress.push(p.step) });

    expect(result).toMatchObject({ kind: 'restore-drill', status: 'pass', system: system.id, department: 'dept-drill', site: 'same-city' });
    expect(result.detail).toMatchObject({
      engine: 'postgresql', set: NEWEST, dump: 'citizens.dump', tables: 1,
      clause: expect.stringContaining('8.1.4.9'), mlps: ['8.1.4.9 a)'],
      rto: { targetSeconds: 4 * 3600, met: true },
    });
    const validations = result.detail.validations as { ok: boolean; first?: string }[];
    expect(validations.map((v) => v.ok)).toEqual([true, true, true, true]);
    expect(validations[1]!.first).toBe('250');
    const steps = (result.detail.steps as { step: string; ok: boolean }[]);
    expect(steps.map((s) => s.step)).toEqual(['locate', 'fetch', 'create', 'restore', 'validate', 'drop']);
    expect(steps.every((s) => s.ok)).toBe(true);
    expect(progress).toEqual(['locate', 'fetch', 'create', 'restore', 'validate', 'drop'].map((step) => DRILL_STEP_LABEL[step]));
    expect(result.detail.scratchDatabase).toMatch(/^shouwang_drill_pg_ok_[0-9a-f]+_[0-9a-f]{8}$/);
    expect(await scratchLeft(postgres, system.id)).toEqual([]);
  });

  it('drills the off-site copy when asked: the off-site set is restored, the result names its site and RTO, and the same run keeps a distinct id', async () => {
    const id = uniqueId('pg-off').replace(/_/g, '-');
    const sameCity = join(dir, `${id}-same`);
    // Only the off-site copy holds this set: a drill that read the same-city copy would find no dump.
    writeSet(`${sameCity}-offsite`, OFF_SITE_SET, { 'citizens.dump': join(dir, 'citizens.dump') });
    const system = drillSystem(id, sameCity, {
      validationQueries: [{ name: '市民数 citizens', sql: 'SELECT count(*) FROM citizens', expect: { equals: 250 } }],
    });
    const result = await runRestoreDrill(system, { servers: { postgresql: postgres }, runId: 'job-off', site: 'off-site' });
    expect(result).toMatchObject({ kind: 'restore-drill', status: 'pass', site: 'off-site' });
    expect(result.detail).toMatchObject({
      site: 'off-site', set: OFF_SITE_SET, target: expect.stringContaining('-offsite'), mlps: ['8.1.4.9 b)'],
      rto: { targetSeconds: 4 * 3600, met: true },
    });
    expect(result.detail.rto!.achievedSeconds).toBeGreaterThan(0);
    expect(await scratchLeft(postgres, system.id)).toEqual([]);

    const local = await runRestoreDrill(system, { servers: { postgresql: postgres }, runId: 'job-off' });
    expect(local).toMatchObject({ status: 'fail', site: 'same-city', detail: { site: 'same-city', error: expect.stringContaining(`${sameCity}`) } });
    expect(local.id).not.toBe(result.id);
  });

  it('fails with the reason when the restored data does not validate, and still drops the scratch database', async () => {
    const system = drillSystem(uniqueId('pg-bad').replace(/_/g, '-'), root, {
      validationQueries: [{ name: '市民数 citizens', sql: 'SELECT count(*) FROM citizens', expect: { equals: 300 } }],
    });
    const result = await runRestoreDrill(system, { servers: { postgresql: postgres }, runId: 'job-2' });
    expect(result.status).toBe('fail');
    expect(result.summary).toContain('市民数 citizens');
    expect(result.summary).toContain('"250"');
    expect((result.detail.steps as { step: string; ok: boolean }[]).find((s) => s.step === 'validate')?.ok).toBe(false);
    expect(await scratchLeft(postgres, system.id)).toEqual([]);
  });

  it('fails when a validation query errors (a table missing from the dump)', async () => {
    const system = drillSystem(uniqueId('pg-missing').replace(/_/g, '-'), root, { validationQueries: ['SELECT count(*) FROM permits'] });
    const result = await runRestoreDrill(system, { servers: { postgresql: postgres }, runId: 'job-3' });
    expect(result.status).toBe('fail');
    expect(result.summary).toMatch(/permits/);
    expect(await scratchLeft(postgres, system.id)).toEqual([]);
  });

  it('fails when the RTO is exceeded', async () => {
    let now = 0;
    // Each clock reading advances an hour: the drill "takes" longer than its 1h RTO.
    const clock = () => (now += 3_600_000);
    const system = drillSystem(uniqueId('pg-slow').replace(/_/g, '-'), root, { rto: '1h', validationQueries: ['SELECT count(*) FROM citizens'] });
    const result = await runRestoreDrill(system, { servers: { postgresql: postgres }, runId: 'job-4', clock });
    expect(result.status).toBe('fail');
    expect(result.detail.rto).toMatchObject({ targetSeconds: 3600, met: false });
    expect(result.summary).toContain('RTO');
  });

  it('refuses a dump whose checksum does not match the manifest, before restoring anything', async () => {
    const tampered = join(dir, 'pg-tampered');
    writeSet(tampered, NEWEST, { 'citizens.dump': join(dir, 'citizens.dump') });
    const file = join(tampered, NEWEST, 'citizens.dump');
    const bytes = readFileSync(file);
    bytes[bytes.length - 10]! ^= 0xff;
    writeFileSync(file, bytes);
    const system = drillSystem(uniqueId('pg-tamper').replace(/_/g, '-'), tampered, { validationQueries: ['SELECT 1'] });
    const result = await runRestoreDrill(system, { servers: { postgresql: postgres }, runId: 'job-5' });
    expect(result.status).toBe('fail');
    expect(result.summary).toContain('checksum mismatch');
    expect((result.detail.steps as { step: string }[]).map((s) => s.step)).toEqual(['locate', 'fetch']);
  });

  it('reports a missing drill server as a failed drill naming the setting', async () => {
    const system = drillSystem(uniqueId('pg-noserver').replace(/_/g, '-'), root);
    const result = await runRestoreDrill(system, { servers: {}, runId: 'job-6' });
    expect(result.status).toBe('fail');
    expect(result.summary).toContain('backup.drill.postgresUrl');
  });

  it('reports a target without sets', async () => {
    const system = drillSystem(uniqueId('pg-empty').replace(/_/g, '-'), join(dir, 'does-not-exist'));
    const result = await runRestoreDrill(system, { servers: { postgresql: postgres }, runId: 'job-7' });
    expect(result.status).toBe('fail');
    expect(result.summary).toContain('does-not-exist');
  });
});

describe('restore drill: MariaDB SQL dump', () => {
  let mariadb: DrillServer;
  let root: string;
  let source: string;

  beforeAll(async () => {
    mariadb = mariadbDrillServer(inject('mariadbUrl'));
    root = join(dir, 'maria-same-city');
    const dumpFile = join(dir, 'permits.sql');
    ({ database: source } = await mariadbSourceDump(inject('mariadbUrl'), dumpFile, 40));
    writeSet(root, MARIA_SET, { 'permits.sql': dumpFile });
  });

  it('restores into the scratch database (not the dump\'s own), validates and drops it', async () => {
    const system = drillSystem(uniqueId('maria-ok').replace(/_/g, '-'), root, {
      validationQueries: [{ sql: 'SELECT count(*) FROM permits', expect: { equals: 40 } }, "SELECT holder = '持证人7' FROM permits WHERE id = 7"],
    });
    const result = await runRestoreDrill(system, { servers: { mariadb }, runId: 'job-1' });
    expect(result.summary).toContain('通过');
    expect(result).toMatchObject({ status: 'pass', detail: { engine: 'mariadb', tables: 1 } });
    const databases = await mariadb.listDatabases();
    expect(databases).not.toContain(source);
    expect(await scratchLeft(mariadb, system.id)).toEqual([]);
  });

  it('fails when rows are missing', async () => {
    const system = drillSystem(uniqueId('maria-bad').replace(/_/g, '-'), root, {
      validationQueries: [{ name: '许可数 permits', sql: 'SELECT id FROM permits', expect: { minRows: 41 } }],
    });
    const result = await runRestoreDrill(system, { servers: { mariadb }, runId: 'job-2' });
    expect(result.status).toBe('fail');
    expect(result.summary).toContain('40 rows, expected at least 41');
    expect(await scratchLeft(mariadb, system.id)).toEqual([]);
  });
});

describe('restore drill: file backups (no database dump)', () => {
  it('restores every file of the newest set and checks it against the manifest, timed against the RTO', async () => {
    const root = join(dir, 'files-same-city');
    writeFileSync(join(dir, 'a.tar'), 'archive one');
    writeFileSync(join(dir, 'b.tar'), 'archive two');
    writeSet(root, OLDER, { 'a.tar': join(dir, 'a.tar') });
    writeSet(root, NEWEST, { 'a.tar': join(dir, 'a.tar'), 'b.tar': join(dir, 'b.tar') });
    const result = await runRestoreDrill(drillSystem('files-ok', root), { servers: {}, runId: 'job-f1' });
    expect(result).toMatchObject({ status: 'pass', detail: { set: NEWEST, restoredFiles: 2, mismatches: [], rto: { met: true } } });
    expect(result.summary).toMatch(/file-set restore drill passed: 2/);
    expect((result.detail.steps as { step: string }[]).map((step) => step.step)).toEqual(['locate', 'restore']);
  });

  it('fails naming the file when a restored file differs from the manifest', async () => {
    const root = join(dir, 'files-corrupt');
    writeFileSync(join(dir, 'c.tar'), 'archive three');
    const set = writeSet(root, NEWEST, { 'c.tar': join(dir, 'c.tar') });
    writeFileSync(join(set, 'c.tar'), 'archive three, changed after the manifest');
    const result = await runRestoreDrill(drillSystem('files-bad', root), { servers: {}, runId: 'job-f2' });
    expect(result.status).toBe('fail');
    expect(result.summary).toMatch(/1 file\(s\) differ from the manifest — c\.tar: sha256/);
    // Fast, but nothing usable came back: the RTO was not met (evidence reads this flag).
    expect(result.detail.rto).toMatchObject({ met: false });
    expect((result.detail.rto as { achievedSeconds: number; targetSeconds: number }).achievedSeconds)
      .toBeLessThan((result.detail.rto as { targetSeconds: number }).targetSeconds);
  });
});

describe('validation expectations', () => {
  it('judges plain queries by a truthy first value and objects by their expectations', () => {
    expect(judgeValidation('q', [['3']]).ok).toBe(true);
    expect(judgeValidation('q', [['0']])).toMatchObject({ ok: false, first: '0' });
    expect(judgeValidation('q', [['f']]).ok).toBe(false);
    expect(judgeValidation('q', [['NULL']]).ok).toBe(false);
    expect(judgeValidation('q', [])).toMatchObject({ ok: false, rows: 0 });
    expect(judgeValidation({ sql: 'q', expect: { equals: 5 } }, [['5']]).ok).toBe(true);
    expect(judgeValidation({ sql: 'q', expect: { equals: 5 } }, [['5.0']]).ok).toBe(true);
    expect(judgeValidation({ sql: 'q', expect: { equals: '5.0' } }, [['5']]).ok).toBe(false);
    expect(judgeValidation({ sql: 'q', expect: { equals: true } }, [['t']]).ok).toBe(true);
    expect(judgeValidation({ sql: 'q', expect: { equals: true } }, [['0']]).ok).toBe(false);
    expect(judgeValidation({ sql: 'q', expect: { maxRows: 0 } }, []).ok).toBe(true);
    expect(judgeValidation({ sql: 'q', expect: { maxRows: 0 } }, [['1']]).ok).toBe(false);
    expect(judgeValidation({ sql: 'q', expect: { minRows: 2 } }, [['1']]).reason).toContain('expected at least 2');
  });

  it('drops the switches to (and drops of) the dump\'s own database, split across chunks, and keeps every other byte', async () => {
    const dump = "-- MariaDB dump\n/*!40000 DROP DATABASE IF EXISTS `src`*/;\nDROP DATABASE `src`;\nCREATE DATABASE /*!32312 IF NOT EXISTS*/ `src` ;\nUSE `src`;\nINSERT INTO t VALUES ('USE me','市民');\n";
    const chunks = [dump.slice(0, 30), dump.slice(30, 70), dump.slice(70)].map((s) => Buffer.from(s));
    const out: Buffer[] = [];
    for await (const chunk of Readable.from(chunks).pipe(new DropDatabaseSwitches())) out.push(chunk as Buffer);
    expect(Buffer.concat(out).toString('utf8')).toBe("-- MariaDB dump\nINSERT INTO t VALUES ('USE me','市民');\n");
  });
});

describe('validation queries in the inventory', () => {
  it('accepts plain strings and queries with expectations, and names the field of a bad expectation', () => {
    const system = drillSystem('schema-ok', dir, { validationQueries: ['SELECT 1', { sql: 'SELECT 2', name: 'two', expect: { equals: 2, minRows: 1 } }] });
    expect(system.backup?.validationQueries).toEqual(['SELECT 1', { sql: 'SELECT 2', name: 'two', expect: { equals: 2, minRows: 1 } }]);
    expect(() => inventoryFromYaml(`
departments: [{ id: d, name: 局 }]
systems:
  - id: s
    name: 系统
    department: d
    mlpsLevel: 3
    zone: 政务外网
    owner: { name: 王工 }
    backup:
      rpo: 1d
      rto: 4h
      sameCity: { type: path, path: /a }
      offSite: { type: path, path: /b }
      validationQueries: [{ sql: SELECT 1, expect: { minRows: -1 } }]
`)).toThrow(/line 15: systems\[0\]\.backup\.validationQueries\[0\]\.expect\.minRows, got -1/);
  });
});

