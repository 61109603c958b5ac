import type { Database, Statement, Transaction } from 'better-sqlite3';
import {
  applyAlertChange, markSuppressed, mergeAlert, sameMark, type Alert, type AlertStatus, type AlertStatusChange, type AlertSuppression,
} from '../../core/index.js';
import { StoreErrors } from '../errors.js';
import { alertSortField, decodeAlertCursor, encodeAlertCursor, LEVEL_RANKS, STATUS_RANKS } from '../alert-sort.js';
import { dayBounds, dayZone } from '../day-zone.js';
import { dayCase } from './day-case.js';
import { pageSize, toMillis } from '../paging.js';
import {
  TOTAL_COUNT_LIMIT, type AlertDayGroup, type AlertGroup, type AlertGroupField, type AlertPageRequest, type AlertProblem, type AlertQuery, type AlertSortField,
  type AlertStore, type Bucket, type Page, type Scope,
} from '../ports.js';
import { Where, writeOrUnavailable } from './sql.js';

/** Days one daily() statement groups (see below). */
const DAYS_PER_QUERY = 366;

const GROUP_COLUMNS: Record<AlertGroupField, string> = {
  status: 'status', level: 'level', department: 'department', system: 'system', ruleId: 'rule_id', assignee: 'assignee',
};

function alertWhere(query: AlertQuery): Where {
  const where = new Where();
  if (query.from) where.add('last_seen >= ?', toMillis(query.from, 'from'));
  if (query.to) where.add('last_seen < ?', toMillis(query.to, 'to'));
  where.in('status', query.status).in('level', query.level).in('department', query.department);
  where.in('system', query.system).in('rule_id', query.ruleId).scope('department', query.scope);
  if (query.assignee !== undefined) where.add('assignee = ?', query.assignee);
  if (query.mlps !== undefined) where.add('EXISTS (SELECT 1 FROM json_each(mlps) WHERE value = ?)', query.mlps);
  where.in('mlps_level', query.mlpsLevel);
  // A mark counts until its suppression's expiry: an alert with no repeat since is listed again once it ends.
  if (query.suppressed !== undefined) {
    where.add(query.suppressed ? 'suppressed_until > ?' : '(suppressed_until IS NULL OR suppressed_until <= ?)', Date.now());
  }
  if (query.eventIds !== undefined) {
    if (query.eventIds.length === 0) where.add('0');
    else {
      where.add(`id IN (SELECT alert_id FROM alert_samples WHERE event_id IN (${query.eventIds.map(() => '?').join(', ')}))`, ...query.eventIds);
    }
  }
  return where;
}

const rank = (column: string, values: readonly string[]) =>
  `CASE ${column} ${values.map((v, i) => `WHEN '${v}' THEN ${i}`).join(' ')} ELSE -1 END`;

/** The sorted column as SQL; a missing system or department sorts as "", a missing level as 0, as in Elasticsearch. */
const SORT_SQL: Record<Exclude<AlertSortField, 'lastSeen'>, string> = {
  priority: 'priority', firstSeen: 'first_seen', level: rank('level', LEVEL_RANKS), status: rank('status', STATUS_RANKS),
  count: 'coalesce(count, 0)', system: "coalesce(system, '')", department: "coalesce(department, '')",
  mlpsLevel: 'coalesce(mlps_level, 0)',
};

export class EmbeddedAlertStore implements AlertStore {
  readonly #db: Database;
  readonly #select: Statement;
  readonly #save: Statement;
  readonly #sample: Statement;
  readonly #upsertBatch: Transaction<(alerts: readonly Alert[]) => { created: number; updated: number; suppressed?: string[] }>;
  readonly #activeSuppressions: Statement;

