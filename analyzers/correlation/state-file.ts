import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * The open correlation windows on disk (`<dataDir>/checkpoints/correlation.json`), written as the
 * file sources write their checkpoints: a temporary file, fsync, then rename, so a crash leaves
 * either the old state or the new one, never half of one.
 */
export class CorrelationStateFile {
  readonly #path: string;
  #saving: Promise<void> = Promise.resolve();

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

  /** Writes after the saves before it (one at a time, in order); a failed save does not block the next. */
  save(state: unknown): Promise<void> {
    const text = JSON.stringify(state);
    this.#saving = this.#saving.catch(() => undefined).then(() => writeAtomically(this.#path, text));
    return this.#saving;
  }
}

async function writeAtomically(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp`;
  const handle = await open(tmp, 'w');
  try {
    await handle.writeFile(text);
    await handle.datasync();
  } finally {
    await handle.close();
  }
  await rename(tmp, path);
}
