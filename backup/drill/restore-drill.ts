import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { performance } from 'node:perf_hooks';
import type { BusinessSystem, JobSite, RestoreDrillDetail, RestoreDrillResult } from '../../core/index.js';
import { BackupErrors } from '../errors.js';
import { readManifest, MANIFEST_FILES, type Manifest } from '../manifest.js';
import { PgbackrestRepository, isDatabaseRepository, isRepositoryTarget, openTarget, type BackupTarget, type SftpOptions, type TargetSpec } from '../targets/index.js';
import { drillLatestSnapshot } from './repository-drill.js';
import { backupClause, formatSeconds, type BackupSite } from '../checks/outcome.js';
import { dumpProblem } from '../checks/integrity.js';
import { DrillErrors } from './errors.js';
import { sqlDumpIncomplete } from './dump-completeness.js';
import { productionDatabaseOf } from './source-guard.js';
import { drillWorkDir } from './work-dir.js';
import { wrongDatabase } from './dump-origin.js';
import { SCRATCH_PREFIX, type DrillEngine, type DrillServer } from './drill-server.js';
import { startThrowawayMariadbd, startThrowawayPostgres } from './throwaway-instance.js';
import { judgeValidation, specName, specSql, type ValidationOutcome } from './validation.js';

export const DRILL_KIND = 'restore-drill';

export interface DrillProgress {
  done: number;
  total: number;
  step: string;
}

export interface DrillOptions {
  servers: Partial<Record<DrillEngine, DrillServer>>;
  /** The job's id: the result id and the scratch database name derive from it. */
  runId?: string;
  onProgress?: (progress: DrillProgress) => void;
  signal?: AbortSignal;
  /** The copy to restore from: same-city (default) or off-site, so the off-site copy's RTO is measured too. */
  site?: JobSite;
  /** Opens the site's target (default: a path or SFTP target as the policy says). */
  openTarget?: (spec: TargetSpec, sftp?: SftpOptions) => BackupTarget;
  sftp?: SftpOptions;
  /** When the restored set's age is measured against the RPO (default: now). */
  now?: Date;
  /** Monotonic milliseconds, for the measured RTO. */
  clock?: () => number;
  tmpDir?: string;
  /** Every system of the inventory: a drill server that is any one's production database is refused. */
  systems?: readonly BusinessSystem[];
}

export interface DrillStep {
  step: string;
  ms: number;
  ok: boolean;
  note?: string;
}

interface LocatedDump {
  set: string;
  setTime: string;
  path: string;
  engine: DrillEngine;
  size: number;
  expectedSha256?: string;
}

const STEPS = ['locate', 'fetch', 'create', 'restore', 'validate', 'drop'] as const;

/** Progress text per step, zh-CN and English. */
export const DRILL_STEP_LABEL: Record<string, string> = {
  locate: '定位最新转储 locate dump',
  fetch: '取回并校验 fetch',
  create: '创建临时库 create scratch database',
  restore: '恢复 restore',
  validate: '校验查询 validate',
  drop: '删除临时库 drop scratch database',
  start: '启动临时实例 start throwaway server',
  stop: '停止并删除临时实例 stop and remove throwaway server',
};

/** `shouwang_drill_<system>_<8 hex of the run id>`: a retried run finds and drops its own leftovers. */
export function scratchDatabaseName(system: string, runId: string): string {
  const short = createHash('sha256').update(runId).digest('hex').slice(0, 8);
  return `${SCRATCH_PREFIX}${system.replace(/[^a-z0-9_]/g, '_').slice(0, 38)}_${short}`;
}

/** Same-city ids keep their old form, so results stored before drills had a site stay the same. */
export const drillResultId = (system: string, runId: string, site: JobSite = 'same-city') =>
  `restore-drill-${createHash('sha256').update(`${system}\u0000${runId}${site === 'same-city' ? '' : `\u0000${site}`}`).digest('hex').slice(0, 24)}`;

/**
 * Restores the newest dump from the system's same-city (or, asked, off-site) target into a scratch database on a drill
 * server, runs the policy's validation queries, measures the RTO (start to validated) against the
 * policy, and always drops the scratch database. A target whose sets hold no database dump (file
 * backups) is drilled as a file set: every file of the newest set is restored to scratch and checked
 * against its manifest, within the RTO. Every outcome, including "could not run", is a result; only
 * a missing policy is thrown (bad input).
 */
