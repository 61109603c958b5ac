import {
  CHECKPOINT_EVERY_MS, checkpointSigned, readHighWater, signCheckpoint, writeHighWater, type AuditCheckpoint, type AuditHighWater,
  type AuditKey, type ChainedAuditEntry,
} from '../core/index.js';

/** What an adapter provides so AuditAnchor can sign its head. */
export interface CheckpointBackend {
  head(): Promise<{ seq: number; hash: string } | undefined>;
  latestCheckpoint(): Promise<AuditCheckpoint | undefined>;
  /** Stores a checkpoint; one already stored for the same seq (another process was first) is fine. */
  putCheckpoint(checkpoint: AuditCheckpoint): Promise<void>;
  /** The stored hash of the entry `seq`, undefined when there is none. */
  hashAt(seq: number): Promise<string | undefined>;
}

export interface AnchorOptions {
  /**
   * The high-water mark file outside the store (`<dataDir>/evidence/audit-head.json`): the newest
   * checkpoint, rewritten atomically (0600) after each one and read by verify. Without it only the
   * checkpoints in the store anchor the chain, and cutting entries and their checkpoints goes unseen.
   */
  highWaterPath?: string;
}

/**
 * Signs checkpoints of one audit trail with the instance key: at start, after EVERY append (audit entries
 * are human actions, rare; a signature costs far less than the append), every CHECKPOINT_EVERY_MS (a retry
 * after a failure) and on demand (each evidence export). Shared by both adapters; checkpoints of one process
 * are made one at a time.
 */
export class AuditAnchor {
  readonly key: AuditKey;
  readonly #backend: CheckpointBackend;
  readonly #highWaterPath: string | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;

  constructor(backend: CheckpointBackend, key: AuditKey, options: AnchorOptions = {}) {
    this.#backend = backend;
    this.key = key;
    this.#highWaterPath = options.highWaterPath;
  }

  /** Anchors the current head and starts the timer; returns the function that stops it. */
  async start(): Promise<() => void> {
    await this.checkpoint();
    this.#timer = setInterval(() => void this.checkpoint().catch(() => undefined), CHECKPOINT_EVERY_MS);
    this.#timer.unref();
    return () => clearInterval(this.#timer);
  }

  /** The mark outside the store, for verify (read before the store, see ChainVerifier). */
  highWater(): AuditHighWater {
    return this.#highWaterPath ? readHighWater(this.#highWaterPath) : undefined;
  }

  /** After an append: its checkpoint, so the head is never unanchored for longer than this call. */
  async afterAppend(_entry: ChainedAuditEntry): Promise<void> {
    // A failed checkpoint does not undo the append; the next append (or the timer) anchors it.
    await this.checkpoint().catch(() => undefined);
  }

  /** Signs the head unless the latest checkpoint already covers it; moves the high-water mark; returns the latest checkpoint. */
  checkpoint(): Promise<AuditCheckpoint | undefined> {
    const next = this.#queue.then(async () => {
      const [head, stored] = await Promise.all([this.#backend.head(), this.#backend.latestCheckpoint()]);
      if (head && !(stored && stored.seq >= head.seq)) {
        const signed = signCheckpoint(head, new Date().toISOString(), this.key);
        await this.#backend.putCheckpoint(signed);
        await this.#raiseHighWater(signed);
        return signed;
      }
      // One stored by another process (or before the mark existed) moves the mark only when our key signed it.
      if (stored && checkpointSigned(stored, this.key.publicKey)) await this.#raiseHighWater(stored);
      return stored;
    });
    this.#queue = next.catch(() => undefined);
    return next;
  }

  /**
   * Moves the mark to `checkpoint` only when it is ours and the store still holds the entry the mark
   * names, with its hash: a chain that was cut and then grew again past the mark (new appends reuse the
   * cut seqs) must keep failing verify instead of hiding the cut under a newer mark.
   */
  async #raiseHighWater(checkpoint: AuditCheckpoint): Promise<void> {
    if (!this.#highWaterPath) return;
    const mark = readHighWater(this.#highWaterPath);
    if (mark === 'unreadable' || (mark && mark.seq >= checkpoint.seq)) return;
    if (mark && (await this.#backend.hashAt(mark.seq)) !== mark.hash) return;
    writeHighWater(this.#highWaterPath, checkpoint);
  }
}
