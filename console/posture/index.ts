export * from './score.js';
export { latestBackups, worse } from './backups.js';
export type { LatestRun, SystemBackups } from './backups.js';
export { backupState, byRisk, cachedCoverage, computePosture, systemPosture } from './posture.js';
export type { CoverageSource, DepartmentPosture, Posture, SystemPosture } from './posture.js';
export { postureTrend } from './trend.js';
export type { TrendDay } from './trend.js';
