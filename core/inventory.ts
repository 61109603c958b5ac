import { copyFileSync, existsSync, readFileSync, realpathSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { extname } from 'node:path';
import { isIP } from 'node:net';
import { z } from 'zod';
import { parseDocument, LineCounter, isNode, stringify } from 'yaml';
import { parse as parseCsv } from 'csv-parse/sync';
import { CoreErrors } from './errors.js';
import { formatDuration, inventoryDurationSchema } from './duration.js';
import { formatIssues, formatPath } from './validation.js';
import { emailAddress, phoneNumber } from './contact-schemas.js';

export const NETWORK_ZONES = ['政务外网', '政务内网', '互联网区', '专网'] as const;
export const NETWORK_ZONE_EN: Record<(typeof NETWORK_ZONES)[number], string> = {
  政务外网: 'government extranet',
  政务内网: 'government intranet',
  互联网区: 'internet zone',
  专网: 'dedicated network',
};

const id = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'lowercase letters, digits, _ and - (at most 64)');
const ip = z.string().refine((value) => isIP(value) !== 0, 'expected an IPv4 or IPv6 address');

/** restic `--read-data-subset`: `n/t`, a percentage (`5%`) or a size (`500M`). */
const readDataSubset = z.string().regex(/^(\d+\/\d+|\d+(\.\d+)?%|\d+[KMGT]?)$/, 'expected n/t, a percentage like 5% or a size like 500M');

