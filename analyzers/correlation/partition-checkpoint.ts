import type { CorrelatorSnapshot } from './correlator.js';

/**
 * What an analyzer keeps in Redis for one partition: the last stream entry it consumed and the
 * state of each unit's correlator right after that entry. Both are written together (one Lua call),
 * so a new owner restores the state and reads on from the entry after `offset`: each entry counts once.
 */
export interface PartitionCheckpoint {
  version: 1;
  /** A Redis stream id (`<ms>-<seq>`); `0-0` before the first entry. */
  offset: string;
  /** Unit id → Correlator.snapshot(). */
  units: Record<string, CorrelatorSnapshot>;
}

const STREAM_ID = /^\d{1,20}-\d{1,20}$/;

export function encodeCheckpoint(checkpoint: PartitionCheckpoint): string {
  return JSON.stringify(checkpoint);
}

/** Reads a checkpoint back; anything of another shape throws (the snapshots are checked by Correlator.restore). */
export function decodeCheckpoint(text: string): PartitionCheckpoint {
  const data = JSON.parse(text) as unknown;
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new Error('checkpoint: not an object');
  const { version, offset, units } = data as Record<string, unknown>;
  if (version !== 1) throw new Error(`checkpoint: unknown version ${JSON.stringify(version)}`);
  if (typeof offset !== 'string' || !STREAM_ID.test(offset)) throw new Error('checkpoint: offset is not a stream id');
  if (typeof units !== 'object' || units === null || Array.isArray(units)) throw new Error('checkpoint: units is not a map');
  return { version, offset, units: units as Record<string, CorrelatorSnapshot> };
}
