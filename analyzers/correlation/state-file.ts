import { readFile } from 'node:fs/promises';
import { writePrivateFileAtomically } from '../../core/index.js';

/**
 * A brute force keeps minutes of signals in the reorder buffer (the lateness), tens of MB of state: serialised
 * after every batch it took most of the collector's time (60,000 failed logins in 200 s: 225 µs of CPU per event
 * instead of ~50). The next write waits this many times as long as the last serialisation took, so saving takes at
 * most a fifth of the time; writes of a small state still follow each other at once.
 */
const SERIALISE_PAUSE_FACTOR = 4;

/**
 * The open correlation windows on disk (`<dataDir>/checkpoints/correlation.json`), written as the
 * file sources write their checkpoints: a temporary file, fsync, then rename, so a crash leaves
 * either the old state or the new one, never half of one.
 */
export class CorrelationStateFile {
  readonly #path: string;
  readonly #now: () => number;
  #saving: Promise<void> = Promise.resolve();
  /** A save waiting for the one in progress: later calls share it, so batches in a burst share one write. */
  #queued: { read: () => unknown; done: Promise<void> } | undefined;
  /** When the next write may read and serialise the state (see SERIALISE_PAUSE_FACTOR). */
  #nextAt = 0;

  /** `now` (ms) measures the serialisation; a test gives a clock of its own. */
  constructor(path: string, options: { now?: () => number } = {}) {
    this.#path = path;
    this.#now = options.now ?? (() => performance.now());
  }

  get path(): string {
    return this.#path;
  }

  /** The saved state as parsed JSON; undefined when there is none. Not JSON throws (the caller starts empty). */
  async load(): Promise<unknown> {
    let text: string;
    try {
      text = await readFile(this.#path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    return JSON.parse(text) as unknown;
  }

  /**
   * Writes after the save in progress (one at a time, in order); resolves once the state `read` gives, or a
   * newer one, is on disk. `read` runs when the write starts, so calls made meanwhile share one snapshot and
   * one write (a burst of batches serialised the whole state once each before). A failed save does not
   * block the next.
   */
  save(read: () => unknown): Promise<void> {
    if (this.#queued) {
      this.#queued.read = read;
      return this.#queued.done;
    }
    const queued: { read: () => unknown; done: Promise<void> } = { read, done: Promise.resolve() };
    queued.done = this.#saving.catch(() => undefined).then(async () => {
      const wait = this.#nextAt - this.#now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      this.#queued = undefined;
      const started = this.#now();
      let text: string;
      try {
        text = JSON.stringify(queued.read());
      } finally {
        const ended = this.#now();
        this.#nextAt = ended + (ended - started) * SERIALISE_PAUSE_FACTOR;
      }
      return writePrivateFileAtomically(this.#path, text);
    });
    this.#queued = queued;
    this.#saving = queued.done;
    return queued.done;
  }
}