const backupTarget = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('path'),
    path: z.string().min(1),
    /**
     * `sets` (default): one directory per set with our manifest; `restic`/`borg`/`pgbackrest`: `path` is a repository;
     * `mariabackup`: `path` holds one directory per mariabackup backup (full and incremental).
     */
    kind: z.enum(['sets', 'restic', 'borg', 'pgbackrest', 'mariabackup']).optional(),
    /** Repository password: read from this file, or from this environment variable; never logged. */
    passwordFile: z.string().min(1).optional(),
    passwordEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name').optional(),
    /** restic only: `restic check --read-data-subset`; without it only the structure is checked. */
    readDataSubset: readDataSubset.optional(),
    /** borg only: `borg check --verify-data` (reads and decrypts every chunk). */
    verifyData: z.boolean().optional(),
    /** pgbackrest only (required): the stanza. */
    stanza: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'expected a pgBackRest stanza name').optional(),
    /** pgbackrest only: a pgbackrest.conf for the other repository options (cipher, compression); `path` is repo1-path. */
    configFile: z.string().min(1).optional(),
    /** pgbackrest/mariabackup: the database the drill's validation queries run in (default postgres / mysql). */
    database: z.string().regex(/^[A-Za-z0-9_$-]{1,64}$/, 'expected a database name').optional(),
    /** mariabackup only: offset of the times in xtrabackup_info (written in the backup host's local time). */
    utcOffset: z.string().regex(/^[+-]\d{2}:\d{2}$/, 'an offset such as +08:00').optional(),
  }),
  z.strictObject({
    type: z.literal('sftp'),
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535).default(22),
    user: z.string().min(1),
    path: z.string().min(1),
  }),
  z.strictObject({
    /** S3-compatible object storage (MinIO, Ceph RGW, OSS, OBS): sets under `prefix`, or a restic repository there. */
    type: z.literal('s3'),
    bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'an S3 bucket name (3–63 lowercase letters, digits, . and -)'),
    /** Key prefix of the sets (`backups/shbx/`); the bucket root when absent. */
    prefix: z.string().regex(/^[^/].*\/$/, 'a key prefix ending in / and not starting with /').optional(),
    endpoint: z.string().url().optional(),
    region: z.string().min(1).default('us-east-1'),
    /** Path-style URLs (`endpoint/bucket/key`), as MinIO and most on-premises stores want. */
    forcePathStyle: z.boolean().optional(),
    /** Access keys: from an AWS credentials file, or from these environment variables (default AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY); never logged. */
    credentialsFile: z.string().min(1).optional(),
    accessKeyIdEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name').optional(),
    secretAccessKeyEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name').optional(),
    kind: z.enum(['sets', 'restic']).optional(),
    passwordFile: z.string().min(1).optional(),
    passwordEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name').optional(),
    readDataSubset: readDataSubset.optional(),
  }),
]).superRefine((target, ctx) => {
  if (target.type === 'sftp') return;
  const kind = target.kind ?? 'sets';
  const issue = (field: string, message: string) => ctx.addIssue({ code: 'custom', path: [field], message });
  if (target.type === 's3') {
    if (target.credentialsFile !== undefined && (target.accessKeyIdEnv ?? target.secretAccessKeyEnv) !== undefined) {
      issue('credentialsFile', 'either credentialsFile or accessKeyIdEnv/secretAccessKeyEnv, not both');
    }
    if (kind === 'sets') {
      for (const field of ['passwordFile', 'passwordEnv', 'readDataSubset'] as const) {
        if (target[field] !== undefined) issue(field, 'only for a repository (kind: restic)');
      }
    } else if ((target.passwordFile === undefined) === (target.passwordEnv === undefined)) {
      issue('passwordFile', 'a restic repository needs exactly one of passwordFile or passwordEnv');
    }
    return;
  }
  const only = (fields: readonly ('stanza' | 'configFile' | 'database' | 'utcOffset')[], kinds: readonly string[]) => {
    for (const field of fields) if (target[field] !== undefined && !kinds.includes(kind)) issue(field, `only for kind: ${kinds.join(' or ')}`);
  };
  only(['stanza', 'configFile'], ['pgbackrest']);
  only(['database'], ['pgbackrest', 'mariabackup']);
  only(['utcOffset'], ['mariabackup']);
  if (kind === 'pgbackrest' && target.stanza === undefined) issue('stanza', 'a pgbackrest repository needs its stanza');
  if (kind === 'sets' || kind === 'pgbackrest' || kind === 'mariabackup') {
    for (const field of ['passwordFile', 'passwordEnv', 'readDataSubset', 'verifyData'] as const) {
      // pgBackRest's repository cipher pass comes like a restic password, optionally.
      if (kind === 'pgbackrest' && (field === 'passwordFile' || field === 'passwordEnv')) continue;
      if (target[field] !== undefined) issue(field, `only for a repository (kind: restic or borg)`);
    }
    if (kind === 'pgbackrest' && target.passwordFile !== undefined && target.passwordEnv !== undefined) {
      issue('passwordFile', 'a pgbackrest repository takes at most one of passwordFile or passwordEnv');
    }
    return;
  }
  if ((target.passwordFile === undefined) === (target.passwordEnv === undefined)) {
    issue('passwordFile', `a ${kind} repository needs exactly one of passwordFile or passwordEnv`);
  }
  if (kind === 'borg' && target.readDataSubset !== undefined) issue('readDataSubset', 'restic only; for borg use verifyData');
  if (kind === 'restic' && target.verifyData !== undefined) issue('verifyData', 'borg only; for restic use readDataSubset');
});

/** A drill validation query with what its result must show: a row count and/or the first column's value. */
const validationQuery = z.strictObject({
  sql: z.string().min(1),
  name: z.string().min(1).optional(),
  expect: z
    .strictObject({
      minRows: z.number().int().min(0).optional(),
      maxRows: z.number().int().min(0).optional(),
      /** Compared as text with the first column of the first row. */
      equals: z.union([z.string(), z.number(), z.boolean()]).optional(),
    })
    .optional(),
});

const backupPolicy = z.strictObject({
  /** Recovery point objective: the newest backup must be younger than this. */
  rpo: inventoryDurationSchema,
  /** Recovery time objective: a restore drill must finish, validated, within this. */
  rto: inventoryDurationSchema,
  retention: inventoryDurationSchema.optional(),
  sameCity: backupTarget,
  offSite: backupTarget,
  checkSchedule: z.string().min(1).default('0 2 * * *'),
  drillSchedule: z.string().min(1).default('0 3 * * 0'),
  /** Run after a restore drill; a plain string must return a row whose first column is truthy. */
  validationQueries: z.array(z.union([z.string().min(1), validationQuery])).default([]),
});

const database = z.strictObject({
  engine: z.enum(['postgresql', 'mariadb', 'mysql', 'oracle', 'dm', 'kingbase']),
  name: z.string().min(1),
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535).optional(),
});

