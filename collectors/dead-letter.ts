import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensurePrivateDir, PRIVATE_FILE_MODE } from '../core/index.js';

/** Input we could not turn into an event: kept with its reason, never dropped. */
export interface DeadLetter {
  at: string;
  source: string;
  position: string;
  reason: string;
  raw: string;
}

export function deadLetter(source: string, position: string, reason: string, raw: string): DeadLetter {
  return { at: new Date().toISOString(), source, position, reason, raw };
}

export interface DeadLetterSink {
  write(letters: readonly DeadLetter[]): Promise<void>;
}

/** Appends dead letters as NDJSON, one file per day, under `dir`. */
export class FileDeadLetterSink implements DeadLetterSink {
  readonly #dir: string;

  constructor(dir: string) {
    this.#dir = dir;
  }

  async write(letters: readonly DeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    await ensurePrivateDir(this.#dir);
    const file = join(this.#dir, `${new Date().toISOString().slice(0, 10)}.ndjson`);
    await appendFile(file, letters.map((letter) => JSON.stringify(letter)).join('\n') + '\n', { mode: PRIVATE_FILE_MODE });
  }
}
