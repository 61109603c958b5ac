import type { ShouwangEvent } from '../../core/index.js';
import { StoreErrors, type EventStore, type WriteResult } from '../../store/index.js';

/**
 * A plain fake event store for the sink's and spool's own logic: takes every batch and notes its ids; while
 * `state.down`, refuses every write as an unreachable store does, so the sink spools.
 */
export function fakeEventStore(down = false): { store: EventStore; stored: Set<string>; state: { down: boolean } } {
  const stored = new Set<string>();
  const state = { down };
  const store = {
    write: async (batch: readonly ShouwangEvent[]): Promise<WriteResult> => {
      if (state.down) throw StoreErrors.unavailable('test: down');
      batch.forEach((event) => stored.add(event.id));
      return { written: batch.length, duplicates: 0, rejected: [] };
    },
  } as unknown as EventStore;
  return { store, stored, state };
}