/** A log source a system is expected to keep sending; silence past `silentAfter` raises an alert. */
const logSource = z.strictObject({
  name: z.string().min(1).optional(),
  /** `event.dataset` the source produces, e.g. `mariadb.audit`; any dataset when absent. */
  dataset: z.string().min(1).optional(),
  /** `host.name` of the sender; any of the system's hosts when absent. */
  host: z.string().min(1).optional(),
  silentAfter: inventoryDurationSchema.optional(),
  /** Zone of the source's timestamps that carry none (a MariaDB host on UTC: `+00:00`); `collect.utcOffset` when absent. */
  utcOffset: z.string().regex(/^[+-]\d{2}:\d{2}$/, 'an offset such as +08:00').optional(),
});

const clockTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a time such as 22:00');
export const DepartmentSchema = z.strictObject({
  id,
  name: z.string().min(1),
  nameEn: z.string().min(1).optional(),
  /** Who hears about this department's alerts on routes with `toDepartment` (email and SMS channels). */
  contacts: z.strictObject({ emails: z.array(emailAddress).optional(), phones: z.array(phoneNumber).optional() }).optional(),
  /** On-call duty by local time of day (a range past midnight wraps), added to the contacts while on duty. */
  onCall: z.array(z.strictObject({
    name: z.string().min(1), email: emailAddress.optional(), phone: phoneNumber.optional(), from: clockTime, to: clockTime,
  })).optional(),
});

export const SystemSchema = z.strictObject({
  id,
  name: z.string().min(1),
  nameEn: z.string().min(1).optional(),
  department: id,
  mlpsLevel: z.number().int().min(1).max(4),
  zone: z.enum(NETWORK_ZONES),
  owner: z.strictObject({ name: z.string().min(1), phone: z.string().optional(), email: z.string().optional() }),
  hosts: z.array(z.string().min(1)).default([]),
  ips: z.array(ip).default([]),
  databases: z.array(database).default([]),
  /**
   * Tables holding personal information (个人信息), as `table`, `schema.table` or `database.table`:
   * database events that read them are tagged `db.sensitive_tables` (by the last name part).
   */
  sensitiveTables: z.array(z.string().regex(/^[\w$.]+$/, 'a table name: letters, digits, _ $ and dots')).optional(),
  backup: backupPolicy.optional(),
  /** Expected log sources; absent: every host in `hosts` is expected to send something. */
  logSources: z.array(logSource).optional(),
});

export const InventorySchema = z
  .strictObject({
    departments: z.array(DepartmentSchema).min(1),
    systems: z.array(SystemSchema),
    /** Values of the Sigma `expand` modifier's `%name%` placeholders (`Admins`, `DomainControllers`…). */
    placeholders: z.record(z.string().regex(/^[\w.-]+$/, 'a placeholder name: letters, digits, _ . -'), z.array(z.string()).min(1)).optional(),
  })
  .superRefine((inventory, ctx) => {
    const departments = new Set<string>();
    inventory.departments.forEach((department, index) => {
      if (departments.has(department.id)) {
        ctx.addIssue({ code: 'custom', path: ['departments', index, 'id'], message: 'duplicate department id' });
      }
      departments.add(department.id);
    });
    const systems = new Set<string>();
    const owners = new Map<string, string>();
    inventory.systems.forEach((system, index) => {
      if (systems.has(system.id)) ctx.addIssue({ code: 'custom', path: ['systems', index, 'id'], message: 'duplicate system id' });
      systems.add(system.id);
      if (!departments.has(system.department)) {
        ctx.addIssue({ code: 'custom', path: ['systems', index, 'department'], message: 'no department with this id' });
      }
      // Enrichment maps a host or IP to exactly one system, so two owners would be ambiguous.
      for (const [field, keys] of [['hosts', system.hosts.map((h) => h.toLowerCase())], ['ips', system.ips]] as const) {
        keys.forEach((key, keyIndex) => {
          const owner = owners.get(key);
          if (owner && owner !== system.id) {
            ctx.addIssue({ code: 'custom', path: ['systems', index, field, keyIndex], message: `already belongs to system ${owner}` });
          }
          owners.set(key, system.id);
        });
      }
    });
  });

