/**
 * The ECS categorization vocabulary (ECS 8.x, "Allowed values" pages for event.category and
 * event.type). Decoder tables are typed with it, and checked once at load, so a category/type pair
 * that ECS does not expect fails when the module loads, not in a dashboard months later.
 */
import { expandDotted, isPlainObject } from '../../core/index.js';
import type { EcsFields } from './types.js';

/** The event types ECS expects for each category. */
const EXPECTED_TYPES = {
  api: ['access', 'admin', 'allowed', 'change', 'creation', 'deletion', 'denied', 'end', 'info', 'start', 'user'],
  authentication: ['start', 'end', 'info'],
  configuration: ['access', 'change', 'creation', 'deletion', 'info'],
  database: ['access', 'change', 'info', 'error'],
  driver: ['change', 'end', 'info', 'start'],
  file: ['access', 'change', 'creation', 'deletion', 'info'],
  host: ['access', 'change', 'end', 'info', 'start'],
  iam: ['admin', 'change', 'creation', 'deletion', 'group', 'info', 'user'],
  intrusion_detection: ['allowed', 'denied', 'info'],
  network: ['access', 'allowed', 'connection', 'denied', 'end', 'info', 'protocol', 'start'],
  package: ['access', 'change', 'deletion', 'info', 'installation', 'start'],
  process: ['access', 'change', 'end', 'info', 'start'],
  session: ['start', 'end', 'info'],
  web: ['access', 'error', 'info'],
} as const;

export type EcsCategory = keyof typeof EXPECTED_TYPES;
export type EcsType = (typeof EXPECTED_TYPES)[EcsCategory][number];
export type EcsOutcome = 'success' | 'failure' | 'unknown';

export interface Categorization {
  category: readonly EcsCategory[];
  type: readonly EcsType[];
}

/** Throws unless every type is one ECS expects for at least one of the categories. */
export function assertCategorization(where: string, { category, type }: Categorization): void {
  for (const t of type) {
    if (!category.some((c) => (EXPECTED_TYPES[c] as readonly string[]).includes(t))) {
      throw new Error(`${where}: ECS does not expect event.type "${t}" for event.category [${category.join(', ')}]`);
    }
  }
}

// Decoders use a small fixed set of dotted paths: split each once, not once per event.
const SPLIT_PATHS = new Map<string, readonly string[]>();
const splitPath = (path: string): readonly string[] => {
  let parts = SPLIT_PATHS.get(path);
  if (!parts) {
    parts = path.split('.');
    if (SPLIT_PATHS.size < 10_000) SPLIT_PATHS.set(path, parts);
  }
  return parts;
};

/** Builds nested ECS fields from dotted paths, leaving out what is undefined or empty (as `expandDotted` would nest them). */
export function ecsFields(flat: Record<string, unknown>): EcsFields {
  const out: Record<string, unknown> = {};
  for (const path of Object.keys(flat)) {
    const value = flat[path];
    if (value === undefined || value === '') continue;
    const parts = splitPath(path);
    let node = out;
    for (let i = 0; i < parts.length - 1; i += 1) {
      const child = node[parts[i]!];
      node = isPlainObject(child) ? child : (node[parts[i]!] = {}) as Record<string, unknown>;
    }
    const last = parts[parts.length - 1]!;
    const expanded = isPlainObject(value) ? expandDotted(value) : value;
    const current = node[last];
    node[last] = isPlainObject(current) && isPlainObject(expanded) ? { ...current, ...expanded } : expanded;
  }
  return out;
}
