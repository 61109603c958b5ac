import { parentPort, Worker, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { ShouwangError } from '../../core/index.js';
import { StoreErrors } from '../errors.js';
import { EVENT_READS, interruptibleReads, type EventReadArgs, type EventReadName, type EventReadResult, type EventReadRunner } from './events.js';

/**
 * The embedded store's console reads (search, counts, top values, histogram, one event) in worker threads,
 * each on its own read-only connection to the same file (WAL lets readers run beside the writer): SQLite
 * is synchronous, and one search of a leading wildcard over a large table held the event loop for seconds
 * (logins, /healthz, the collectors of `shouwang start` waited). A read past its deadline terminates its
 * worker (a fresh one starts for the next read) and answers SW_ERR_STORE_QUERY_TIMEOUT.
 */

/** Worker threads reading at once; a read waits for a free one (the wait counts against its deadline). */
const READERS = 2;
/** A read left less than this by its wait is refused rather than started (timers may also fire a millisecond early). */
const MIN_LEFT_MS = 10;

interface ReadJob {
  id: number;
  name: EventReadName;
  args: unknown[];
}

/** A thrown error as plain data: a ShouwangError comes back as one with the same code and status. */
interface ThrownError {
  message: string;
  code?: string;
  statusCode?: number;
  shouwang: boolean;
}

type Reply = { id: number; result: unknown } | { id: number; error: ThrownError };

interface ReaderData {
  eventReader: { path: string };
}

// From the sources (vitest runs .ts) the worker goes through the analyzers' small loader; a build runs the .js.
const FROM_SOURCE = import.meta.url.endsWith('.ts');
const ENTRY = FROM_SOURCE ? new URL('../../analyzers/source-worker.mjs', import.meta.url) : new URL(import.meta.url);

interface Slot {
  worker: Promise<Worker> | undefined;
  busy: boolean;
}

interface Waiting {
  job: ReadJob;
  /** performance.now() when the read was asked for: waiting for a free worker counts against its deadline. */
  since: number;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

export class EventReader implements EventReadRunner {
  readonly #path: string;
  readonly #timeoutMs: number;
  readonly #slots: Slot[] = Array.from({ length: READERS }, () => ({ worker: undefined, busy: false }));
  readonly #queue: Waiting[] = [];
  /** Workers terminated past a deadline, until their thread has exited (close waits for them). */
  readonly #retiring = new Set<Promise<unknown>>();
  #nextId = 0;
  #started = 0;
  #closed = false;

  constructor(path: string, options: { timeoutMs: number }) {
    this.#path = path;
    this.#timeoutMs = options.timeoutMs;
  }

  /** Worker threads started so far: one more after every read that ran past its deadline. */
  get workersStarted(): number {
    return this.#started;
  }

  run<K extends EventReadName>(name: K, ...args: EventReadArgs<K>): Promise<EventReadResult<K>> {
    if (this.#closed) return Promise.reject(StoreErrors.unavailable('closed'));
    return new Promise((resolve, reject) => {
      this.#queue.push({ job: { id: (this.#nextId += 1), name, args }, since: performance.now(), resolve: resolve as (value: unknown) => void, reject });
      this.#dispatch();
    });
  }

  /** Stops the workers, and waits for those stopped past a deadline to exit; reads still waiting are refused. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const waiting of this.#queue.splice(0)) waiting.reject(StoreErrors.unavailable('closed'));
    await Promise.all(this.#slots.map(async (slot) => {
      const worker = await slot.worker?.catch(() => undefined);
      slot.worker = undefined;
      await worker?.terminate();
    }));
    await Promise.all(this.#retiring);
  }

  #dispatch(): void {
    for (const slot of this.#slots) {
      if (slot.busy || this.#closed) continue;
      const waiting = this.#queue.shift();
      if (!waiting) return;
      slot.busy = true;
      void this.#runOn(slot, waiting);
    }
  }

  /** Frees the slot before its caller hears back, so the caller's next read goes to this warm worker. */
  #free(slot: Slot): void {
    slot.busy = false;
    queueMicrotask(() => this.#dispatch());
  }

  async #runOn(slot: Slot, { job, since, resolve, reject }: Waiting): Promise<void> {
    let worker: Worker;
    const asked = performance.now();
    try {
      worker = await (slot.worker ??= this.#start(slot));
    } catch (error) {
      this.#free(slot);
      reject(error);
      return;
    }
    // The deadline counts from the call, time spent waiting behind other reads included, but not a cold start
    // (not the query's fault): reads pile up behind slow ones for at most the deadline, then are refused.
    const left = this.#timeoutMs - (asked - since);
    if (left < MIN_LEFT_MS) {
      this.#free(slot);
      reject(StoreErrors.queryTimeout(this.#timeoutMs));
      return;
    }
    await new Promise<void>((done) => {
      const settle = (finish: () => void) => {
        clearTimeout(timer);
        worker.off('message', onMessage).off('error', onError).off('exit', onExit).unref();
        this.#free(slot);
        finish();
        done();
      };
      const onMessage = (reply: Reply) => {
        if (reply.id !== job.id) return;
        settle(() => ('error' in reply ? reject(revive(reply.error)) : resolve(reply.result)));
      };
      const lose = (reason: string) => {
        slot.worker = undefined;
        reject(StoreErrors.unavailable(`event reader ${reason}`));
      };
      const onError = (error: Error) => settle(() => lose(`failed: ${error.message}`));
      const onExit = (code: number) => settle(() => lose(`exited (${code})`));
      const timer = setTimeout(() => settle(() => {
        // The scan ends at its next call into JavaScript (interruptibleReads); the next read gets a fresh worker.
        slot.worker = undefined;
        const exited = worker.terminate().finally(() => this.#retiring.delete(exited));
        this.#retiring.add(exited);
        reject(StoreErrors.queryTimeout(this.#timeoutMs));
      }), left);
      worker.on('message', onMessage).on('error', onError).on('exit', onExit).ref();
      try {
        worker.postMessage(job);
      } catch (error) {
        // Thrown on this thread while copying the arguments: the worker never saw them and stays.
        settle(() => reject(StoreErrors.invalidQuery((error as Error).message)));
      }
    });
  }

  #start(slot: Slot): Promise<Worker> {
    this.#started += 1;
    const data: ReaderData & { sourceEntry?: string } = {
      eventReader: { path: this.#path },
      ...(FROM_SOURCE ? { sourceEntry: import.meta.url } : {}),
    };
    const worker = new Worker(ENTRY, { workerData: data, stdout: false, stderr: false });
    return new Promise<Worker>((resolve, reject) => {
      const fail = (error: Error) => {
        worker.off('message', onReady);
        slot.worker = undefined;
        reject(StoreErrors.unavailable(`event reader cannot start: ${error.message}`));
      };
      const onExit = (code: number) => fail(new Error(`exited while starting (${code})`));
      const onReady = (message: unknown) => {
        worker.off('error', fail).off('exit', onExit);
        if (message !== 'ready') {
          void worker.terminate();
          fail(new Error(revive(message as ThrownError).message));
          return;
        }
        worker.unref(); // an idle reader does not keep the process running
        resolve(worker);
      };
      worker.once('message', onReady).once('error', fail).once('exit', onExit);
    });
  }
}

function revive(thrown: ThrownError): Error {
  if (thrown.shouwang && thrown.code) return new ShouwangError(thrown.code, thrown.message, thrown.statusCode);
  return Object.assign(new Error(thrown.message), thrown.code ? { code: thrown.code } : {});
}

function plain(error: unknown): ThrownError {
  const { message, code, statusCode } = error as { message?: unknown; code?: unknown; statusCode?: unknown };
  return {
    message: String(message ?? error),
    ...(typeof code === 'string' ? { code } : {}),
    ...(typeof statusCode === 'number' ? { statusCode } : {}),
    shouwang: error instanceof ShouwangError,
  };
}

/** The worker side: opens the file read-only (no migration, no write) and answers one read per message. */
function serve(path: string): void {
  const port = parentPort!;
  let db: Database.Database;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    db.pragma('busy_timeout = 5000');
    db.pragma('cache_size = -65536');
    interruptibleReads(db);
  } catch (error) {
    port.postMessage(plain(error));
    return;
  }
  port.on('message', (job: ReadJob) => {
    let reply: Reply;
    try {
      const read = EVENT_READS[job.name] as (db: Database.Database, ...args: unknown[]) => unknown;
      reply = { id: job.id, result: read(db, ...job.args) };
    } catch (error) {
      reply = { id: job.id, error: plain(error) };
    }
    port.postMessage(reply);
  });
  port.postMessage('ready');
}

const data = workerData as Partial<ReaderData> | null;
if (parentPort && data?.eventReader) serve(data.eventReader.path);