export type Department = z.infer<typeof DepartmentSchema>;
export type BusinessSystem = z.infer<typeof SystemSchema>;
export type BackupPolicy = z.infer<typeof backupPolicy>;
export type ValidationQuery = z.infer<typeof validationQuery>;
export type LogSource = z.infer<typeof logSource>;
export type Inventory = z.infer<typeof InventorySchema>;

/** Validates an inventory object; `describe` turns a field path into where it came from. */
export function parseInventory(raw: unknown, where: string, describe?: (path: readonly PropertyKey[]) => string): Inventory {
  const result = InventorySchema.safeParse(raw);
  if (result.success) return result.data;
  const problems = describe
    ? result.error.issues.map((issue) => `  - ${describe(issue.path)}: ${issue.message}`).join('\n')
    : formatIssues(result.error, raw);
  throw CoreErrors.inventoryInvalid(where, problems);
}

export function loadInventory(path: string): Inventory {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw CoreErrors.inventoryRead(path, (error as Error).message);
  }
  return extname(path).toLowerCase() === '.csv' ? inventoryFromCsv(text, path) : inventoryFromYaml(text, path);
}

/**
 * Writes an inventory edited in the console back to its file, so the file stays the one source of
 * truth (a restart or another process reads the edit). Atomic (a temp file renamed over it, with the
 * same mode; a symlink is followed, so the file it points at is the one replaced); the file it
 * replaces is kept as `<file>.previous`, and an unchanged inventory writes nothing. YAML comments are
 * not carried over; CSV files are refused.
 */
export function saveInventory(path: string, inventory: Inventory, by: string): void {
  if (extname(path).toLowerCase() === '.csv') {
    throw CoreErrors.inventoryWrite(path, 'CSV 清单请直接编辑文件，修改会自动加载 / a CSV inventory is edited in the file; edits are reloaded');
  }
  const target = existsSync(path) ? realpathSync(path) : path;
  let previous: Inventory | undefined;
  if (existsSync(target)) {
    try {
      previous = loadInventory(target);
    } catch {
      // a file that does not load is replaced
    }
  }
  // The console edits departments and systems (the store keeps no placeholders): the file's placeholders stay.
  if (inventory.placeholders === undefined && previous?.placeholders) inventory = { ...inventory, placeholders: previous.placeholders };
  if (previous && JSON.stringify(previous) === JSON.stringify(inventory)) return;
  const header = `# 由控制台保存 / saved from the console by ${by} at ${new Date().toISOString()}; the previous file is ${target}.previous\n`;
  const temp = `${target}.saving-${process.pid}`;
  try {
    const mode = existsSync(target) ? statSync(target).mode & 0o777 : 0o644;
    writeFileSync(temp, header + stringify(fileForm(inventory), { lineWidth: 0 }), { mode });
    if (existsSync(target)) copyFileSync(target, `${target}.previous`);
    renameSync(temp, target);
  } catch (error) {
    throw CoreErrors.inventoryWrite(path, (error as Error).message);
  }
}

/** The inventory as its file writes it: durations as text (`1d`), as parseInventory reads them. */
function fileForm(inventory: Inventory): unknown {
  return {
    ...inventory,
    systems: inventory.systems.map((system) => ({
      ...system,
      ...(system.backup ? {
        backup: {
          ...system.backup, rpo: formatDuration(system.backup.rpo), rto: formatDuration(system.backup.rto),
          ...(system.backup.retention !== undefined ? { retention: formatDuration(system.backup.retention) } : {}),
        },
      } : {}),
      ...(system.logSources ? {
        logSources: system.logSources.map((source) => (source.silentAfter !== undefined ? { ...source, silentAfter: formatDuration(source.silentAfter) } : source)),
      } : {}),
    })),
  };
}

export function inventoryFromYaml(text: string, where = 'inventory.yaml'): Inventory {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: true });
  if (document.errors.length) throw CoreErrors.inventoryRead(where, document.errors.map((e) => e.message).join('; '));
  const raw: unknown = document.toJS();
  return parseInventory(raw, where, (path) => {
    const node = document.getIn(path as unknown[], true);
    // A missing field has no node of its own: point at the nearest parent that exists.
    let anchor: unknown = node;
    for (let depth = path.length - 1; !isNode(anchor) && depth >= 0; depth -= 1) {
      anchor = document.getIn(path.slice(0, depth) as unknown[], true);
    }
    const line = isNode(anchor) && anchor.range ? `line ${lineCounter.linePos(anchor.range[0]).line}: ` : '';
    return `${line}${formatPath(path)}, got ${JSON.stringify(isNode(node) ? node.toJSON() : undefined) ?? 'nothing'}`;
  });
}

