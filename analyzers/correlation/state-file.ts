import { randomUUID } from 'node:crypto';
import { open, readFile, readdir, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { writePrivateFileAtomically } from '../../core/index.js';
import { Correlator } from './correlator.js';
import { changesLine, replayJournal, snapshotLine } from './state-journal.js';

/**
 * A brute force keeps minutes of signals in the reorder buffer (the lateness), tens of MB of state: serialised
 * after every batch it took most of the collector's time (60,000 failed logins in 200 s: 225 µs of CPU per event
 * instead of ~50). The next write waits this many times as long as the last serialisation took, so saving takes at
 * most a fifth of the time; writes of a small state still follow each other at once.
 */
const SERIALISE_PAUSE_FACTOR = 4;

/** A journal is written afresh once the changes appended exceed this many times the entries it started with, plus this many. */
const COMPACT_FACTOR = 2;
const COMPACT_SLACK = 20_000;

/**
 * The open correlation windows on disk (`<dataDir>/checkpoints/correlation.json`), written as the
 * file sources write their checkpoints: a temporary file, fsync, then rename, so a crash leaves
 * either the old state or the new one, never half of one.
 *
 * A Correlator's reorder buffer, seen ids and early hits go to a journal beside it (`correlation.json.<id>.journal`,
 * see state-journal.ts): each save appends the changes since the last one (fsync), then replaces the small rest,
 * which names the journal and how many of its bytes are the state. That rename is the commit: a kill before it
 * leaves the old state (bytes past the named length are ignored, and written over by the next save).
 */
export class CorrelationStateFile {
  readonly #path: string;
  readonly #now: () => number;
  #saving: Promise<void> = Promise.resolve();
  /** A save waiting for the one in progress: later calls share it, so batches in a burst share one write. */
  #queued: { read: () => unknown; done: Promise<void> } | undefined;
  /** When the next write may read and serialise the state (see SERIALISE_PAUSE_FACTOR). */
  #nextAt = 0;
  /** The journal in use: its id, the bytes committed, the entries it started with and the changes appended since. */
  #journal: { id: string; bytes: number; base: number; changes: number } | undefined;

  readonly #compactSlack: number;

  /** `now` (ms) measures the serialisation; a test gives a clock of its own, and may compact the journal sooner. */
  constructor(path: string, options: { now?: () => number; compactSlack?: number } = {}) {
    this.#path = path;
    this.#now = options.now ?? (() => performance.now());
    this.#compactSlack = options.compactSlack ?? COMPACT_SLACK;
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
    const saved = JSON.parse(text) as unknown;
    const journal = (saved as { journal?: { id?: unknown; bytes?: unknown } } | null)?.journal;
    if (journal === undefined) return saved;
    if (typeof journal.id !== 'string' || !/^[0-9a-f-]{36}$/.test(journal.id) || !Number.isSafeInteger(journal.bytes)) {
      throw new Error('correlation state: the journal is named wrongly');
    }
    const bytes = await readFile(this.#journalPath(journal.id));
    if (bytes.length < (journal.bytes as number)) throw new Error('correlation state: the journal is shorter than committed');
    const lines = bytes.subarray(0, journal.bytes as number).toString('utf8').split('\n').filter((line) => line !== '');
    const { journal: _journal, ...rest } = saved as Record<string, unknown>;
    return { ...rest, ...replayJournal(lines.map((line) => JSON.parse(line) as unknown)) };
  }

  #journalPath(id: string): string {
    return `${this.#path}.${id}.journal`;
  }

  /** Writes `state`: a Correlator through the journal, anything else whole. */
  async #write(state: unknown, serialised: () => void): Promise<void> {
    if (!(state instanceof Correlator)) {
      const text = JSON.stringify(state);
      serialised();
      return writePrivateFileAtomically(this.#path, text);
    }
    // Both read now, together: the changes taken from here on are the next save's.
    const changes = state.takeChanges();
    const current = this.#journal;
    this.#journal = undefined; // until this save is committed: a failed one leaves a gap only a whole save fills
    if (!changes || !current || current.changes > COMPACT_FACTOR * current.base + this.#compactSlack) {
      const { buffer, seen, early, ...rest } = state.snapshot();
      const line = `${JSON.stringify(snapshotLine(rest.rules, buffer, seen, early))}\n`;
      const bytes = Buffer.byteLength(line);
      const id = randomUUID();
      const head = JSON.stringify({ ...rest, journal: { id, bytes } });
      serialised();
      // The new journal whole, then the rest naming it; the old journal goes once nothing names it.
      await writePrivateFileAtomically(this.#journalPath(id), line);
      await writePrivateFileAtomically(this.#path, head);
      this.#journal = { id, bytes, base: buffer.length + seen.length + early.length, changes: 0 };
      await this.#removeJournalsBut(id);
      return;
    }
    const { buffer: _buffer, seen: _seen, early: _early, ...rest } = state.snapshotHead();
    const line = Buffer.from(`${JSON.stringify(changesLine(changes))}\n`);
    const head = JSON.stringify({ ...rest, journal: { id: current.id, bytes: current.bytes + line.length } });
    serialised();
    // At the committed length: what a failed save left past it is written over.
    const handle = await open(this.#journalPath(current.id), 'r+');
    try {
      await handle.write(line, 0, line.length, current.bytes);
      await handle.datasync();
    } finally {
      await handle.close();
    }
    await writePrivateFileAtomically(this.#path, head);
    const written = changes.buffer.length + changes.seen.length + changes.early.length;
    this.#journal = { ...current, bytes: current.bytes + line.length, changes: current.changes + written };
  }

  /** Journals of earlier runs or compactions, and their temporary files (only the one named is ever read). */
  async #removeJournalsBut(id: string): Promise<void> {
    const folder = dirname(this.#path);
    const prefix = `${basename(this.#path)}.`;
    const keep = basename(this.#journalPath(id));
    const names = await readdir(folder).catch(() => [] as string[]);
    await Promise.all(names.filter((name) => name.startsWith(prefix) && /\.journal(\.tmp)?$/.test(name) && name !== keep)
      .map((name) => unlink(join(folder, name)).catch(() => undefined)));
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
      let measured = false;
      const serialised = () => {
        measured = true;
        const ended = this.#now();
        this.#nextAt = ended + (ended - started) * SERIALISE_PAUSE_FACTOR;
      };
      try {
        await this.#write(queued.read(), serialised);
      } finally {
        if (!measured) serialised();
      }
    });
    this.#queued = queued;
    this.#saving = queued.done;
    return queued.done;
  }
}
