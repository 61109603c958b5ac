import { readFile } from 'node:fs/promises';
import { writePrivateFileAtomically } from '../core/index.js';

/** Where reading of one file stands, saved only once the sink has acknowledged the events before it. */
export interface FileCheckpoint {
  path: string;
  /** Hash of the file's first line (at most `fingerprintBytes`): guards against a reused inode. */
  fingerprint: string;
  fingerprintBytes: number;
  /** Rises each time the file is truncated or replaced in place, so event ids of the new content differ. */
  generation: number;
  /** The first byte not yet in an acknowledged event. */
  offset: number;
}

interface CheckpointFile {
  version: 1;
  /** Keyed by `dev:inode`. */
  files: Record<string, FileCheckpoint>;
}

/** The checkpoints of one file source, in one JSON file replaced atomically (tmp + fsync + rename). */
export class FileCheckpoints {
  readonly #path: string;
  readonly #files: Map<string, FileCheckpoint>;
  #saving: Promise<void> = Promise.resolve();
  #dirty = false;

  /** No checkpoint file existed: the source has never run. */
  readonly isFirstStart: boolean;

  private constructor(path: string, data: CheckpointFile, existed: boolean) {
    this.#path = path;
    this.#files = new Map(Object.entries(data.files));
    // A first start writes the file even with nothing to follow, so the next start is not a first one.
    this.isFirstStart = !existed;
    this.#dirty = !existed;
  }

  /** Reads the file if it exists; a missing file means a first start. */
  static async load(path: string): Promise<FileCheckpoints> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new FileCheckpoints(path, { version: 1, files: {} }, false);
      throw error;
    }
    let data: Partial<CheckpointFile>;
    try {
      data = JSON.parse(text) as Partial<CheckpointFile>;
    } catch (error) {
      throw new Error(`checkpoint file ${path} is not JSON (${(error as Error).message}); move it away to start over`);
    }
    return new FileCheckpoints(path, { version: 1, files: data.files ?? {} }, true);
  }

  get(key: string): FileCheckpoint | undefined {
    return this.#files.get(key);
  }

  keys(): string[] {
    return [...this.#files.keys()];
  }

  set(key: string, checkpoint: FileCheckpoint): void {
    this.#files.set(key, { ...checkpoint });
    this.#dirty = true;
  }

  delete(key: string): void {
    this.#dirty = this.#files.delete(key) || this.#dirty;
  }

  /** Writes the current state if it changed; saves run one at a time, in order. */
  save(): Promise<void> {
    if (!this.#dirty) return this.#saving;
    this.#dirty = false;
    const data: CheckpointFile = { version: 1, files: Object.fromEntries(this.#files) };
    const text = JSON.stringify(data);
    // A failed save must not block the next one: the next state includes everything anyway.
    this.#saving = this.#saving.catch(() => undefined).then(() => writePrivateFileAtomically(this.#path, text));
    return this.#saving;
  }
}
