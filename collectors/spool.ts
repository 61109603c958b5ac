import { open, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ensurePrivateDir, PRIVATE_FILE_MODE, writePrivateFileAtomically, type ShouwangEvent } from '../core/index.js';

const SEGMENT_BYTES = 16 << 20;

/** A spooled segment as replay reads it: its events, and the lines that are not one (kept for dead letters). */
export interface SpoolSegment {
  name: string;
  events: ShouwangEvent[];
  /** A last line a crash cut short (its append was never acknowledged), or a line damaged on disk. */
  damaged: { line: string; reason: string }[];
}

/**
 * Events the store could not take yet, on disk in arrival order: NDJSON segments named by a rising
 * number. Replay reads the oldest segment and deletes it only after the store has taken all of it.
 * An append is synced before it is acknowledged, and replay never reads a segment an append is writing:
 * a new segment is listed only once written, and a read of the one being appended to waits for it.
 */
export class DiskSpool {
  readonly #dir: string;
  readonly #maxBytes: number;
  #segments: { name: string; bytes: number }[] = [];
  #next = 1;
  #ready: Promise<void>;
  #loaded = false;
  /**
   * The newest segment may end in part of a line: one left by a crash (found at load) or by a failed append. Then the
   * next append starts a segment of its own, or its first event would be glued to that part and lost as damage.
   */
  #tailMayBeTorn = true;
  #appending: Promise<unknown> = Promise.resolve();
  /** The segment an append is writing now, and when it is done. */
  #writing: { name: string; done: Promise<unknown> } | undefined;

  constructor(dir: string, maxBytes: number) {
    this.#dir = dir;
    this.#maxBytes = maxBytes;
    this.#ready = this.#load();
  }

  /** Picks up what an earlier process left, so a restart replays it. */
  async #load(): Promise<void> {
    await ensurePrivateDir(this.#dir);
    const files = await readdir(this.#dir);
    // A segment rewrite a crash interrupted: the segment itself is whole (the rewrite renames over it).
    for (const name of files.filter((file) => /^\d{12}\.ndjson\.tmp$/.test(file))) await rm(join(this.#dir, name), { force: true });
    const names = files.filter((name) => /^\d{12}\.ndjson$/.test(name)).sort();
    for (const name of names) this.#segments.push({ name, bytes: (await stat(join(this.#dir, name))).size });
    this.#next = names.length ? Number(names[names.length - 1]!.slice(0, 12)) + 1 : 1;
    this.#loaded = true;
  }

  async bytes(): Promise<number> {
    await this.#ready;
    return this.#segments.reduce((sum, segment) => sum + segment.bytes, 0);
  }

  async isEmpty(): Promise<boolean> {
    await this.#ready;
    return this.#segments.length === 0 && !this.#writing;
  }

  /** Nothing spooled and nothing being appended, as far as is known without waiting (false until loaded). */
  get idle(): boolean {
    return this.#loaded && this.#segments.length === 0 && !this.#writing;
  }

  /** False when the spool is full: the caller must hold the events (backpressure) or count them dropped. */
  append(events: readonly ShouwangEvent[]): Promise<boolean> {
    // One append at a time: the sink spools from its acknowledgement chain and spills from UDP at once.
    const appended = this.#appending.then(() => this.#append(events));
    this.#appending = appended.catch(() => undefined);
    return appended;
  }

  async #append(events: readonly ShouwangEvent[]): Promise<boolean> {
    await this.#ready;
    const text = events.map((event) => JSON.stringify(event)).join('\n') + '\n';
    const size = Buffer.byteLength(text);
    if ((await this.bytes()) + size > this.#maxBytes) return false;
    let last = this.#segments[this.#segments.length - 1];
    // The oldest segment may be replaying; new events always go to a segment of their own after it.
    const fresh = !last || last.bytes + size > SEGMENT_BYTES || this.#segments.length === 1 || this.#tailMayBeTorn;
    if (fresh) {
      last = { name: `${String(this.#next).padStart(12, '0')}.ndjson`, bytes: 0 };
      this.#next += 1;
    }
    const segment = last!;
    const done = this.#write(segment.name, text, fresh);
    this.#writing = { name: segment.name, done: done.catch(() => undefined) };
    try {
      await done;
    } catch (error) {
      // Part of the text may be on disk without its newline: the next append must not be glued to it.
      this.#tailMayBeTorn = true;
      throw error;
    } finally {
      this.#writing = undefined;
    }
    this.#tailMayBeTorn = false;
    segment.bytes += size;
    if (fresh) this.#segments.push(segment); // listed only now: replay never sees a segment half written
    return true;
  }

  /** Appends and syncs: an acknowledged spool survives a power loss, not only a crash. */
  async #write(name: string, text: string, created: boolean): Promise<void> {
    const handle = await open(join(this.#dir, name), 'a', PRIVATE_FILE_MODE);
    try {
      await handle.writeFile(text);
      await handle.datasync();
    } finally {
      await handle.close();
    }
    // A new file's name is on disk only once its folder is synced: without it a power loss can drop the whole segment.
    if (created) await this.#syncFolder();
  }

  async #syncFolder(): Promise<void> {
    const folder = await open(this.#dir, 'r');
    try {
      await folder.sync();
    } finally {
      await folder.close();
    }
  }

  /**
   * The oldest segment, or undefined when the spool is empty. A line that is not JSON does not stop the replay:
   * a last line without its newline is an append a crash cut short (never acknowledged); any other is damage.
   */
  async oldest(): Promise<SpoolSegment | undefined> {
    await this.#ready;
    let first = this.#segments[0];
    // An append to it started before it became the oldest (replay removed the one before): read it whole.
    while (first && first.name === this.#writing?.name) {
      await this.#writing.done;
      first = this.#segments[0];
    }
    if (!first) return undefined;
    const text = await readFile(join(this.#dir, first.name), 'utf8');
    const lines = text.split('\n');
    const events: ShouwangEvent[] = [];
    const damaged: SpoolSegment['damaged'] = [];
    lines.forEach((line, i) => {
      if (!line) return;
      try {
        events.push(JSON.parse(line) as ShouwangEvent);
      } catch {
        const cut = i === lines.length - 1; // no newline after it: the append never finished
        damaged.push({ line, reason: cut ? 'spool segment cut short by a crash (append never acknowledged)' : 'spool line damaged on disk (not JSON)' });
      }
    });
    return { name: first.name, events, damaged };
  }

  /**
   * Replaces the segment being replayed by the events of it still to replay, once a replay stored or dead-lettered the
   * rest: a retry then neither dead-letters an event twice nor offers the stored ones again. Atomic (written aside,
   * synced, renamed over it); no append writes to the oldest segment, and replay is one at a time.
   */
  async keep(name: string, events: readonly ShouwangEvent[]): Promise<void> {
    const segment = this.#segments.find((candidate) => candidate.name === name);
    if (!segment) return;
    if (events.length === 0) return this.remove(name);
    const text = events.map((event) => JSON.stringify(event)).join('\n') + '\n';
    await writePrivateFileAtomically(join(this.#dir, name), text);
    // The rename too: otherwise a power loss can bring the old segment back (stored events resent, dead letters repeated).
    await this.#syncFolder();
    segment.bytes = Buffer.byteLength(text);
  }

  async remove(name: string): Promise<void> {
    await rm(join(this.#dir, name), { force: true });
    this.#segments = this.#segments.filter((segment) => segment.name !== name);
  }
}
