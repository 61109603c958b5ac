/**
 * China Standard Time (Asia/Shanghai, no daylight saving), for the one China-specific use left: the demo's
 * hosts write their log lines in CST (collectors/demo-logs.ts, bin/demo.ts), whatever `timeZone` the
 * installation shows. Everything else reads the configured zone through core/time-zone.ts.
 */
export const SHANGHAI_OFFSET_MS = 8 * 3_600_000;
/** The same offset as written after a local time. */
export const SHANGHAI_OFFSET = '+08:00';
