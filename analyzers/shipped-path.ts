import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * A file shipped under `rules/` (e.g. `mlps/catalog.yaml`), found from the source tree, a build
 * under it (dist/), or the working directory.
 */
export function shippedRulesPath(relative: string): string {
  const candidates = [
    fileURLToPath(new URL(`../rules/${relative}`, import.meta.url)),
    fileURLToPath(new URL(`../../rules/${relative}`, import.meta.url)),
    `rules/${relative}`,
  ];
  return candidates.find((path) => existsSync(path)) ?? candidates[candidates.length - 1]!;
}
