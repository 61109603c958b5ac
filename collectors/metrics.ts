import type { Registry } from 'prom-client';
import { counter, histogram } from '../core/index.js';

export type IngestMetrics = ReturnType<typeof createIngestMetrics>;

/** Created once per registry; the pipeline only increments. */
export function createIngestMetrics(registry: Registry) {
  return {
    lines: counter<'source' | 'outcome'>(registry, {
      name: 'ingest_lines_total',
      help: 'Events by source and outcome: written, duplicate, dead_letter, spooled (store down), replayed (from the spool)',
      labelNames: ['source', 'outcome'],
    }),
    sinkSeconds: histogram<'source'>(registry, {
      name: 'ingest_sink_seconds',
      help: 'Time to write one batch to the store',
      labelNames: ['source'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    }),
  };
}