export async function runRestoreDrill(system: BusinessSystem, options: DrillOptions): Promise<RestoreDrillResult> {
  const policy = system.backup;
  if (!policy) throw BackupErrors.noPolicy(system.id);
  const runId = options.runId ?? randomUUID();
  const clock = options.clock ?? (() => performance.now());
  const startedAt = new Date();
  const start = clock();
  const steps: DrillStep[] = [];
  const clause = backupClause(system.mlpsLevel);
  const site = options.site ?? 'same-city';
  const detail: RestoreDrillDetail = { site, clause, mlps: drillClauses(system.mlpsLevel, site), steps, runId };
  const report = (step: string) => options.onProgress?.({ done: steps.length, total: STEPS.length, step: DRILL_STEP_LABEL[step] ?? step });

  // `met` is decided once, in result(), when the outcome is known.
  const rtoOf = (achieved: number) => ({ targetSeconds: policy.rto, achievedSeconds: Math.round(achieved * 1000) / 1000, met: false });
  const timed = async <T>(step: string, work: () => Promise<T>, note?: (value: T) => string): Promise<T> => {
    report(step);
    const began = clock();
    try {
      const value = await work();
      steps.push({ step, ms: Math.round(clock() - began), ok: true, ...(note ? { note: note(value) } : {}) });
      return value;
    } catch (error) {
      steps.push({ step, ms: Math.round(clock() - began), ok: false, note: (error as Error).message });
      throw error;
    }
  };

  // A restore still running at twice the RTO has failed anyway: stop it and free the drill server.
  const overdue = AbortSignal.timeout(Math.max(2 * policy.rto, 60) * 1000);
  const signal = options.signal ? AbortSignal.any([options.signal, overdue]) : overdue;
  let scratch: { server: DrillServer; name: string } | undefined;
  let status: RestoreDrillResult['status'] = 'fail';
  let summary: string;
  const workDir = await drillWorkDir(options.tmpDir ?? tmpdir(), runId, site);
  const target = (options.openTarget ?? openTarget)(site === 'off-site' ? policy.offSite : policy.sameCity, options.sftp);
  try {
    if (isDatabaseRepository(target)) {
      // pgBackRest / mariabackup: restore to a scratch data directory, start a throwaway server on it, query it.
      const latest = await timed('locate', async () => {
        const set = (await target.listSets()).at(-1);
        if (!set) throw new Error(`${target.description} 没有备份 / no backups at ${target.description}`);
        return set;
      }, (set) => set.name);
      const dataDir = join(workDir, 'data');
      Object.assign(detail, { target: target.description, repository: target.kind, engine: target.engine, set: latest.name, setTime: latest.time.toISOString(), database: target.database });
      await timed('restore', () => target.restore(latest.name, dataDir, signal));
      const readyTimeoutMs = Math.max(2 * policy.rto, 60) * 1000;
      const instance = await timed('start', () => (target instanceof PgbackrestRepository
        ? startThrowawayPostgres(target, dataDir, workDir, target.database, readyTimeoutMs)
        : startThrowawayMariadbd(dataDir, workDir, target.database, readyTimeoutMs)));
      detail.drillServer = `${instance.server.description} (临时实例 throwaway)`;
      try {
        const validations = await timed('validate', () => validate(instance.server, target.database, policy.validationQueries, signal, clock),
          (v) => `${v.filter((o) => o.ok).length}/${v.length} ok`);
        const stats = await instance.server.tableStats(target.database);
        const achieved = (clock() - start) / 1000;
        Object.assign(detail, { validations, tables: stats.tables });
        detail.rto = rtoOf(achieved);
        steps[steps.length - 1]!.ok = validations.every((v) => v.ok);
        ({ status, summary } = judgeDatabaseDrill(validations, stats.tables, achieved, policy.rto));
      } finally {
        await timed('stop', () => instance.stop()).catch((error: Error) => { detail.stopError = error.message; });
      }
      return result();
    }
    if (isRepositoryTarget(target)) {
      // A restic/Borg repository: restore the newest snapshot with the tool and prove a sample against a second read.
      const drill = await timed('restore', () => drillLatestSnapshot(target, join(workDir, 'restore'), signal),
        (d) => `${d.set}: ${d.files - d.mismatches.length}/${d.files} 一致 match, ${d.sampled.length} 个抽样 sampled`);
      const achieved = (clock() - start) / 1000;
      Object.assign(detail, {
        target: target.description, repository: target.kind, set: drill.set, setTime: drill.setTime, restoredFiles: drill.files,
        sampled: drill.sampled, compared: 'sizes of every file against the listing; sha256 of the sample against a second read from the repository',
        mismatches: drill.mismatches,
      });
      detail.rto = rtoOf(achieved);
      const rtoText = `RTO ${formatSeconds(achieved)} / 目标 target ${formatSeconds(policy.rto)}`;
      if (drill.mismatches.length) {
        steps[steps.length - 1]!.ok = false;
        summary = `恢复演练未通过：${drill.mismatches.length} 个文件与仓库不符 / restore drill failed: ${drill.mismatches.length} file(s) differ from the repository — ${drill.mismatches.slice(0, 5).join('; ')}`;
      } else if (achieved > policy.rto) {
        summary = `恢复演练未通过：超出 RTO / restore drill failed: RTO exceeded — ${rtoText}`;
      } else {
        status = 'pass';
        summary = `快照恢复演练通过 / snapshot restore drill passed: ${drill.set} 的 ${drill.files} 个文件大小一致，${drill.sampled.length} 个抽样校验和一致 / ${drill.files} files of ${drill.set} restored with their sizes, ${drill.sampled.length} sampled checksums match — ${rtoText}`;
      }
      return result();
    }
    const found = await timed('locate', () => locateLatestRestorable(target),
      (d) => ('files' in d ? `${d.set} (${d.files.length} 个文件 files)` : `${d.set}/${d.path} (${d.engine}, ${d.size} B)`));
    if ('files' in found) {
      // No database in the set: restore its files and prove them against the manifest, timed against the RTO.
      Object.assign(detail, { target: target.description, set: found.set, setTime: found.setTime, restoredFiles: found.files.length });
      const mismatches = await timed('restore', () => restoreFileSet(target, found, join(workDir, 'restore'), signal),
        (m) => `${found.files.length - m.length}/${found.files.length} 一致 match`);
      const achieved = (clock() - start) / 1000;
      detail.rto = rtoOf(achieved);
      detail.mismatches = mismatches;
      const rtoText = `RTO ${formatSeconds(achieved)} / 目标 target ${formatSeconds(policy.rto)}`;
      if (mismatches.length) {
        steps[steps.length - 1]!.ok = false;
        summary = `恢复演练未通过：${mismatches.length} 个文件与清单不符 / restore drill failed: ${mismatches.length} file(s) differ from the manifest — ${mismatches.slice(0, 5).join('; ')}`;
      } else if (achieved > policy.rto) {
        summary = `恢复演练未通过：超出 RTO / restore drill failed: RTO exceeded — ${rtoText}`;
      } else {
        status = 'pass';
        summary = `文件集恢复演练通过 / file-set restore drill passed: ${found.files.length} 个文件与清单一致 files match the manifest — ${rtoText}`;
      }
      return result();
    }
    const dump = found;
    Object.assign(detail, { target: target.description, set: dump.set, setTime: dump.setTime, dump: dump.path, engine: dump.engine, dumpBytes: dump.size });
    const server = options.servers[dump.engine];
    if (!server) {
      throw DrillErrors.server(dump.engine, `set backup.drill.${dump.engine === 'postgresql' ? 'postgresUrl' : 'mariadbUrl'}`);
    }
    detail.drillServer = server.description;
    const production = await productionDatabaseOf(system, options.systems ?? [], server);
    if (production?.system === system.id) {
      throw DrillErrors.server(dump.engine, `演练服务器 ${server.description} 就是本系统的生产数据库 ${production.database}，拒绝在其上恢复 / the drill server is this system's own database ${production.database}; drills restore only into a separate drill server`);
    }
    if (production) {
      throw DrillErrors.server(dump.engine, `演练服务器 ${server.description} 是系统 ${production.system} 的生产数据库 ${production.database}，拒绝在其上恢复 / the drill server is the production database of system ${production.system}: ${production.database}; drills restore only into a separate drill server`);
    }

    const local = join(workDir, basename(dump.path));
    const sha256 = await timed('fetch', () => fetchDump(target, dump, local, signal), (s) => `sha256 ${s}`);
    detail.sha256 = sha256;
    if (dump.expectedSha256 && dump.expectedSha256 !== sha256) {
      throw new Error(`转储文件校验和不符 / dump checksum mismatch: manifest ${dump.expectedSha256}, read ${sha256}`);
    }
    const wrong = await wrongDatabase(system, local, dump.engine);
    if (wrong) {
      steps[steps.length - 1]!.ok = false;
      throw new Error(wrong);
    }
    if (dump.engine === 'mariadb') {
      const incomplete = await sqlDumpIncomplete(local);
      if (incomplete) {
        steps[steps.length - 1]!.ok = false;
        throw new Error(incomplete);
      }
    }

    const name = scratchDatabaseName(system.id, runId);
    detail.scratchDatabase = name;
    await timed('create', async () => {
      await server.dropDatabase(name); // a killed earlier try of this run may have left it
      scratch = { server, name };
      await server.createDatabase(name, signal);
    });
    await timed('restore', () => server.restore(name, local, signal));

    const validations = await timed('validate', () => validate(server, name, policy.validationQueries, signal, clock),
      (v) => `${v.filter((o) => o.ok).length}/${v.length} ok`);
    const stats = await server.tableStats(name);
    const achieved = (clock() - start) / 1000;
    detail.validations = validations;
    detail.tables = stats.tables;
    detail.rto = rtoOf(achieved);

    steps[steps.length - 1]!.ok = validations.every((v) => v.ok);
    ({ status, summary } = judgeDatabaseDrill(validations, stats.tables, achieved, policy.rto));
    detail.checksumCompared = dump.expectedSha256 !== undefined;
    if (status === 'pass' && !dump.expectedSha256) {
      // It restores, but nothing says it is the dump the backup job wrote (a dump edited at the target restores too).
      status = 'warn';
      summary = `${summary}；但转储 ${dump.path} 不在备份集清单中，未核对校验和 / but the dump ${dump.path} is in no manifest of its set, so its checksum was not compared`;
    }
  } catch (error) {
    if (options.signal?.aborted) throw error;
    summary = overdue.aborted
      ? `恢复演练超时：超过 RTO 的两倍 ${formatSeconds(2 * policy.rto)} 仍未完成，已中止 / restore drill failed: still running at twice the RTO (${formatSeconds(2 * policy.rto)}), stopped`
      : `恢复演练失败 / restore drill failed: ${(error as Error).message}`;
    detail.error = (error as Error).message;
  } finally {
    await target.close().catch(() => undefined);
    await rm(workDir, { recursive: true, force: true });
    if (scratch) {
      const { server, name } = scratch;
      await timed('drop', () => server.dropDatabase(name)).catch((error: Error) => {
        // A scratch database left behind is worth knowing about, not worth losing the report over.
        detail.dropError = error.message;
      });
    }
  }
  return result();

  function result(): RestoreDrillResult {
    // A restorable set older than the RPO still loses more data than the policy allows: the drill did not prove the RPO.
    const setAge = typeof detail.setTime === 'string' ? Math.round(((options.now ?? startedAt).getTime() - Date.parse(detail.setTime)) / 1000) : undefined;
    if (setAge !== undefined && setAge > policy!.rpo) {
      Object.assign(detail, { setAgeSeconds: setAge, rpoSeconds: policy!.rpo });
      const stale = `恢复的备份集 ${String(detail.set)} 已过去 ${formatSeconds(setAge)}，超过 RPO ${formatSeconds(policy!.rpo)} / the restored set ${String(detail.set)} is ${formatSeconds(setAge)} old, beyond the RPO of ${formatSeconds(policy!.rpo)}`;
      summary = status === 'fail' ? `${summary}; ${stale}` : `恢复演练未通过：${stale} — ${summary}`;
      status = 'fail';
    }
    // Recovered within the RTO only if it recovered at all: a failed drill never reads 达标 met.
    if (detail.rto) detail.rto.met = status !== 'fail' && detail.rto.achievedSeconds <= detail.rto.targetSeconds;
    return {
      id: drillResultId(system.id, runId, site),
      kind: DRILL_KIND,
      status,
      system: system.id,
      department: system.department,
      site,
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      summary,
      detail,
    };
  }
}

