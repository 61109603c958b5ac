/** A sliding-window counter per key, in memory: enough for one console process guarding its login. */
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

  #sweep(now: number): void {
    for (const [key, times] of this.#hits) {
      if (!times.some((t) => t > now - this.#windowMs)) this.#hits.delete(key);
    }
  }
}
