import type { Registry } from 'prom-client';
import { counter, histogram } from '../core/index.js';

export type IngestMetrics = ReturnType<typeof createIngestMetrics>;

/**
 * Created once per registry; the pipeline only increments. Every series is labelled `source`
 * (the configured source id: `syslog`, an HTTP source, a file source…), so one source that
 * misbehaves shows up on its own.
 */
export function createIngestMetrics(registry: Registry) {
  return {
    /** Records taken from a source (lines, syslog messages, HTTP records) before decoding. */
    received: counter<'source'>(registry, {
      name: 'ingest_received_total',
      help: 'Records received from a source, before decoding',
      labelNames: ['source'],
    }),
    decoded: counter<'source'>(registry, {
      name: 'ingest_decoded_total',
      help: 'Records decoded into events',
      labelNames: ['source'],
    }),
    failed: counter<'source'>(registry, {
      name: 'ingest_failed_total',
      help: 'Records that could not be decoded; each one is kept as a dead letter with the reason',
      labelNames: ['source'],
    }),
    dropped: counter<'source'>(registry, {
      name: 'ingest_dropped_total',
      help: 'Records dropped because the sink was saturated (only UDP syslog, which cannot pause)',
      labelNames: ['source'],
    }),
    /** What the sink did with events: the store's answer, or the spool while the store is down. */
    lines: counter<'source' | 'outcome'>(registry, {
      name: 'ingest_lines_total',
      help: 'Events by source and outcome: written, duplicate, dead_letter, spooled (store down), replayed (from the spool)',
      labelNames: ['source', 'outcome'],
    }),
    sinkSeconds: histogram<'source'>(registry, {
      name: 'ingest_sink_seconds',
      help: 'Sink latency: time to write one batch to the store',
      labelNames: ['source'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    }),
  };
}

/** Counts a step of the pipeline for one source; a zero is not recorded, so idle sources stay quiet. */
export function countIngest(
  metrics: IngestMetrics | undefined,
  source: string,
  counts: { received?: number; decoded?: number; failed?: number; dropped?: number },
): void {
  if (!metrics) return;
  for (const key of ['received', 'decoded', 'failed', 'dropped'] as const) {
    const n = counts[key];
    if (n) metrics[key].inc({ source }, n);
  }
}
