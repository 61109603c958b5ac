import { setTimeout as delay } from 'node:timers/promises';

export interface EventuallyOptions {
  /** How long to keep trying (ms). Generous: the machines that run the tests are shared and slow. */
  timeout?: number;
  /** Pause between tries (ms). */
  interval?: number;
}

/**
 * Runs `check` until it returns without throwing, and returns what it returned: the one way tests wait for
 * background work (no fixed sleeps, no hand-written deadline loops). Put the expectations inside `check`;
 * when the deadline passes, the error says how long it waited and carries the last failure.
 * The default deadline (20 s) is below the test timeout (30 s), so the last failure is what gets reported.
 */
export async function eventually<T>(check: () => T | Promise<T>, { timeout = 20_000, interval = 50 }: EventuallyOptions = {}): Promise<T> {
  const deadline = Date.now() + timeout;
  for (let tries = 1; ; tries += 1) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() >= deadline) {
        const last = error instanceof Error ? error.message : String(error);
        throw new Error(`still failing after ${timeout} ms (${tries} tries): ${last}`, { cause: error });
      }
    }
    await delay(interval);
  }
}

/** Reads until `ok` holds and returns that value; the error names `what` and the last value read. */
export function eventuallyValue<T>(read: () => T | Promise<T>, ok: (value: T) => boolean, what: string, options?: EventuallyOptions): Promise<T> {
  return eventually(async () => {
    const value = await read();
    if (!ok(value)) throw new Error(`waiting for ${what}: ${JSON.stringify(value)}`);
    return value;
  }, options);
}
