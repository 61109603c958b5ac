import type { Logger } from '../core/index.js';

/** What a process started, stopped in reverse order: the last thing started (it may use the earlier ones) stops first. */
export interface Closers {
  push(...closers: (() => Promise<unknown> | unknown)[]): void;
  /** Runs every closer once, newest first; a failing one is logged and the rest still run. Safe to call twice. */
  close(): Promise<void>;
}

export function closerStack(logger: Pick<Logger, 'error'>): Closers {
  const stack: (() => Promise<unknown> | unknown)[] = [];
  let closing: Promise<void> | undefined;
  return {
    push: (...closers) => void stack.push(...closers),
    close: () => (closing ??= (async () => {
      // A closer pushed while closing (a late start) is run too.
      while (stack.length) {
        const closer = stack.pop()!;
        await Promise.resolve().then(closer).catch((error: Error) => logger.error({ err: error }, 'shutdown step failed'));
      }
    })()),
  };
}
