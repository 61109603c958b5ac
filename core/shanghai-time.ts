/**
 * China Standard Time (Asia/Shanghai, no daylight saving): the one offset for calendar days and
 * local times that Shouwang computes itself (posture days, evidence reports, demo log lines).
 */
export const SHANGHAI_OFFSET_MS = 8 * 3_600_000;
/** The same offset as written after a local time. */
export const SHANGHAI_OFFSET = '+08:00';
