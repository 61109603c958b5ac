import type { ShouwangEvent } from '../core/index.js';
import { deadLetter, type DeadLetter, type DeadLetterSink } from './dead-letter.js';
import type { Decoded } from './decoders/event-decode.js';
import type { ResolvedFormat } from './decoders/resolve-format.js';
import type { SinkWriteOutcome } from './event-sink.js';
import { countIngest, type IngestMetrics } from './metrics.js';
import type { FileLine } from './sources/file-lines.js';

export interface LineIngestOptions {
  /** The source id (dead letters and metrics); the format was resolved for it. */
  source: string;
  format: ResolvedFormat;
  /** The same sink as `collect`: stored or spooled, dead letters for what the store refuses, analyzers after storing. */
  sink: { write(events: readonly ShouwangEvent[]): Promise<SinkWriteOutcome>; flush(): Promise<void>; whenFree?(): Promise<void> | undefined };
  deadLetters: DeadLetterSink;
  metrics?: IngestMetrics;
  /** Events per write to the sink (default 500). */
  batchSize?: number;
  /**
   * Writes to the sink not yet acknowledged (default 1): with the sink's `inFlight` slots plus one, the store's slots
   * stay busy while the next batch is decoded. Reading also pauses while the sink has a batch waiting for a slot.
   */
  inFlight?: number;
  /** The time of reading (default: now, per batch). */
  now?: Date;
}

export interface LineIngestStats {
  /** Lines (or joined records) that were not blank. */
  lines: number;
  /** Decoded and handed to the sink (stored, duplicates, or spooled). */
  events: number;
  /** Kept as dead letters: not decodable, too long, or refused by the store. */
  deadLettered: number;
}

/**
 * Lines → the source's decode stage → the event sink, a batch at a time: reading waits once `inFlight`
 * batches are unacknowledged (or the sink is busy), so a file of any size streams in bounded memory. A line
 * too long to keep whole is a dead letter with its first bytes.
 */
export async function ingestLines(lines: AsyncIterable<FileLine> | Iterable<FileLine>, options: LineIngestOptions): Promise<LineIngestStats> {
  const batchSize = options.batchSize ?? 500;
  const stats: LineIngestStats = { lines: 0, events: 0, deadLettered: 0 };
  let events: ShouwangEvent[] = [];
  let letters: DeadLetter[] = [];
  const unacked: Promise<void>[] = [];
  let now = options.now ?? new Date();

  const send = async () => {
    const batch = events;
    const dead = letters;
    events = [];
    letters = [];
    now = options.now ?? new Date();
    // Back-pressure from the store (or the spool) reaches the reader: a bounded number of writes unacknowledged.
    while (unacked.length >= (options.inFlight ?? 1)) await unacked.shift();
    await options.sink.whenFree?.();
    if (dead.length) {
      await options.deadLetters.write(dead);
      options.metrics?.lines.inc({ source: options.source, outcome: 'dead_letter' }, dead.length);
      stats.deadLettered += dead.length;
    }
    if (batch.length === 0) return;
    const written = options.sink.write(batch);
    void options.sink.flush(); // a full batch: do not wait for the sink's timer
    const acked = written.then((outcome) => {
      stats.deadLettered += outcome.deadLettered.length;
    });
    acked.catch(() => undefined); // awaited in order; a failure after the first one that stops the ingest is not unhandled
    unacked.push(acked);
  };

  for await (const line of lines) {
    if (line.text.trim() === '') continue;
    stats.lines += 1;
    const decoded: Decoded = line.originalBytes !== undefined
      ? { ok: false, reason: `line too long (${line.originalBytes} bytes): its first bytes are kept` }
      : options.format.decode(line, { now, ...(line.invalid ? { invalid: true } : {}) });
    countIngest(options.metrics, options.source, { received: 1, [decoded.ok ? 'decoded' : 'failed']: 1 });
    if (decoded.ok) {
      events.push(decoded.event);
      stats.events += 1;
    } else {
      letters.push(deadLetter(options.source, line.position, decoded.reason, line.text));
    }
    if (events.length + letters.length >= batchSize) await send();
  }
  await send();
  // The sink acknowledges in arrival order; a failed write fails the ingest once the earlier ones are in.
  for (const write of unacked) await write;
  return stats;
}

/** What the sink did with one source's events so far, from its metrics: written, duplicate, spooled, dead_letter… */
export async function sinkOutcomes(metrics: IngestMetrics, source: string): Promise<Record<string, number>> {
  const outcomes: Record<string, number> = {};
  for (const { labels, value } of (await metrics.lines.get()).values) {
    if (labels.source === source && typeof labels.outcome === 'string') outcomes[labels.outcome] = (outcomes[labels.outcome] ?? 0) + value;
  }
  return outcomes;
}