  constructor(db: Database) {
    this.#db = db;
    this.#select = db.prepare('SELECT doc FROM alerts WHERE id = ?');
    this.#save = db.prepare(`INSERT OR REPLACE INTO alerts
      (id, rule_id, level, status, department, system, assignee, mlps, first_seen, last_seen, priority, count, mlps_level, title, suppressed,
        suppressed_until, doc)
      VALUES (@id, @ruleId, @level, @status, @department, @system, @assignee, @mlps, @firstSeen, @lastSeen, @priority, @count, @mlpsLevel,
        @title, @suppressed, @suppressedUntil, @doc)`);
    this.#activeSuppressions = db.prepare('SELECT doc FROM alert_suppressions WHERE expires_at > ? ORDER BY created_at DESC, id');
    this.#sample = db.prepare('INSERT OR IGNORE INTO alert_samples (event_id, alert_id) VALUES (?, ?)');
    this.#upsertBatch = db.transaction((alerts: readonly Alert[]) => {
      let created = 0;
      let updated = 0;
      const suppressed: string[] = [];
      // Read in the write transaction: a suppression created before this batch covers all of it.
      const now = Date.now();
      const active = (this.#activeSuppressions.all(now) as { doc: string }[]).map((row) => JSON.parse(row.doc) as AlertSuppression);
      for (const alert of alerts) {
        const stored = this.#load(alert.id);
        const next = markSuppressed(stored ? mergeAlert(stored, alert) : alert, active, now);
        this.#write(next);
        if (next.suppressed) suppressed.push(alert.id);
        if (stored) updated += 1;
        else created += 1;
      }
      return { created, updated, ...(suppressed.length ? { suppressed } : {}) };
    });
  }

  #load(id: string): Alert | undefined {
    const row = this.#select.get(id) as { doc: string } | undefined;
    return row ? (JSON.parse(row.doc) as Alert) : undefined;
  }

  #write(alert: Alert): void {
    this.#save.run({
      id: alert.id, ruleId: alert.rule.id, level: alert.rule.level, status: alert.status,
      department: alert.department ?? null, system: alert.system ?? null, assignee: alert.assignee ?? null,
      mlps: JSON.stringify(alert.mlps), firstSeen: Date.parse(alert.firstSeen), lastSeen: Date.parse(alert.lastSeen),
      priority: alert.priority ?? 0, count: alert.count, mlpsLevel: alert.mlpsLevel ?? null, title: alert.rule.title,
      suppressed: alert.suppressed?.id ?? null, suppressedUntil: alert.suppressed ? Date.parse(alert.suppressed.until) : null, doc: JSON.stringify(alert),
    });
    // Samples only grow (mergeAlert keeps the stored ones), so adding is enough.
    for (const eventId of alert.sampleEventIds) this.#sample.run(eventId, alert.id);
  }

  async upsert(alerts: readonly Alert[]): Promise<{ created: number; updated: number; suppressed?: string[] }> {
    // BEGIN IMMEDIATE: the write lock before the read, so processes sharing the file merge one after another (waiting
    // up to busy_timeout) instead of failing with SQLITE_BUSY when another wrote between this one's read and write.
    return writeOrUnavailable(() => this.#upsertBatch.immediate(alerts));
  }

  async createSuppression(suppression: AlertSuppression): Promise<void> {
    writeOrUnavailable(() => this.#db.transaction(() => {
      this.#db.prepare('INSERT INTO alert_suppressions (id, department, expires_at, created_at, doc) VALUES (?, ?, ?, ?, ?)')
        .run(suppression.id, suppression.department ?? null, Date.parse(suppression.expiresAt), Date.parse(suppression.createdAt), JSON.stringify(suppression));
      this.#remark(suppression);
    }).immediate());
  }

  /**
   * Marks (or unmarks) the stored alerts of a suppression's rule and department as markSuppressed decides with the active
   * suppressions now, as upsert does for a repeat: a suppression made hides its alerts at once, one ended shows them
   * again, without waiting for their next repeat. Runs in the caller's write transaction.
   */
  #remark({ ruleId, department }: Pick<AlertSuppression, 'ruleId' | 'department'>): void {
    const now = Date.now();
    const active = (this.#activeSuppressions.all(now) as { doc: string }[]).map((row) => JSON.parse(row.doc) as AlertSuppression);
    const rows = this.#db.prepare('SELECT doc FROM alerts WHERE rule_id = ? AND department IS ?').all(ruleId, department ?? null) as { doc: string }[];
    for (const { doc } of rows) {
      const stored = JSON.parse(doc) as Alert;
      const next = markSuppressed(stored, active, now);
      if (!sameMark(next, stored)) this.#write(next);
    }
  }

  async activeSuppressions(now: Date, scope?: Scope): Promise<AlertSuppression[]> {
    const where = new Where().add('expires_at > ?', now.getTime()).scope('department', scope);
    const rows = this.#db.prepare(`SELECT doc FROM alert_suppressions ${where.sql} ORDER BY created_at DESC, id`).all(...where.params) as { doc: string }[];
    return rows.map((row) => JSON.parse(row.doc) as AlertSuppression);
  }

  async deleteSuppression(id: string, scope?: Scope): Promise<AlertSuppression | undefined> {
    return writeOrUnavailable(() => this.#db.transaction(() => {
      // Out of scope reads as absent, as for alerts.
      const where = new Where().add('id = ?', id).scope('department', scope);
      const row = this.#db.prepare(`SELECT doc FROM alert_suppressions ${where.sql}`).get(...where.params) as { doc: string } | undefined;
      if (!row) return undefined;
      this.#db.prepare('DELETE FROM alert_suppressions WHERE id = ?').run(id);
      const suppression = JSON.parse(row.doc) as AlertSuppression;
      this.#remark(suppression);
      return suppression;
    }).immediate());
  }

  async get(id: string, scope?: Scope): Promise<Alert | undefined> {
    const where = new Where().add('id = ?', id).scope('department', scope);
    const row = this.#db.prepare(`SELECT doc FROM alerts ${where.sql}`).get(...where.params) as { doc: string } | undefined;
    return row ? (JSON.parse(row.doc) as Alert) : undefined;
  }

  async update(id: string, change: AlertStatusChange, scope?: Scope): Promise<Alert> {
    return writeOrUnavailable(() => this.#db.transaction(() => {
      const where = new Where().add('id = ?', id).scope('department', scope);
      const row = this.#db.prepare(`SELECT doc FROM alerts ${where.sql}`).get(...where.params) as { doc: string } | undefined;
      // Out of scope reads as absent: a caller learns nothing about other departments' alerts.
      if (!row) throw StoreErrors.notFound('alert', id);
      const alert = JSON.parse(row.doc) as Alert;
      const next = applyAlertChange(alert, change);
      if (!next) throw StoreErrors.transition(alert.status, change.status ?? alert.status);
      this.#write(next);
      return next;
    }).immediate());
  }

  async search(query: AlertQuery, page?: AlertPageRequest): Promise<Page<Alert>> {
    const sort = alertSortField(page?.sort);
    const size = pageSize(page);
    const where = alertWhere(query);
    // Counting every match of a broad query scans the table; stop where Elasticsearch stops too.
    const counted = (this.#db.prepare(`SELECT count(*) AS n FROM (SELECT 1 FROM alerts ${where.sql} LIMIT ?)`)
      .get(...where.params, TOTAL_COUNT_LIMIT + 1) as { n: number }).n;
    // Keyset paging on (sorted column, last seen, id), all in one direction: a row-value comparison.
    const keys = [...(sort === 'lastSeen' ? [] : [SORT_SQL[sort]]), 'last_seen', 'id'];
    const direction = (page?.order ?? 'desc') === 'desc' ? 'DESC' : 'ASC';
    const paged = where.copy();
    if (page?.after) {
      const after = decodeAlertCursor(page.after, sort);
      paged.add(`(${keys.join(', ')}) ${direction === 'DESC' ? '<' : '>'} (${keys.map(() => '?').join(', ')})`, ...after);
    }
    const rows = this.#db
      .prepare(`SELECT ${keys.map((k, i) => `${k} AS k${i}`).join(', ')}, doc FROM alerts ${paged.sql}
        ORDER BY ${keys.map((k) => `${k} ${direction}`).join(', ')} LIMIT ?`)
      .all(...paged.params, size + 1) as Record<string, number | string>[];
    const items = rows.slice(0, size);
    const last = items[items.length - 1];
    return {
      items: items.map((row) => JSON.parse(String(row.doc)) as Alert),
      total: Math.min(counted, TOTAL_COUNT_LIMIT),
      ...(counted > TOTAL_COUNT_LIMIT ? { totalIsLowerBound: true as const } : {}),
      ...(rows.length > size && last ? { next: encodeAlertCursor(keys.map((_, i) => last[`k${i}`]!)) } : {}),
    };
  }

  async groups(query: AlertQuery, by: 'ruleId' | 'system', limit = 1000): Promise<AlertGroup[]> {
    const column = by === 'ruleId' ? 'rule_id' : 'system';
    const where = alertWhere(query).add(`${column} IS NOT NULL`);
    const rows = this.#db
      .prepare(`SELECT ${column} AS key, count(*) AS count, max(priority) AS maxPriority, max(last_seen) AS lastSeen,
          ${by === 'ruleId' ? 'max(title)' : 'NULL'} AS title
        FROM alerts ${where.sql} GROUP BY key ORDER BY maxPriority DESC, count DESC, key LIMIT ?`)
      .all(...where.params, limit) as { key: string; count: number; maxPriority: number; lastSeen: number; title: string | null }[];
    return rows.map(({ title, lastSeen, ...row }) => ({ ...row, lastSeen: new Date(lastSeen).toISOString(), ...(title ? { title } : {}) }));
  }

  async countBy(query: AlertQuery, field: AlertGroupField): Promise<Bucket[]> {
    const column = GROUP_COLUMNS[field];
    if (!column) throw StoreErrors.invalidQuery(`cannot group alerts by ${JSON.stringify(field)}`);
    const where = alertWhere(query).add(`${column} IS NOT NULL`);
    const rows = this.#db
      .prepare(`SELECT ${column} AS key, count(*) AS count FROM alerts ${where.sql} GROUP BY key ORDER BY count DESC, key`)
      .all(...where.params) as Bucket[];
    return rows.map((row) => ({ key: String(row.key), count: row.count }));
  }


  async problems(query: AlertQuery): Promise<AlertProblem[]> {
    const where = alertWhere(query).add('system IS NOT NULL');
    // The title is the same for every alert of a rule; SQLite takes it from the row of the newest last_seen.
    const rows = this.#db
      .prepare(`SELECT system, max(department) AS department, rule_id AS ruleId, max(last_seen) AS lastSeen,
          coalesce(json_extract(doc, '$.rule.title'), rule_id) AS ruleTitle, count(*) AS count, max(priority) AS maxPriority
        FROM alerts ${where.sql} GROUP BY system, rule_id ORDER BY system, rule_id`)
      .all(...where.params) as (Omit<AlertProblem, 'lastSeen' | 'department'> & { lastSeen: number; department: string | null })[];
    return rows.map(({ department, lastSeen, maxPriority, ...row }) => ({
      ...row, ...(department ? { department } : {}), maxPriority: maxPriority ?? 0, lastSeen: new Date(lastSeen).toISOString(),
    }));
  }

  async daily(query: AlertQuery, options: { timeZone: string; openStatuses: readonly AlertStatus[] }): Promise<AlertDayGroup[]> {
    const zone = dayZone(options.timeZone);
    const where = alertWhere(query);
    // The local midnights over the range (an open end: the alerts' own first and last), searched per row: exact on a
    // 23- or 25-hour day and for quarter-hour offsets, where one fixed offset is not.
    let from = query.from === undefined ? undefined : toMillis(query.from, 'from');
    let to = query.to === undefined ? undefined : toMillis(query.to, 'to');
    if (from === undefined || to === undefined) {
      const span = this.#db.prepare(`SELECT min(last_seen) AS first, max(last_seen) AS last FROM alerts ${where.sql}`)
        .get(...where.params) as { first: number | null; last: number | null };
      if (span.first === null || span.last === null) return [];
      from ??= span.first;
      to ??= span.last + 1;
    }
    if (to <= from) return [];
    const open = options.openStatuses.length ? `status IN (${options.openStatuses.map(() => '?').join(', ')})` : '0';
    const bounds = dayBounds(zone, from, to);
    type Row = {
      day: number; department: string | null; system: string | null; ruleId: string; ruleTitle: string; count: number; open: number;
      maxPriority: number | null; lastSeen: number;
    };
    let rows: Row[] = [];
    // A year of days a query: the CASE of a year prepares in about a millisecond, a longer one grows faster than its length.
    for (let i = 0; i < bounds.length - 1; i += DAYS_PER_QUERY) {
      const part = bounds.slice(i, i + DAYS_PER_QUERY + 1);
      const inPart = alertWhere(query).add('last_seen >= ? AND last_seen < ?', part[0], part[part.length - 1]);
      rows = rows.concat(this.#db
        .prepare(`SELECT ${dayCase('last_seen', part)} AS day, department, system, rule_id AS ruleId,
            coalesce(title, rule_id) AS ruleTitle, count(*) AS count, sum(${open}) AS open,
            max(priority) AS maxPriority, max(last_seen) AS lastSeen
          FROM alerts ${inPart.sql} GROUP BY 1, department, system, rule_id ORDER BY 1, department, system, rule_id`)
        .all(...options.openStatuses, ...inPart.params) as Row[]);
    }
    return rows.map(({ day, department, system, maxPriority, lastSeen, ...row }) => ({
      ...row, day: new Date(day).toISOString(), ...(department !== null ? { department } : {}), ...(system !== null ? { system } : {}),
      maxPriority: maxPriority ?? 0, lastSeen: new Date(lastSeen).toISOString(),
    }));
  }
}
