import { Worker } from 'node:worker_threads';
import type { RuleTrial } from './rule-trial.js';
import type { TrialJob } from './rule-sandbox-worker.js';
import type { FieldMapping } from './sigma/index.js';

export interface RuleSandboxOptions {
  /** Wall-clock a trial may run in the worker; default 2000 ms. */
  timeMs?: number;
  /** The worker's V8 old-generation heap; default 128 MB. */
  memoryMb?: number;
  /** Trials waiting for the worker at most; default 8. */
  maxWaiting?: number;
}

/** A trial stopped because it went over its budget (`time`, `memory`) or found the queue full (`queue`). */
export class RuleBudgetError extends Error {
  readonly budget: 'time' | 'memory' | 'queue';
  readonly limit: string;

  constructor(budget: 'time' | 'memory' | 'queue', limit: string) {
    super(`rule trial over its ${budget} budget (${limit})`);
    this.budget = budget;
    this.limit = limit;
  }
}

/** The job could not be handed to the worker (e.g. events too deep to copy): the caller's input, not the worker's fault. */
export class RuleInputError extends Error {}

// From the sources (vitest runs .ts) the worker goes through a small loader; a build runs the .js.
const FROM_SOURCE = import.meta.url.endsWith('.ts');
const ENTRY = new URL(FROM_SOURCE ? './source-worker.mjs' : './rule-sandbox-worker.js', import.meta.url);
const SOURCE_ENTRY = new URL('./rule-sandbox-worker.ts', import.meta.url).href;

/**
 * Runs pasted rules (untrusted regexes included) in one worker thread, one trial at a time, so the
 * event loop never waits on them. A trial over its time or memory budget terminates the worker,
 * which is started afresh for the next one.
 */
export class RuleSandbox {
  readonly #timeMs: number;
  readonly #memoryMb: number;
  readonly #maxWaiting: number;
  #worker: Promise<Worker> | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #waiting = 0;
  #closing: Promise<void> | undefined;
  readonly #exited = new WeakSet<Worker>();
  #started = 0;

  constructor(options: RuleSandboxOptions = {}) {
    this.#timeMs = options.timeMs ?? 2000;
    this.#memoryMb = options.memoryMb ?? 128;
    this.#maxWaiting = options.maxWaiting ?? 8;
  }

  /** Worker threads started so far: one more after every trial that had to stop (or lost) its worker. */
  get workersStarted(): number {
    return this.#started;
  }

  /** Tries the rule; rejects with RuleBudgetError when it runs out of budget. */
  run(text: string, events: Record<string, unknown>[], mapping?: FieldMapping): Promise<RuleTrial> {
    if (this.#closing) return Promise.reject(new Error('rule sandbox closed'));
    if (this.#waiting >= this.#maxWaiting) return Promise.reject(new RuleBudgetError('queue', `${this.#maxWaiting} waiting`));
    this.#waiting += 1;
    const job: TrialJob = { text, events, ...(mapping ? { mapping } : {}) };
    const trial = this.#queue.catch(() => undefined).then(async () => {
      this.#waiting -= 1;
      return this.#runNow(job);
    });
    this.#queue = trial;
    return trial;
  }

  /** Waits for the trials already queued, then stops the worker; safe to call twice. */
  close(): Promise<void> {
    this.#closing ??= this.#queue.catch(() => undefined).then(async () => {
      const worker = await this.#worker?.catch(() => undefined);
      this.#worker = undefined;
      await worker?.terminate();
    });
    return this.#closing;
  }

  async #runNow(job: TrialJob): Promise<RuleTrial> {
    let worker = await (this.#worker ??= this.#start());
    if (this.#exited.has(worker)) worker = await (this.#worker = this.#start()); // died while idle
    try {
      return await new Promise<RuleTrial>((resolve, reject) => {
        const settle = (done: () => void) => {
          clearTimeout(timer);
          worker.off('message', onMessage).off('error', onError).off('exit', onExit).unref();
          done();
        };
        const onMessage = (trial: RuleTrial) => settle(() => resolve(trial));
        const onError = (error: Error & { code?: string }) => settle(() => reject(error.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? new RuleBudgetError('memory', `${this.#memoryMb} MB`) : error));
        const onExit = (code: number) => settle(() => reject(new Error(`rule sandbox worker exited (${code})`)));
        // The budget starts once the worker has the job: a cold start is not the rule's fault.
        const timer = setTimeout(() => settle(() => reject(new RuleBudgetError('time', `${this.#timeMs} ms`))), this.#timeMs);
        worker.on('message', onMessage).on('error', onError).on('exit', onExit).ref();
        try {
          worker.postMessage(job);
        } catch (error) {
          // Thrown here, on the main thread, while copying the job (structured clone): the worker never saw it.
          settle(() => reject(new RuleInputError(`events cannot be handed to the rule sandbox: ${(error as Error).message}`)));
        }
      });
    } catch (error) {
      if (error instanceof RuleInputError) throw error; // the worker is healthy and idle: keep it
      // The worker may be stuck in a regex or dead: replace it (terminate interrupts running JS).
      this.#worker = undefined;
      void worker.terminate();
      throw error;
    }
  }

  #start(): Promise<Worker> {
    this.#started += 1;
    const worker = new Worker(ENTRY, {
      ...(FROM_SOURCE ? { workerData: { sourceEntry: SOURCE_ENTRY } } : {}),
      resourceLimits: { maxOldGenerationSizeMb: this.#memoryMb, maxYoungGenerationSizeMb: 16, stackSizeMb: 4 },
      stdout: false,
      stderr: false,
    });
    worker.once('exit', () => this.#exited.add(worker));
    return new Promise<Worker>((resolve, reject) => {
      const fail = (error: Error) => {
        worker.off('message', onReady);
        this.#worker = undefined;
        reject(error);
      };
      const onExit = (code: number) => fail(new Error(`rule sandbox worker exited while starting (${code})`));
      const onReady = () => {
        worker.off('error', fail).off('exit', onExit);
        worker.unref(); // an idle sandbox does not keep the process running
        resolve(worker);
      };
      worker.once('message', onReady).once('error', fail).once('exit', onExit);
    });
  }
}
