import type { RuleDocument } from '../types.js';

/** How a rule's matches fold into alerts. */
export interface AlertPolicy {
  /** Repeats within one window of this length (aligned to the epoch) raise one alert's count. */
  suppressMs: number;
  /** Event fields that make separate alerts; absent: the affected system (or host). */
  groupBy?: string[];
}

export const DEFAULT_SUPPRESS_MS = 3_600_000;

/**
 * The policy from the custom rule attribute `shouwang: { suppress: 30m, group_by: [user.name] }`,
 * as parse.ts typed it (its problems were reported there, with their lines); defaults fill the rest.
 */
export function readAlertPolicy(doc: RuleDocument, defaultSuppressMs = DEFAULT_SUPPRESS_MS): AlertPolicy {
  const custom = doc.custom.shouwang;
  return {
    suppressMs: custom?.suppressMs ?? defaultSuppressMs,
    ...(custom?.groupBy ? { groupBy: custom.groupBy } : {}),
  };
}
