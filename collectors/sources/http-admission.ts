import type { EventSink } from '../event-sink.js';

/** What a record is counted as before its body is read: a syslog line or a small JSON event is about this size. */
export const ESTIMATED_RECORD_BYTES = 256;

/**
 * The most one request reserves, as a share of the bound: with the defaults a chunked body would reserve 40,960 records
 * against a bound of 20,000, so one stalled upload alone would refuse every other request until it ended. The reservation
 * is only the early refusal; the exact count checked once the body is parsed keeps the bound.
 */
export const MAX_RESERVATION_SHARE = 1 / 4;

/** Records an admitted request may still add to the sink, until it hands them over or ends. Releasing twice is harmless. */
export interface Reservation {
  release(): void;
}

/**
 * The sink's memory bound (`collect.maxMemoryEvents`) across HTTP requests read at once. Before its body is read, a
 * request is admitted only while the sink's events plus what the requests admitted before it may still add are below the
 * bound; it then reserves its own share, estimated from its size (Content-Length, or bodyLimit for a chunked body) and
 * at most a quarter of the bound, so many bodies read at once cannot all be taken, and one slow upload alone never refuses
 * the others. Once a body is parsed its exact count is checked again, in the same turn
 * as it is handed to the sink: the sink then passes its bound by at most one request, however many are read at once.
 */
export class HttpAdmission {
  readonly #sink: Partial<Pick<EventSink, 'memoryEvents' | 'heldAgainstBound' | 'maxMemoryEvents'>>;
  readonly #bodyLimit: number;
  #reserved = 0;

  constructor(sink: Partial<Pick<EventSink, 'memoryEvents' | 'heldAgainstBound' | 'maxMemoryEvents'>>, bodyLimit: number) {
    this.#sink = sink;
    this.#bodyLimit = bodyLimit;
  }

  /** Records reserved by admitted requests whose bodies are not handed to the sink yet. */
  get reserved(): number {
    return this.#reserved;
  }

  /** Before the body: a reservation, or undefined when the sink with what is reserved is at its bound (answer 503). */
  admit(contentLength: string | undefined): Reservation | undefined {
    if (this.#memory() + this.#reserved >= this.#bound()) return undefined;
    const declared = contentLength === undefined ? Number.NaN : Number(contentLength);
    const bytes = Number.isSafeInteger(declared) && declared >= 0 ? Math.min(declared, this.#bodyLimit) : this.#bodyLimit;
    const cap = Math.max(1, Math.floor(this.#bound() * MAX_RESERVATION_SHARE));
    let records = Math.min(Math.ceil(bytes / ESTIMATED_RECORD_BYTES), cap);
    this.#reserved += records;
    return {
      release: () => {
        this.#reserved -= records;
        records = 0;
      },
    };
  }

  /**
   * Once the body is parsed: releases the reservation and says whether the sink may take `records` now (false: answer
   * 503, nothing taken). The caller hands them to the sink in this same turn, so no other request comes in between.
   */
  take(reservation: Reservation, records: number): boolean {
    reservation.release();
    return this.mayTake(records);
  }

  /** Whether the sink may take `records` now, keeping the reservation (asked before work that a refusal would waste). */
  mayTake(records: number): boolean {
    return records === 0 || this.#memory() < this.#bound();
  }

  #memory(): number {
    return this.#sink.heldAgainstBound ?? this.#sink.memoryEvents ?? 0;
  }

  #bound(): number {
    return this.#sink.maxMemoryEvents ?? Number.POSITIVE_INFINITY;
  }
}
