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

/** A duration written as text in config or inventory, carried as seconds. */
export const durationSchema = z.string().transform((text, ctx) => {
  const seconds = parseDuration(text);
  if (seconds === undefined) {
    ctx.addIssue({ code: 'custom', message: 'expected a duration such as 15m, 4h, 1d or 1h30m' });
    return z.NEVER;
  }
  return seconds;
});
