/**
 * The ECS categorization vocabulary (ECS 8.x, "Allowed values" pages for event.category and
 * event.type). Decoder tables are typed with it, and checked once at load, so a category/type pair
 * that ECS does not expect fails when the module loads, not in a dashboard months later.
 */
import { expandDotted } from '../../core/index.js';
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

/** Builds nested ECS fields from dotted paths, leaving out what is undefined or empty. */
export function ecsFields(flat: Record<string, unknown>): EcsFields {
  const present: Record<string, unknown> = {};
  for (const [path, value] of Object.entries(flat)) {
    if (value !== undefined && value !== '') present[path] = value;
  }
  return expandDotted(present);
}
