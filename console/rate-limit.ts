/** A sliding-window counter per key, in memory: enough for one console process guarding its login against guessing. */
export class SlidingWindowLimiter {
  readonly #hits = new Map<string, number[]>();
  readonly #max: number;
  readonly #windowMs: number;
  #calls = 0;

  constructor(options: { max: number; windowMs: number }) {
    this.#max = options.max;
    this.#windowMs = options.windowMs;
  }

  /** Counts one attempt; when the window is full, refuses it and says how long until one slot frees up. */
  hit(key: string, now = Date.now()): { allowed: boolean; retryAfterMs: number } {
    if (++this.#calls % 1000 === 0) this.#sweep(now);
    const recent = (this.#hits.get(key) ?? []).filter((t) => t > now - this.#windowMs);
    if (recent.length >= this.#max) {
      this.#hits.set(key, recent);
      return { allowed: false, retryAfterMs: recent[0]! + this.#windowMs - now };
    }
    recent.push(now);
    this.#hits.set(key, recent);
    return { allowed: true, retryAfterMs: 0 };
  }

  /** Gives back the attempt counted at `at`: a success must not use up the budget meant for guesses. */
  release(key: string, at: number): void {
    const times = this.#hits.get(key);
    const index = times?.lastIndexOf(at) ?? -1;
    if (index >= 0) times!.splice(index, 1);
  }

  /** Attempts counted for `key` in the window ending `now`. */
  count(key: string, now = Date.now()): number {
    return (this.#hits.get(key) ?? []).filter((t) => t > now - this.#windowMs).length;
  }

  /** Forgets every attempt counted for the keys `matches` picks (e.g. all addresses of one username). */
  resetMatching(matches: (key: string) => boolean): void {
    for (const key of this.#hits.keys()) if (matches(key)) this.#hits.delete(key);
  }

  /** Forgets every attempt counted for `key`. */
  reset(key: string): void {
    this.#hits.delete(key);
  }

  #sweep(now: number): void {
    for (const [key, times] of this.#hits) {
      if (!times.some((t) => t > now - this.#windowMs)) this.#hits.delete(key);
    }
  }
}