/** The verdict of a drill that restored a database and queried it: validations, tables, then the RTO. */
function judgeDatabaseDrill(
  validations: readonly ValidationOutcome[], tables: number, achieved: number, rto: number,
): { status: RestoreDrillResult['status']; summary: string } {
  const failed = validations.filter((v) => !v.ok);
  const rtoText = `RTO ${formatSeconds(achieved)} / 目标 target ${formatSeconds(rto)}`;
  if (failed.length) {
    return { status: 'fail', summary: `恢复演练未通过：${failed.length} 条校验失败 / restore drill failed: ${failed.length} validation(s) failed — ${failed.map((f) => `${f.name ?? f.sql}: ${f.reason}`).join('; ')}` };
  }
  if (tables === 0) return { status: 'fail', summary: `恢复演练未通过：恢复后没有表 / restore drill failed: the restored database has no tables` };
  if (achieved > rto) return { status: 'fail', summary: `恢复演练未通过：超出 RTO / restore drill failed: RTO exceeded — ${rtoText}` };
  if (!validations.length) {
    return { status: 'warn', summary: `已恢复 ${tables} 张表，但策略没有校验查询 / restored ${tables} tables, but the policy has no validation queries — ${rtoText}` };
  }
  return { status: 'pass', summary: `恢复演练通过 / restore drill passed: ${tables} 张表 tables, ${validations.length} 条校验 validations — ${rtoText}` };
}

