import { appendFile, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ensurePrivateDir, PRIVATE_FILE_MODE, type ShouwangEvent } from '../core/index.js';

const SEGMENT_BYTES = 16 << 20;

/**
 * Events the store could not take yet, on disk in arrival order: NDJSON segments named by a rising
 * number. Replay reads the oldest segment and deletes it only after the store has taken all of it.
 */
export class DiskSpool {
  readonly #dir: string;
  readonly #maxBytes: number;
  #segments: { name: string; bytes: number }[] = [];
  #next = 1;
  #ready: Promise<void>;
  #appending: Promise<unknown> = Promise.resolve();

  constructor(dir: string, maxBytes: number) {
    this.#dir = dir;
    this.#maxBytes = maxBytes;
    this.#ready = this.#load();
  }

  /** Picks up what an earlier process left, so a restart replays it. */
  async #load(): Promise<void> {
    await ensurePrivateDir(this.#dir);
    const names = (await readdir(this.#dir)).filter((name) => /^\d{12}\.ndjson$/.test(name)).sort();
    for (const name of names) this.#segments.push({ name, bytes: (await stat(join(this.#dir, name))).size });
    this.#next = names.length ? Number(names[names.length - 1]!.slice(0, 12)) + 1 : 1;
  }

  async bytes(): Promise<number> {
    await this.#ready;
    return this.#segments.reduce((sum, segment) => sum + segment.bytes, 0);
  }

  async isEmpty(): Promise<boolean> {
    await this.#ready;
    return this.#segments.length === 0;
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
    if (!last || last.bytes + size > SEGMENT_BYTES || this.#segments.length === 1) {
      last = { name: `${String(this.#next).padStart(12, '0')}.ndjson`, bytes: 0 };
      this.#next += 1;
      this.#segments.push(last);
    }
    await appendFile(join(this.#dir, last.name), text, { mode: PRIVATE_FILE_MODE });
    last.bytes += size;
    return true;
  }

  /** The oldest segment's events, or undefined when the spool is empty. */
  async oldest(): Promise<{ name: string; events: ShouwangEvent[] } | undefined> {
    await this.#ready;
    const first = this.#segments[0];
    if (!first) return undefined;
    const text = await readFile(join(this.#dir, first.name), 'utf8');
    const events = text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as ShouwangEvent);
    return { name: first.name, events };
  }

  async remove(name: string): Promise<void> {
    await rm(join(this.#dir, name), { force: true });
    this.#segments = this.#segments.filter((segment) => segment.name !== name);
  }
}
