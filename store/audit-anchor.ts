import {
  CHECKPOINT_EVERY_ENTRIES, CHECKPOINT_EVERY_MS, signCheckpoint, type AuditCheckpoint, type AuditKey, type ChainedAuditEntry,
} from '../core/index.js';

/** What an adapter provides so AuditAnchor can sign its head. */
export interface CheckpointBackend {
  head(): Promise<{ seq: number; hash: string } | undefined>;
  latestCheckpoint(): Promise<AuditCheckpoint | undefined>;
  /** Stores a checkpoint; one already stored for the same seq (another process was first) is fine. */
  putCheckpoint(checkpoint: AuditCheckpoint): Promise<void>;
}

/**
 * Signs checkpoints of one audit trail with the instance key: at start, after every
 * CHECKPOINT_EVERY_ENTRIES entries, every CHECKPOINT_EVERY_MS while entries come, and on demand
 * (each evidence export). Shared by both adapters; checkpoints of one process are made one at a time.
 */
export class AuditAnchor {
  readonly key: AuditKey;
  readonly #backend: CheckpointBackend;
  #latest: AuditCheckpoint | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;

  constructor(backend: CheckpointBackend, key: AuditKey) {
    this.#backend = backend;
    this.key = key;
  }

  /** Anchors the current head and starts the timer; returns the function that stops it. */
  async start(): Promise<() => void> {
    await this.checkpoint();
    this.#timer = setInterval(() => void this.checkpoint().catch(() => undefined), CHECKPOINT_EVERY_MS);
    this.#timer.unref();
    return () => clearInterval(this.#timer);
  }

  /** After an append: a checkpoint when enough entries or enough time passed since the last one. */
  async afterAppend(entry: ChainedAuditEntry): Promise<void> {
    const latest = this.#latest;
    const due = !latest || entry.seq - latest.seq >= CHECKPOINT_EVERY_ENTRIES || Date.now() - Date.parse(latest.at) >= CHECKPOINT_EVERY_MS;
    // A failed checkpoint does not undo the append; the next append (or the timer) tries again.
    if (due) await this.checkpoint().catch(() => undefined);
  }

  /** Signs the head unless the latest checkpoint already covers it; returns the latest checkpoint. */
  checkpoint(): Promise<AuditCheckpoint | undefined> {
    const next = this.#queue.then(async () => {
      const [head, stored] = await Promise.all([this.#backend.head(), this.#backend.latestCheckpoint()]);
      this.#latest = stored;
      if (!head || (stored && stored.seq >= head.seq)) return stored;
      const checkpoint = signCheckpoint(head, new Date().toISOString(), this.key);
      await this.#backend.putCheckpoint(checkpoint);
      this.#latest = checkpoint;
      return checkpoint;
    });
    this.#queue = next.catch(() => undefined);
    return next;
  }
}