const clauseNumber = (clause: string) => /\d+\.\d+\.\d+\.\d+/.exec(clause)?.[0] ?? clause;

/**
 * The 数据备份恢复 items a drill of this site evidences: a) local backup and recovery for the same-city copy,
 * b) off-site backup for the off-site copy. Level 1 (6.1.4.7) is one item without letters, local only: an
 * off-site drill evidences nothing there.
 */
export function drillClauses(mlpsLevel: number, site: BackupSite): string[] {
  const number = clauseNumber(backupClause(mlpsLevel));
  if (mlpsLevel === 1) return site === 'off-site' ? [] : [number];
  return [`${number} ${site === 'off-site' ? 'b)' : 'a)'}`];
}

const DUMP_NAME = /\.(dump|pgdump|backup|sql|sql\.gz)$/i;

/** Thrown when no set holds anything named like a dump: only then is the newest set drilled as files. */
class NoDumpError extends Error {}

/**
 * What a file named like a dump should start with, when it does not (`undefined`: a dump, or a file that
 * merely shares the extension, such as a plain-SQL schema script).
 */
function brokenDumpReason(path: string, size: number, head: Buffer): string | undefined {
  if (size === 0) return '空文件 / empty file';
  if (/\.(dump|pgdump)$/i.test(path)) return '文件头不是 PGDMP / header is not PGDMP (PostgreSQL custom format)';
  if (/\.sql\.gz$/i.test(path)) return '不是 gzip 文件 / not a gzip file';
  const expected = dumpProblem(path, head);
  return expected ? `文件头不是 SQL 文本 / header is not ${expected}` : undefined;
}

