export * from './score.js';
export { latestBackups, worse, SITES } from './backups.js';
export type { LatestRun, Site, SystemBackups } from './backups.js';
export { backupState, byRisk, cachedCoverage, computePosture } from './posture.js';
export type { CoverageSource, DepartmentPosture, Posture, SystemPosture } from './posture.js';
