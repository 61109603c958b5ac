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

/** Tags a decoded record: by its host, and by `source.ip` only where that is the event's own system. */
export function recordAssetTags(assets: AssetIndex, event: ShouwangEvent): EventAssetTags {
  const dataset = event.event?.dataset;
  if (dataset !== undefined && SERVER_LOGGED_DATASETS.has(dataset)) return assetTags(assets, event.host?.name);
  return assetTags(assets, event.host?.name, event.source?.ip);
}
