import type { Registry } from 'prom-client';
import { counter, gauge, histogram } from '../core/index.js';

export type IngestMetrics = ReturnType<typeof createIngestMetrics>;

/**
 * Created once per registry; the pipeline only increments. Every series is labelled `source`
 * (the configured source id: `syslog`, an HTTP source, a file source…), so one source that
 * misbehaves shows up on its own.
 */
export function createIngestMetrics(registry: Registry) {
  // UDP sockets whose kernel counters are read at each scrape, by source: the listener sets its reader.
  const udpSockets = new Map<string, { drops: () => number | undefined; bufferBytes: () => number | undefined; counted: number }>();
  const udpKernelDrops = counter<'source'>(registry, {
    name: 'syslog_udp_kernel_drops_total',
    help: 'Datagrams the kernel dropped for the syslog UDP socket (receive buffer full), from /proc/net/udp{,6}',
    labelNames: ['source'],
    collect() {
      for (const [source, socket] of udpSockets) {
        const drops = socket.drops();
        if (drops === undefined) continue;
        // inc by 0 too, so a healthy socket shows its 0 rather than no series at all.
        udpKernelDrops.inc({ source }, Math.max(0, drops - socket.counted));
        socket.counted = Math.max(drops, socket.counted);
      }
    },
  });
  const udpReceiveBuffer = gauge<'source'>(registry, {
    name: 'syslog_udp_receive_buffer_bytes',
    help: 'Receive buffer of the syslog UDP socket as the kernel set it (Linux: twice the request, capped by net.core.rmem_max)',
    labelNames: ['source'],
    collect() {
      for (const [source, socket] of udpSockets) {
        const bytes = socket.bufferBytes();
        if (bytes !== undefined) udpReceiveBuffer.set({ source }, bytes);
      }
    },
  });
  // Sinks whose memory is read at each scrape, by name.
  const sinks = new Map<string, () => number>();
  const sinkMemory = gauge<'sink'>(registry, {
    name: 'ingest_sink_memory_events',
    help: 'Events an event sink holds in memory (accepted, not yet stored or spooled); bounded by collect.maxMemoryEvents',
    labelNames: ['sink'],
    collect() {
      for (const [sink, read] of sinks) sinkMemory.set({ sink }, read());
    },
  });
  return {
    /** Reads an event sink's memory at each scrape; returns the function that stops it (the sink's close). */
    watchSink(name: string, memoryEvents: () => number): () => void {
      sinks.set(name, memoryEvents);
      return () => {
        // Only its own reader: a later sink of the same name (a restarted collector) stays watched.
        if (sinks.get(name) !== memoryEvents) return;
        sinks.delete(name);
        sinkMemory.remove({ sink: name });
      };
    },
    /** Reads a UDP listener's kernel counters at each scrape; returns the function that stops it. */
    watchUdpSocket(source: string, socket: { drops: () => number | undefined; bufferBytes: () => number | undefined }): () => void {
      const watched = { ...socket, counted: 0 };
      udpSockets.set(source, watched);
      return () => {
        if (udpSockets.get(source) === watched) udpSockets.delete(source);
      };
    },
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
      help: 'Records dropped because the disk spool was full, or too many waited for a spill append still running (only UDP syslog, which can neither pause nor be refused)',
      labelNames: ['source'],
    }),
    /** What the sink did with events: the store's answer, or the spool while the store is down. */
    lines: counter<'source' | 'outcome'>(registry, {
      name: 'ingest_lines_total',
      help: 'Events by source and outcome: written, duplicate, dead_letter, spooled (store down), spilled (UDP to the spool, store slow), replayed (from the spool)',
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
