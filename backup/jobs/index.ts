export { BackupQueues, VERIFY_QUEUE, DRILL_QUEUE, redisConnection } from './queues.js';
export type { BackupJobData, BackupQueueOptions, ScheduleSummary } from './queues.js';
export { recordBackupResults, startBackupWorkers } from './worker.js';
export type { BackupEventSink, BackupWorkerOptions, BackupWorkers, BackupJobOutcome, JobProgress, VerifyRunner, DrillRunner } from './worker.js';
export {
  BACKUP_ALERT_RULE_PREFIX, BACKUP_DATASET, BACKUP_RULE_IDS, backupResultEvent, isBackupAlertRule, resultCheck,
} from './backup-events.js';
export { JobErrors } from './errors.js';
