import type { AssetIndex, EventAssetTags } from '../core/index.js';

/** Tags an event with its system, department and MLPS level; unknown assets are kept and flagged. */
export function assetTags(assets: AssetIndex, ...keys: (string | undefined)[]): EventAssetTags {
  for (const key of keys) {
    const system = assets.find(key);
    if (system) return { system: system.id, department: system.department, mlps_level: system.mlpsLevel };
  }
  return { unknown_asset: true };
}
