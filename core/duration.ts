import { z } from 'zod';

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/** Parses `90s`, `15m`, `4h`, `1d`, `2w` (and combinations such as `1h30m`) into seconds. */
export function parseDuration(text: string): number | undefined {
  const compact = text.trim().toLowerCase();
  if (!/^(\d+[smhdw])+$/.test(compact)) return undefined;
  let total = 0;
  for (const [, amount, unit] of compact.matchAll(/(\d+)([smhdw])/g)) total += Number(amount) * UNIT_SECONDS[unit!]!;
  return total > 0 ? total : undefined;
}

/** Seconds back to the text form, in the largest unit that divides them: 86400 → `1d`, 5400 → `90m`. */
export function formatDuration(seconds: number): string {
  for (const [unit, size] of [['w', 604_800], ['d', 86_400], ['h', 3600], ['m', 60]] as const) {
    if (seconds >= size && seconds % size === 0) return `${seconds / size}${unit}`;
  }
  return `${seconds}s`;
}

/** A duration written as text in config or inventory (`15m`, `4h`, `1h30m`), carried as seconds. */
export const durationSchema = z.string().transform((value, ctx) => {
  const seconds = parseDuration(value);
  if (seconds === undefined) {
    ctx.addIssue({ code: 'custom', message: 'expected a duration such as 15m, 4h, 1d or 1h30m' });
    return z.NEVER;
  }
  return seconds;
});

/**
 * An inventory duration: text, or a whole number of seconds, which is how the API answers it, so what
 * GET /api/inventory returns can be PUT back. Config keeps text only (a bare 60 could mean minutes).
 */
export const inventoryDurationSchema = z.union([
  z.number().int().positive({ message: 'expected a duration such as 15m, 4h, 1d or a whole number of seconds' }),
  durationSchema,
]);