/**
 * The newest set holding a file named like a database dump, and which dump: PostgreSQL custom format or SQL.
 * A dump in that set that is empty or has a broken header fails the drill; an older set is never drilled
 * instead, or a corrupted newest dump would read as a passed drill of last week's.
 */
export async function locateLatestDump(target: BackupTarget): Promise<LocatedDump> {
  const sets = await target.listSets();
  for (const set of [...sets].reverse()) {
    const files = (await target.listFiles(set.name)).filter((f) => !MANIFEST_FILES.includes(f.path) && DUMP_NAME.test(f.path));
    const broken: string[] = [];
    for (const file of files) {
      const head = await readHead(target, set.name, file.path, 512);
      const engine = sniffEngine(file.path, head);
      if (!engine) {
        const reason = brokenDumpReason(file.path, file.size, head);
        if (reason) broken.push(`${file.path}: ${reason}`);
        continue;
      }
      const manifest: Manifest | undefined = await readManifest(target, set.name);
      const entry = manifest?.files.find((f) => f.path === file.path);
      return {
        set: set.name, setTime: set.time.toISOString(), path: file.path, engine, size: file.size,
        ...(entry ? { expectedSha256: entry.sha256 } : {}),
      };
    }
    if (broken.length) {
      throw new Error(`最新含转储的备份集 ${set.name} 中的转储已损坏 / the dump in the newest set holding one, ${set.name}, is not restorable — ${broken.join('; ')}`);
    }
  }
  throw new NoDumpError(sets.length
    ? `${target.description} 的 ${sets.length} 个备份集中没有数据库转储 / no database dump (.dump, .sql, .sql.gz) in ${sets.length} set(s) at ${target.description}`
    : `${target.description} 没有备份集 / no backup sets at ${target.description}`);
}

