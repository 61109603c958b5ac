import type { AssetIndex, EventAssetTags, ShouwangEvent } from '../core/index.js';

/** Tags an event with its system, department and MLPS level; unknown assets are kept and flagged. */
export function assetTags(assets: AssetIndex, ...keys: (string | undefined)[]): EventAssetTags {
  for (const key of keys) {
    const system = assets.find(key);
    if (system) return { system: system.id, department: system.department, mlps_level: system.mlpsLevel };
  }
  return { unknown_asset: true };
}

/**
 * Datasets logged by a server about its clients: their `source.ip` is a database client, so it
 * never says which system the event belongs to. Only the server (host.name) does.
 */
const SERVER_LOGGED_DATASETS: ReadonlySet<string> = new Set([
  'mariadb.audit', 'mysql.audit', 'postgresql.pgaudit', 'postgresql.log',
  // Windows computers log the clients that log on to them (4624/4625 IpAddress).
  'windows.security', 'windows.system', 'windows.sysmon', 'windows.powershell', 'windows.eventlog',
]);

/**
 * Datasets of a network sensor (an IDS) that watches other machines' traffic: the sensor is seldom in
 * the inventory, the system concerned is the one the traffic goes to (or, outbound, comes from).
 */
const SENSOR_LOGGED_DATASETS: ReadonlySet<string> = new Set(['suricata.eve']);

/** Tags a decoded record: by its host, and by `source.ip` only where that is the event's own system. */
export function recordAssetTags(assets: AssetIndex, event: ShouwangEvent): EventAssetTags {
  const dataset = event.event?.dataset;
  if (dataset !== undefined && SERVER_LOGGED_DATASETS.has(dataset)) return assetTags(assets, event.host?.name);
  if (dataset !== undefined && SENSOR_LOGGED_DATASETS.has(dataset)) {
    const destination = (event.destination as { ip?: unknown } | undefined)?.ip;
    return assetTags(assets, event.host?.name, typeof destination === 'string' ? destination : undefined, event.source?.ip);
  }
  return assetTags(assets, event.host?.name, event.source?.ip);
}

const DB_DATASETS: ReadonlySet<string> = new Set(['mariadb.audit', 'mysql.audit', 'postgresql.pgaudit', 'postgresql.log']);
// One matcher per system, built the first time one of its events is read (an inventory reload makes new systems).
const SENSITIVE_MATCHERS = new WeakMap<object, RegExp | null>();

/**
 * Tags a database event that names a table the inventory marks as personal data (system
 * `sensitiveTables`) with `db.sensitive_tables`, from the tables it opened (`db.objects`) and its
 * statement text. Matching is by the table's last name part, case-insensitive, as a whole word.
 */
export function tagSensitiveTables(assets: AssetIndex, event: ShouwangEvent): void {
  const dataset = event.event?.dataset;
  if (dataset === undefined || !DB_DATASETS.has(dataset)) return;
  const system = assets.find(event.host?.name);
  if (!system?.sensitiveTables?.length) return;
  let matcher = SENSITIVE_MATCHERS.get(system);
  if (matcher === undefined) {
    const names = [...new Set(system.sensitiveTables.map((t) => t.slice(t.lastIndexOf('.') + 1).toLowerCase()).filter(Boolean))];
    matcher = names.length ? new RegExp(`(?<![\\w$])(${names.map((n) => n.replace(/\$/g, '\\$')).join('|')})(?![\\w$])`, 'gi') : null;
    SENSITIVE_MATCHERS.set(system, matcher);
  }
  if (!matcher) return;
  const db = event.db as { objects?: unknown; statement?: unknown } | undefined;
  const texts = [...(Array.isArray(db?.objects) ? db.objects : []), db?.statement].filter((t): t is string => typeof t === 'string');
  const found = new Set<string>();
  for (const text of texts) for (const m of text.matchAll(matcher)) found.add(m[1]!.toLowerCase());
  if (found.size) event.db = { ...(event.db as object), sensitive_tables: [...found].sort() };
}
