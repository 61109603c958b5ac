import type { Database } from 'better-sqlite3';
import type { JobResult } from '../../core/index.js';
import { StoreErrors } from '../errors.js';
import { toMillis } from '../paging.js';
import type { JobResultQuery, JobResultStore, Page, PageRequest, Scope } from '../ports.js';
import { keysetPage, Where } from './sql.js';

export class EmbeddedJobResultStore implements JobResultStore {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  async put(result: JobResult): Promise<void> {
    this.#db
      .prepare(`INSERT OR REPLACE INTO job_results (id, kind, status, system, department, site, finished_at, doc)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(result.id, result.kind, result.status, result.system ?? null, result.department ?? null, result.site ?? null,
        toMillis(result.finishedAt, 'finishedAt'), JSON.stringify(result));
  }

  async get(id: string, scope?: Scope): Promise<JobResult | undefined> {
    const where = new Where().add('id = ?', id).scope('department', scope);
    const row = this.#db.prepare(`SELECT doc FROM job_results ${where.sql}`).get(...where.params) as { doc: string } | undefined;
    return row ? (JSON.parse(row.doc) as JobResult) : undefined;
  }

  async search(query: JobResultQuery, page?: PageRequest): Promise<Page<JobResult>> {
    return keysetPage(this.#db, {
      table: 'job_results', timeColumn: 'finished_at', where: resultWhere(query), page, decode: (doc) => JSON.parse(doc) as JobResult,
    });
  }

  async latestPerSystem(query: JobResultQuery, perGroup: number): Promise<JobResult[]> {
    if (!Number.isInteger(perGroup) || perGroup < 1 || perGroup > 100) throw StoreErrors.invalidQuery(`perGroup must be 1–100, got ${perGroup}`);
    const groups = resultWhere(query).add('system IS NOT NULL');
    const newest = resultWhere(query).add('system = g.system AND site IS g.site');
    // Per (system, site): the newest few straight off the job_results_latest index, no window over all rows.
    const rows = this.#db.prepare(`SELECT j.doc FROM (SELECT DISTINCT system, site FROM job_results ${groups.sql}) g, job_results j
      WHERE j.rowid IN (SELECT rowid FROM job_results ${newest.sql} ORDER BY finished_at DESC, id DESC LIMIT ?)
      ORDER BY j.finished_at DESC, j.id DESC`).all(...groups.params, ...newest.params, perGroup) as { doc: string }[];
    return rows.map((row) => JSON.parse(row.doc) as JobResult);
  }
}

function resultWhere(query: JobResultQuery): Where {
  const where = new Where();
  if (query.from) where.add('finished_at >= ?', toMillis(query.from, 'from'));
  if (query.to) where.add('finished_at < ?', toMillis(query.to, 'to'));
  if (query.kind) where.add('kind = ?', query.kind);
  if (query.system) where.add('system = ?', query.system);
  if (query.status) where.add('status = ?', query.status);
  where.scope('department', query.scope);
  return where;
}