interface LocatedFileSet {
  set: string;
  setTime: string;
  files: Manifest['files'];
}

/** The newest set holding a database dump, else (no dump anywhere) the newest set with a manifest, restored as files. */
export async function locateLatestRestorable(target: BackupTarget): Promise<LocatedDump | LocatedFileSet> {
  try {
    return await locateLatestDump(target);
  } catch (error) {
    if (!(error instanceof NoDumpError)) throw error;
    // The newest set or nothing: drilling an older one because the newest has no usable manifest would pass a backup never proven.
    const newest = (await target.listSets()).at(-1);
    if (!newest) throw error;
    const manifest = await readManifest(target, newest.name).catch((failure: Error) => failure);
    if (manifest instanceof Error || !manifest?.files.length) {
      const reason = manifest instanceof Error ? manifest.message : manifest ? '清单为空 / the manifest lists no file' : '没有清单 / no manifest.json or SHA256SUMS';
      throw new Error(`最新备份集 ${newest.name} 无法按清单恢复校验 / the newest set ${newest.name} cannot be restored against a manifest: ${reason}`);
    }
    return { set: newest.name, setTime: newest.time.toISOString(), files: manifest.files };
  }
}

/** Copies every file of the set into `dir`, hashing on the way; returns the files that differ from the manifest. */
async function restoreFileSet(target: BackupTarget, found: LocatedFileSet, dir: string, signal: AbortSignal): Promise<string[]> {
  const mismatches: string[] = [];
  for (const file of found.files) {
    const local = join(dir, file.path);
    await mkdir(dirname(local), { recursive: true });
    try {
      const sha256 = await fetchDump(target, { set: found.set, path: file.path }, local, signal);
      if (sha256 !== file.sha256) mismatches.push(`${file.path}: sha256 ${sha256.slice(0, 12)}… ≠ ${file.sha256.slice(0, 12)}…`);
    } catch (error) {
      if (signal.aborted) throw error;
      mismatches.push(`${file.path}: ${(error as Error).message}`);
    }
  }
  return mismatches;
}

function sniffEngine(path: string, head: Buffer): DrillEngine | undefined {
  if (head.subarray(0, 5).toString('latin1') === 'PGDMP') return 'postgresql';
  if (/\.sql\.gz$/i.test(path)) return head[0] === 0x1f && head[1] === 0x8b ? 'mariadb' : undefined;
  const text = head.toString('utf8');
  if (/\.sql$/i.test(path) && /(MariaDB dump|MySQL dump|\/\*M?!\d+)/.test(text)) return 'mariadb';
  return undefined;
}

async function readHead(target: BackupTarget, set: string, path: string, bytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  const stream = target.openRead(set, path, { highWaterMark: bytes });
  for await (const chunk of stream) {
    chunks.push(chunk as Buffer);
    length += (chunk as Buffer).length;
    if (length >= bytes) break;
  }
  stream.destroy();
  return Buffer.concat(chunks).subarray(0, bytes);
}

/** Copies the dump next to the drill (pg_restore wants a seekable file), hashing it on the way. */
async function fetchDump(target: BackupTarget, dump: Pick<LocatedDump, 'set' | 'path'>, local: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  const tee = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
  await pipeline(target.openRead(dump.set, dump.path, signal ? { signal } : {}), tee, createWriteStream(local), signal ? { signal } : {});
  return hash.digest('hex');
}

async function validate(
  server: DrillServer, database: string, specs: NonNullable<BusinessSystem['backup']>['validationQueries'],
  signal: AbortSignal | undefined, clock: () => number,
): Promise<ValidationOutcome[]> {
  const outcomes: ValidationOutcome[] = [];
  for (const spec of specs) {
    const sql = specSql(spec);
    const name = specName(spec);
    const began = clock();
    try {
      const rows = await server.query(database, sql, signal);
      outcomes.push({ ...(name ? { name } : {}), sql, ...judgeValidation(spec, rows), ms: Math.round(clock() - began) });
    } catch (error) {
      if (signal?.aborted) throw error;
      outcomes.push({ ...(name ? { name } : {}), sql, ok: false, rows: 0, expected: 'runs without error', reason: (error as Error).message, ms: Math.round(clock() - began) });
    }
  }
  return outcomes;
}