/**
 * One row per system. Lists are separated by `;`; databases are written `engine:name@host:port`;
 * backup targets are a path, `sftp://user@host:port/path` or `s3://bucket/prefix/` (AWS endpoint, keys from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY).
 */
export const CSV_COLUMNS = [
  'department_id', 'department_name', 'department_name_en', 'system_id', 'system_name', 'system_name_en',
  'mlps_level', 'zone', 'owner', 'owner_phone', 'owner_email', 'hosts', 'ips', 'databases',
  'sensitive_tables', 'rpo', 'rto', 'retention', 'same_city', 'off_site', 'check_schedule', 'drill_schedule',
] as const;

const SYSTEM_FIELD_COLUMN: Record<string, string> = {
  id: 'system_id', name: 'system_name', nameEn: 'system_name_en', department: 'department_id',
  mlpsLevel: 'mlps_level', zone: 'zone', owner: 'owner', hosts: 'hosts', ips: 'ips', databases: 'databases',
  sensitiveTables: 'sensitive_tables', rpo: 'rpo', rto: 'rto', retention: 'retention', sameCity: 'same_city', offSite: 'off_site',
  checkSchedule: 'check_schedule', drillSchedule: 'drill_schedule',
};

export function inventoryFromCsv(text: string, where = 'inventory.csv'): Inventory {
  let rows: Record<string, string>[];
  try {
    rows = parseCsv(text, { columns: true, skip_empty_lines: true, trim: true, bom: true });
  } catch (error) {
    throw CoreErrors.inventoryRead(where, (error as Error).message);
  }
  const header = Object.keys(rows[0] ?? {});
  const unknown = header.filter((column) => !(CSV_COLUMNS as readonly string[]).includes(column));
  if (unknown.length) {
    throw CoreErrors.inventoryInvalid(where, `  - header: unknown column(s) ${unknown.join(', ')}; expected ${CSV_COLUMNS.join(', ')}`);
  }
  const departments = new Map<string, Department>();
  const systems = rows.map((row) => {
    if (!departments.has(row.department_id ?? '')) {
      departments.set(row.department_id ?? '', {
        id: row.department_id ?? '',
        name: row.department_name ?? '',
        ...(row.department_name_en ? { nameEn: row.department_name_en } : {}),
      });
    }
    return systemFromRow(row);
  });
  return parseInventory({ departments: [...departments.values()], systems }, where, (path) => {
    if (path[0] !== 'systems' || typeof path[1] !== 'number') return formatPath(path);
    const row = rows[path[1]] ?? {};
    const field = path.slice(2).find((key) => typeof key === 'string' && key in SYSTEM_FIELD_COLUMN) as string | undefined;
    const column = field ? SYSTEM_FIELD_COLUMN[field]! : formatPath(path.slice(2));
    // +2: the header is line 1 and rows count from 0.
    return `line ${path[1] + 2}, column ${column}, got ${JSON.stringify(row[column] ?? '')}`;
  });
}

const list = (cell: string | undefined) => (cell ?? '').split(';').map((s) => s.trim()).filter(Boolean);

function target(cell: string | undefined): unknown {
  if (!cell) return undefined;
  const sftp = /^sftp:\/\/([^@]+)@([^:/]+)(?::(\d+))?(\/.*)$/.exec(cell);
  if (sftp) return { type: 'sftp', user: sftp[1], host: sftp[2], port: sftp[3] ? Number(sftp[3]) : 22, path: sftp[4] };
  const s3 = /^s3:\/\/([^/]+)\/?(.*)$/.exec(cell);
  if (s3) return { type: 's3', bucket: s3[1], ...(s3[2] ? { prefix: s3[2].endsWith('/') ? s3[2] : `${s3[2]}/` } : {}) };
  return { type: 'path', path: cell };
}

