import { createHash } from 'node:crypto';
import { open, readdir, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { CoreErrors, type AssetIndex, type Logger, type ShouwangEvent } from '../../core/index.js';
import { FileCheckpoints, type FileCheckpoint } from '../checkpoints.js';
import { deadLetter, type DeadLetter, type DeadLetterSink } from '../dead-letter.js';
import { createTextDecoder, type SourceEncoding, type TextDecodeFn } from '../decoders/text-encoding.js';
import { resolveFormat, type ResolvedFormat } from '../decoders/resolve-format.js';
import { countIngest, type IngestMetrics } from '../metrics.js';
import { RecordJoiner, type JoinRule } from '../record-join.js';
import { expandGlob } from './file-glob.js';

/** One `collect.files` entry. */
export interface FileSourceConfig {
  id: string;
  /** Glob patterns: `*`, `?`, `[abc]` in names, `**` for any depth of directories. */
  paths: string[];
  /** `syslog` (syslog or NDJSON per line), `json`, or a record format (decoders/record-formats.ts). */
  format: string;
  encoding: SourceEncoding;
  /** For the files met at the source's first start; files that appear later (even while stopped) are read from their start. */
  startAt: 'beginning' | 'end';
  /** Host name for records that carry none (database audit logs, access logs). */
  host?: string;
  /** pgaudit: the server's log_line_prefix. */
  logLinePrefix?: string;
  /** app-log: a regex with named groups for a record's first line. */
  pattern?: string;
  /** Zone of the files' timestamps that carry none; else the inventory's log source for the host, else `collect.utcOffset`. */
  utcOffset?: string;
  pollMs: number;
  /** A longer line becomes a dead letter with its first bytes, and the rest of it is skipped. */
  maxLineBytes: number;
  /** A last line without a newline is taken as it is after this long at the end of the file; off when unset. */
  idleFlushMs?: number;
}

/** What the tailer needs from the sink: `write` resolves once the events are stored or spooled. */
export interface TailSink {
  write(events: readonly ShouwangEvent[], origin?: { fromFile?: boolean }): Promise<unknown>;
  flush?(): Promise<void>;
  readonly saturated: boolean;
  /** While every store slot is busy and a batch waits, when none waits (EventSink): reading pauses until then. */
  whenFree?(): Promise<void> | undefined;
  /** While file sources hold their share of the sink's memory bound, when they hold less (EventSink). */
  whenFileRoom?(): Promise<void> | undefined;
}

export interface FileTailerOptions {
  source: FileSourceConfig;
  sink: TailSink;
  assets: AssetIndex;
  deadLetters: DeadLetterSink;
  /** JSON file holding this source's checkpoints. */
  checkpointPath: string;
  metrics?: IngestMetrics;
  logger?: Logger;
  utcOffset?: string;
  /** `timeZone`: the zone of timestamps without one when no offset is stated. */
  timeZone?: string;
  /** Bytes read per step: one step's events are one write to the sink. */
  chunkBytes?: number;
  /**
   * Writes to the sink not yet acknowledged (default 1): several keep the sink's store slots busy while the next
   * chunk is read. Checkpoints still move only in order, each once its write and every earlier one are acknowledged.
   */
  maxInFlight?: number;
}

const FINGERPRINT_BYTES = 256;
const NEWLINE = 0x0a;

/** A file being read, known by `dev:inode`; it keeps its handle when renamed away, so it is read to its end. */
interface TailedFile {
  key: string;
  path: string;
  handle: FileHandle;
  fingerprint?: string;
  fingerprintBytes: number;
  generation: number;
  /** The next byte to read. */
  readOffset: number;
  /** Bytes of a line whose newline has not come yet, and the file offset where they start. */
  partial: Buffer;
  partialStart: number;
  /** Skipping the rest of an over-long line until its newline. */
  discarding: boolean;
  /** Joins the lines of formats whose records span lines; holds a record whose continuation lines may still come. */
  joiner: RecordJoiner<Item> | undefined;
  /** When the file last grew, for the idle flush. */
  grewAt: number;
  /** Its path now shows another file (rename rotation): read to the end, then let go. */
  rotated: boolean;
}

interface Item {
  text: string;
  start: number;
  invalid: boolean;
}

/**
 * Tails the files matching a source's glob patterns. Rotation by rename is followed (the old file is
 * read to its end before the new one starts from 0), so is truncation (copytruncate: size below
 * the offset, or a changed first line). A file's checkpoint moves only after the sink has taken the
 * events before it, and event ids come from (source, file identity, byte offset), so reading again
 * after a crash stores nothing twice.
 */
export class FileTailer {
  readonly #options: FileTailerOptions;
  readonly #source: FileSourceConfig;
  readonly #decodeText: TextDecodeFn;
  readonly #format: ResolvedFormat;
  readonly #join: JoinRule | undefined;
  readonly #files = new Map<string, TailedFile>();
  #checkpoints!: FileCheckpoints;
  /** `startAt` is for the files met at the source's very first start. */
  #startAtApplies = false;
  #firstScan = true;
  #stopped = false;
  #timer: NodeJS.Timeout | undefined;
  #wake: (() => void) | undefined;
  #loop: Promise<void> = Promise.resolve();
  #closing: Promise<void> | undefined;
  #polls = 0;
  #polling = false;
  #savedAt = 0;
  #pollWaiters: { after: number; resolve: () => void }[] = [];
  /** Writes handed to the sink, oldest first; each moves its file's checkpoint once it and all before it are acknowledged. */
  #unacked: Promise<void>[] = [];
  #acked: Promise<void> = Promise.resolve();
  /** The first write the sink failed: later checkpoints are not moved past it, and reading stops until it is read again. */
  #failure: Error | undefined;

  private constructor(options: FileTailerOptions) {
    this.#options = options;
    this.#source = options.source;
    this.#decodeText = createTextDecoder(options.source.encoding);
    const { id, format, host, logLinePrefix, pattern, utcOffset } = options.source;
    try {
      this.#format = resolveFormat({
        source: id, format, assets: options.assets, host, logLinePrefix, pattern, utcOffset, defaultUtcOffset: options.utcOffset, timeZone: options.timeZone,
      });
    } catch (error) {
      throw CoreErrors.configInvalid(`collect.files[${id}]`, `  - ${(error as Error).message}`);
    }
    this.#join = this.#format.join;
  }

  /** Checks the source, loads its checkpoints and starts polling. */
  static async start(options: FileTailerOptions): Promise<FileTailer> {
    const tailer = new FileTailer(options);
    tailer.#checkpoints = await FileCheckpoints.load(options.checkpointPath);
    tailer.#startAtApplies = tailer.#checkpoints.isFirstStart;
    tailer.#loop = tailer.#run();
    return tailer;
  }

  /** Where reading of each followed file stands, as acknowledged (what a restart resumes from). */
  checkpoint(path: string): FileCheckpoint | undefined {
    const file = [...this.#files.values()].find((candidate) => candidate.path === path);
    return file ? this.#checkpoints.get(file.key) : undefined;
  }

  /** Resolves once a whole poll (scan + read to the end of every file) has finished after this call. */
  nextPoll(): Promise<void> {
    // A poll already running may have scanned before this call: wait for the one after it.
    const after = this.#polls + (this.#polling ? 2 : 1);
    return new Promise((resolve) => {
      this.#pollWaiters.push({ after, resolve });
      this.#wake?.();
    });
  }

  /** Stops after the batch in flight; its checkpoint is saved. Safe twice. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#stopped = true;
      this.#wake?.();
      await this.#loop;
      for (const file of this.#files.values()) await file.handle.close().catch(() => undefined);
      this.#files.clear();
      await this.#checkpoints.save();
      for (const waiter of this.#pollWaiters.splice(0)) waiter.resolve();
    })();
    return this.#closing;
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      this.#polling = true;
      try {
        await this.#poll();
      } catch (error) {
        this.#options.logger?.error({ err: error, source: this.#source.id }, 'file source: poll failed, retrying');
      }
      this.#polling = false;
      this.#polls += 1;
      this.#pollWaiters = this.#pollWaiters.filter((waiter) => (waiter.after <= this.#polls ? (waiter.resolve(), false) : true));
      if (this.#stopped) break;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        this.#timer = setTimeout(resolve, this.#source.pollMs);
      });
      clearTimeout(this.#timer);
      this.#wake = undefined;
    }
  }

  async #poll(): Promise<void> {
    await this.#scan();
    // Rotated files first: the old file's end comes before the new file's start.
    const files = [...this.#files.values()].sort((a, b) => Number(b.rotated) - Number(a.rotated));
    for (const file of files) {
      if (this.#stopped) return;
      const grew = await this.#readToEnd(file);
      // A file's writes are acknowledged before the next file is read, so a failure concerns this file alone.
      if (file.rotated && !grew && !this.#stopped) await this.#release(file);
    }
    await this.#persist();
  }

  /** Finds the files the patterns match now and starts following new ones. */
  async #scan(): Promise<void> {
    const paths = new Set((await Promise.all(this.#source.paths.map((pattern) => expandGlob(pattern)))).flat());
    const seen = new Set<string>();
    for (const path of paths) {
      let info;
      try {
        info = await stat(path, { bigint: true });
      } catch {
        continue; // gone between the listing and now
      }
      const key = `${info.dev}:${info.ino}`;
      seen.add(key);
      const known = this.#files.get(key);
      if (known) {
        known.path = path; // renamed to a name the patterns also match: same file, keep reading it
        known.rotated = false;
        continue;
      }
      await this.#follow(path, key, Number(info.size));
    }
    for (const file of this.#files.values()) if (!seen.has(file.key)) file.rotated = true;
    if (this.#firstScan) await this.#finishRotatedWhileDown(seen);
    this.#firstScan = false;
  }

  async #follow(path: string, key: string, size: number): Promise<TailedFile | undefined> {
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (error) {
      this.#options.logger?.warn({ err: error, path, source: this.#source.id }, 'file source: cannot open file');
      return undefined;
    }
    const checkpoint = this.#checkpoints.get(key);
    const file: TailedFile = {
      key, path, handle, fingerprintBytes: 0, generation: 0, readOffset: 0, partial: Buffer.alloc(0), partialStart: 0,
      discarding: false, joiner: this.#newJoiner(), grewAt: Date.now(), rotated: false,
    };
    if (checkpoint) {
      file.fingerprint = checkpoint.fingerprint;
      file.fingerprintBytes = checkpoint.fingerprintBytes;
      file.generation = checkpoint.generation;
      file.readOffset = file.partialStart = checkpoint.offset;
    } else if (this.#firstScan && this.#startAtApplies && this.#source.startAt === 'end') {
      // Old content of a file met for the first time is skipped; from the next line on, all is read.
      file.readOffset = file.partialStart = await lineStartAtOrBefore(handle, size);
    }
    this.#files.set(key, file);
    if (!checkpoint) this.#saveCheckpoint(file);
    return file;
  }

  /**
   * A checkpointed file that is no longer at any matched path was probably renamed by rotation
   * while we were down: when it is still in its directory under another name, its rest is read.
   */
  async #finishRotatedWhileDown(seen: Set<string>): Promise<void> {
    const lost = this.#checkpoints.keys().filter((key) => !seen.has(key));
    if (lost.length === 0) return;
    const dirs = new Set(lost.map((key) => dirname(this.#checkpoints.get(key)!.path)));
    for (const dir of dirs) {
      const names = await readdir(dir).catch(() => [] as string[]);
      for (const name of names) {
        const path = join(dir, name);
        const info = await stat(path, { bigint: true }).catch(() => undefined);
        const key = info && `${info.dev}:${info.ino}`;
        if (!info?.isFile() || !key || !lost.includes(key) || this.#files.has(key)) continue;
        const file = await this.#follow(path, key, Number(info.size));
        if (file) file.rotated = true;
      }
    }
    for (const key of lost) if (!this.#files.has(key)) this.#checkpoints.delete(key);
  }

  /** Reads and delivers everything up to the current end; true when anything new was read. */
  async #readToEnd(file: TailedFile): Promise<boolean> {
    const size = (await file.handle.stat()).size;
    if (size < file.readOffset || !(await this.#sameContent(file, size))) {
      this.#options.logger?.info({ path: file.path, source: this.#source.id }, 'file source: file truncated or replaced, reading from its start');
      this.#restart(file);
    }
    if (!file.fingerprint && !(await this.#takeFingerprint(file, size))) return false;
    try {
      const grew = await this.#readChunks(file, size);
      if (!grew && !this.#stopped) await this.#flushIdle(file);
      await this.#drain();
      return grew;
    } catch (error) {
      await this.#drain().catch(() => undefined);
      this.#failure = undefined;
      this.#rewind(file); // the sink did not take them: read them again at the next poll
      throw error;
    }
  }

  async #readChunks(file: TailedFile, size: number): Promise<boolean> {
    let grew = false;
    const chunk = Buffer.allocUnsafe(this.#options.chunkBytes ?? 256 * 1024);
    while (!this.#stopped && file.readOffset < size) {
      while (this.#options.sink.saturated && !this.#stopped) await new Promise((resolve) => setTimeout(resolve, 100));
      const { bytesRead } = await file.handle.read(chunk, 0, Math.min(chunk.length, size - file.readOffset), file.readOffset);
      if (bytesRead === 0) break;
      grew = true;
      file.grewAt = Date.now();
      const items: Item[] = [];
      const letters: DeadLetter[] = [];
      this.#split(file, chunk.subarray(0, bytesRead), items, letters);
      file.readOffset += bytesRead;
      await this.#deliver(file, items, letters, file.readOffset >= size);
      if (file.readOffset >= size) size = (await file.handle.stat()).size;
    }
    return grew;
  }

  /** Back to the last acknowledged checkpoint, dropping what was read after it. */
  #rewind(file: TailedFile): void {
    const offset = this.#checkpoints.get(file.key)?.offset ?? 0;
    Object.assign(file, { readOffset: offset, partialStart: offset, partial: Buffer.alloc(0), discarding: false, joiner: this.#newJoiner() });
  }

  /** At the end of a file that did not grow: a held PostgreSQL record is complete; a partial line maybe. */
  async #flushIdle(file: TailedFile): Promise<void> {
    const items: Item[] = [];
    const { idleFlushMs } = this.#source;
    const idle = idleFlushMs !== undefined && Date.now() - file.grewAt >= idleFlushMs;
    if (file.partial.length && idle) {
      const bytes = file.partial;
      file.partial = Buffer.alloc(0);
      this.#physicalLine(file, bytes, file.partialStart, items);
      file.partialStart += bytes.length;
    }
    // A stderr record ends where the next begins, which may never come; a csvlog record waits for its closing quote.
    if (file.joiner?.pending && (!this.#join?.csv || idle)) items.push(recordItem(file.joiner.end()!));
    if (items.length) await this.#deliver(file, items, [], true);
  }

  /** Cuts bytes into lines (0x0A never occurs inside a UTF-8, GBK or GB18030 character). */
  #split(file: TailedFile, bytes: Buffer, items: Item[], letters: DeadLetter[]): void {
    const { maxLineBytes } = this.#source;
    let from = 0;
    for (let nl = bytes.indexOf(NEWLINE); ; nl = bytes.indexOf(NEWLINE, from)) {
      const end = nl < 0 ? bytes.length : nl;
      if (file.discarding) {
        if (nl < 0) return;
        file.discarding = false;
      } else {
        const piece = bytes.subarray(from, end);
        const line = file.partial.length ? Buffer.concat([file.partial, piece]) : piece;
        const start = file.partialStart;
        if (line.length > maxLineBytes) {
          const raw = this.#decodeText(line.subarray(0, maxLineBytes)).text;
          letters.push(deadLetter(this.#source.id, `${file.path}@${start}`, `line longer than ${maxLineBytes} bytes (collect.files maxLineBytes): the rest is skipped`, raw));
          file.partial = Buffer.alloc(0);
          file.discarding = nl < 0;
        } else if (nl < 0) {
          file.partial = Buffer.from(line); // copy: the read buffer is reused
          return;
        } else {
          file.partial = Buffer.alloc(0);
          this.#physicalLine(file, line, start, items);
        }
      }
      if (nl < 0) return;
      from = nl + 1;
      file.partialStart = file.readOffset + from;
    }
  }

  /** One complete line: an item of its own, or part of a record (PostgreSQL, stack traces) by the format's join rule. */
  #physicalLine(file: TailedFile, bytes: Buffer, start: number, items: Item[]): void {
    const { text, invalid } = this.#decodeText(bytes);
    if (!file.joiner) {
      items.push({ text, start, invalid });
      return;
    }
    for (const record of file.joiner.push({ text, start, invalid })) items.push(recordItem(record));
  }

  #newJoiner(): RecordJoiner<Item> | undefined {
    return this.#join ? new RecordJoiner<Item>(this.#join) : undefined;
  }

  /** Decodes, hands the events to the sink, and moves the checkpoint once the sink has them. */
  async #deliver(file: TailedFile, items: Item[], letters: DeadLetter[], atEnd: boolean): Promise<void> {
    const { id } = this.#source;
    const now = new Date();
    const events: ShouwangEvent[] = [];
    let received = letters.length; // so far only over-long lines
    for (const item of items) {
      if (item.text.trim() === '') continue;
      received += 1;
      const line = { text: item.text, position: `${file.key}:${file.fingerprint}:${file.generation}:${item.start}` };
      const decoded = this.#format.decode(line, { now, invalid: item.invalid });
      if (!decoded.ok) {
        letters.push(deadLetter(id, `${file.path}@${item.start}`, decoded.reason, item.text));
        continue;
      }
      const event = decoded.event;
      event.log = { ...event.log, file: { path: file.path }, offset: item.start };
      events.push(event);
    }
    countIngest(this.#options.metrics, id, { received, decoded: events.length, failed: letters.length });
    if (letters.length) await this.#options.deadLetters.write(letters);
    // The checkpoint this write earns, taken now: reading goes on before the sink answers.
    const checkpoint = this.#checkpointOf(file);
    const written = events.length ? this.#options.sink.write(events, { fromFile: true }) : Promise.resolve();
    if (events.length && atEnd) void this.#options.sink.flush?.(); // nothing more is coming soon: do not wait for the batch timer
    written.catch(() => undefined); // handled in order below
    // In order, whatever order the sink answers in: a checkpoint never passes a write not yet acknowledged.
    const acked = this.#acked.then(async () => {
      try {
        await written;
        if (this.#failure !== undefined) return;
        this.#checkpoints.set(file.key, checkpoint);
        // Each save is an fsync; while catching up, one a second is enough (a replay after a crash stores nothing twice).
        if (Date.now() - this.#savedAt >= 1000) await this.#persist();
      } catch (error) {
        this.#failure ??= error as Error;
      }
    });
    this.#acked = acked;
    this.#unacked.push(acked);
    void acked.then(() => this.#unacked.splice(this.#unacked.indexOf(acked), 1));
    // Backpressure: at most maxInFlight writes unacknowledged, none while the sink has a batch waiting for a slot.
    while (this.#unacked.length >= (this.#options.maxInFlight ?? 1)) await this.#unacked[0];
    await this.#options.sink.whenFree?.();
    // The network sources keep at least half of the memory bound: a file waits on disk meanwhile.
    await this.#options.sink.whenFileRoom?.();
    if (this.#failure) throw this.#failure;
  }

  /** Waits for every write handed to the sink; throws the first that failed. */
  async #drain(): Promise<void> {
    await this.#acked;
    if (this.#failure) throw this.#failure;
  }

  async #persist(): Promise<void> {
    this.#savedAt = Date.now();
    await this.#checkpoints.save();
  }

  /** The first byte not yet delivered: the start of a held record or of an unfinished line. */
  #checkpointOf(file: TailedFile): FileCheckpoint {
    return {
      path: file.path, fingerprint: file.fingerprint ?? '', fingerprintBytes: file.fingerprintBytes,
      generation: file.generation, offset: file.joiner?.pending?.[0]?.start ?? file.partialStart,
    };
  }

  #saveCheckpoint(file: TailedFile): void {
    this.#checkpoints.set(file.key, this.#checkpointOf(file));
  }

  /** The file's first bytes are still those we fingerprinted (copytruncate or a reused inode changes them). */
  async #sameContent(file: TailedFile, size: number): Promise<boolean> {
    if (!file.fingerprint || file.fingerprintBytes === 0) return true;
    if (size < file.fingerprintBytes) return false;
    const head = Buffer.alloc(file.fingerprintBytes);
    await file.handle.read(head, 0, head.length, 0);
    return hash(head) === file.fingerprint;
  }

  /** Fingerprints the first line (up to 256 bytes); false while it is not complete yet. */
  async #takeFingerprint(file: TailedFile, size: number): Promise<boolean> {
    const head = Buffer.alloc(Math.min(size, FINGERPRINT_BYTES));
    const { bytesRead } = await file.handle.read(head, 0, head.length, 0);
    const newline = head.subarray(0, bytesRead).indexOf(NEWLINE);
    const idle = this.#source.idleFlushMs !== undefined && bytesRead > 0 && Date.now() - file.grewAt >= this.#source.idleFlushMs;
    const length = newline >= 0 ? newline + 1 : bytesRead === FINGERPRINT_BYTES || idle ? bytesRead : 0;
    if (length === 0) return false;
    file.fingerprint = hash(head.subarray(0, length));
    file.fingerprintBytes = length;
    return true;
  }

  /** Truncated or replaced in place: a new generation, read from byte 0. */
  #restart(file: TailedFile): void {
    Object.assign(file, {
      generation: file.generation + 1, fingerprint: undefined, fingerprintBytes: 0, readOffset: 0,
      partial: Buffer.alloc(0), partialStart: 0, discarding: false, joiner: this.#newJoiner(), grewAt: Date.now(),
    });
    this.#saveCheckpoint(file);
  }

  /** A rotated file read to its end: closed and forgotten. */
  async #release(file: TailedFile): Promise<void> {
    if (file.partial.length || file.joiner?.pending) {
      // What is held can no longer be completed: it is delivered as it is.
      const items: Item[] = [];
      if (file.partial.length) this.#physicalLine(file, file.partial, file.partialStart, items);
      file.partialStart += file.partial.length;
      file.partial = Buffer.alloc(0);
      const held = file.joiner?.end();
      if (held) items.push(recordItem(held));
      try {
        await this.#deliver(file, items, [], true);
        await this.#drain();
      } catch (error) {
        await this.#drain().catch(() => undefined);
        this.#failure = undefined;
        this.#rewind(file); // kept open: the next poll reads its end again
        throw error;
      }
    }
    await file.handle.close().catch(() => undefined);
    this.#files.delete(file.key);
    this.#checkpoints.delete(file.key);
    this.#options.logger?.debug({ path: file.path, name: basename(file.path), source: this.#source.id }, 'file source: rotated file finished');
  }
}

const hash = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('base64url').slice(0, 16);

/** Where the line that holds byte `size` starts, so a tail starting at the end never begins mid-line. */
async function lineStartAtOrBefore(handle: FileHandle, size: number): Promise<number> {
  const window = Buffer.alloc(64 * 1024);
  for (let end = size; end > 0; end -= window.length) {
    const from = Math.max(0, end - window.length);
    const { bytesRead } = await handle.read(window, 0, end - from, from);
    const newline = window.subarray(0, bytesRead).lastIndexOf(NEWLINE);
    if (newline >= 0) return from + newline + 1;
  }
  return 0;
}

/** A joined record as one item: its lines' text, where its first line starts, and whether any had invalid bytes. */
function recordItem(lines: readonly Item[]): Item {
  return {
    text: lines.length === 1 ? lines[0]!.text : lines.map((line) => line.text).join('\n'),
    start: lines[0]!.start,
    invalid: lines.some((line) => line.invalid),
  };
}
