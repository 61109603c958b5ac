import { readFile } from 'node:fs/promises';
import { writePrivateFileAtomically } from '../../core/index.js';

/**
 * The open correlation windows on disk (`<dataDir>/checkpoints/correlation.json`), written as the
 * file sources write their checkpoints: a temporary file, fsync, then rename, so a crash leaves
 * either the old state or the new one, never half of one.
 */
export class CorrelationStateFile {
  readonly #path: string;
  #saving: Promise<void> = Promise.resolve();
  /** A save waiting for the one in progress: later calls share it, so batches in a burst share one write. */
  #queued: { read: () => unknown; done: Promise<void> } | undefined;

  constructor(path: string) {
    this.#path = path;
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
    queued.done = this.#saving.catch(() => undefined).then(() => {
      this.#queued = undefined;
      return writePrivateFileAtomically(this.#path, JSON.stringify(queued.read()));
    });
    this.#queued = queued;
    this.#saving = queued.done;
    return queued.done;
  }
}