function systemFromRow(row: Record<string, string>): Record<string, unknown> {
  const databases = list(row.databases).map((text) => {
    const match = /^(\w+):([^@]+)@([^:]+)(?::(\d+))?$/.exec(text);
    return match ? { engine: match[1], name: match[2], host: match[3], ...(match[4] ? { port: Number(match[4]) } : {}) } : text;
  });
  const backup = row.rpo || row.rto || row.same_city || row.off_site
    ? {
        rpo: row.rpo, rto: row.rto, sameCity: target(row.same_city), offSite: target(row.off_site),
        ...(row.retention ? { retention: row.retention } : {}),
        ...(row.check_schedule ? { checkSchedule: row.check_schedule } : {}),
        ...(row.drill_schedule ? { drillSchedule: row.drill_schedule } : {}),
      }
    : undefined;
  return {
    id: row.system_id,
    name: row.system_name,
    ...(row.system_name_en ? { nameEn: row.system_name_en } : {}),
    department: row.department_id,
    mlpsLevel: /^\d+$/.test(row.mlps_level ?? '') ? Number(row.mlps_level) : row.mlps_level,
    zone: row.zone,
    owner: {
      name: row.owner,
      ...(row.owner_phone ? { phone: row.owner_phone } : {}),
      ...(row.owner_email ? { email: row.owner_email } : {}),
    },
    hosts: list(row.hosts),
    ips: list(row.ips),
    databases,
    ...(row.sensitive_tables ? { sensitiveTables: list(row.sensitive_tables) } : {}),
    ...(backup ? { backup } : {}),
  };
}

/** Looks up the system an event came from by host name or IP, decided once per inventory. */
export class AssetIndex {
  #byKey = new Map<string, BusinessSystem>();
  #departments = new Map<string, Department>();
  #utcOffsets = new Map<string, { dataset?: string; utcOffset: string }[]>();

  constructor(inventory: Inventory) {
    this.replace(inventory);
  }

  /** Swaps in another inventory at once (an edited inventory file): lookups after it see only the new one. */
  replace(inventory: Inventory): void {
    const byKey = new Map<string, BusinessSystem>();
    const departments = new Map<string, Department>();
    for (const department of inventory.departments) departments.set(department.id, department);
    for (const system of inventory.systems) {
      for (const host of system.hosts) byKey.set(host.toLowerCase(), system);
      for (const address of system.ips) byKey.set(address, system);
    }
    this.#byKey = byKey;
    this.#departments = departments;
    this.#utcOffsets = utcOffsetsByHost(inventory);
  }

  /** The zone a log source of the inventory states for this host (and dataset), if any. */
  utcOffset(host: string | undefined, dataset: string | undefined): string | undefined {
    if (this.#utcOffsets.size === 0 || !host) return undefined; // the usual case costs nothing per event
    const sources = this.#utcOffsets.get(host.toLowerCase());
    return sources?.find((source) => source.dataset === undefined || source.dataset === dataset)?.utcOffset;
  }

  find(hostOrIp: string | undefined): BusinessSystem | undefined {
    return hostOrIp ? this.#byKey.get(hostOrIp.toLowerCase()) : undefined;
  }

  department(id: string): Department | undefined {
    return this.#departments.get(id);
  }
}

/** Log sources that state a zone, by host: one naming its host is that host's; one without, every host of its system's. */
function utcOffsetsByHost(inventory: Inventory): Map<string, { dataset?: string; utcOffset: string }[]> {
  const byHost = new Map<string, { dataset?: string; utcOffset: string }[]>();
  for (const system of inventory.systems) {
    for (const source of system.logSources ?? []) {
      if (source.utcOffset === undefined) continue;
      for (const host of source.host ? [source.host] : system.hosts) {
        const entry = { ...(source.dataset ? { dataset: source.dataset } : {}), utcOffset: source.utcOffset };
        // A source naming its dataset is more specific than one for any dataset: it is looked at first.
        const list = byHost.get(host.toLowerCase()) ?? [];
        if (entry.dataset) list.unshift(entry);
        else list.push(entry);
        byHost.set(host.toLowerCase(), list);
      }
    }
  }
  return byHost;
}
