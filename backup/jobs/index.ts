export { BackupQueues, VERIFY_QUEUE, DRILL_QUEUE, redisConnection } from './queues.js';
export type { BackupJobData, BackupQueueOptions, ScheduleSummary } from './queues.js';
export { startBackupWorkers } from './worker.js';
export type { BackupWorkerOptions, BackupWorkers, BackupJobOutcome, JobProgress, VerifyRunner, DrillRunner } from './worker.js';
export { backupFailureAlert, raiseFailureAlerts, alertWindow, failedCheck, BACKUP_ALERT_RULE_PREFIX } from './alerts.js';
export { JobErrors } from './errors.js';
