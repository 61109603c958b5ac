// Backup verification: targets, manifests and checks.
export { BackupErrors } from './errors.js';
export {
  verifyBackups, recordResults, overallStatus, BACKUP_CHECK_KIND, BACKUP_SITES, backupClause, checkResultId,
  takeSnapshot, checkPresence, checkFreshness, checkCompleteness, checkIntegrity, checkRetention, checkCrossSite,
  verifySetFiles, digestFile, compareManifests, checkImmutability, compareObjects, FRESHNESS_WARN_RATIO, COMPLETENESS_DROP_RATIO, RETENTION_GAP_FACTOR,
  checkRansomware, storedFingerprints, fingerprintSet, sampleFile, shannonEntropy, deflateRatio,
} from './checks/index.js';
export type {
  VerifyOptions, VerifyProgress, BackupSite, CheckName, CheckOutcome, SiteSnapshot, SetListing, IntegrityFinding,
  IntegrityOptions, IntegrityProblem, FileDigest, ManifestDiff, SetFingerprint, FingerprintLookup, ByteSample,
} from './checks/index.js';
export { MANIFEST_FILES, parseManifestJson, parseSha256Sums, readManifest } from './manifest.js';
export type { Manifest, ManifestEntry } from './manifest.js';
export { openTarget, PathTarget, SftpTarget, ResticRepository, BorgRepository, isRepositoryTarget, parseSetTime, formatSetName } from './targets/index.js';
export { S3Target, isS3Target, resticS3Url } from './targets/index.js';
export type { S3Location, ObjectFacts, BucketLock } from './targets/index.js';
export { PgbackrestRepository, MariabackupDirectory, isDatabaseRepository } from './targets/index.js';
export type { PgbackrestSpec, MariabackupSpec, DatabaseRepository } from './targets/index.js';
export { writeDemoBackupSets, refreshDemoBackupSets, corruptDemoBackupSet, demoBackupCase } from './demo-sets.js';
export type { DemoBackupCase } from './demo-sets.js';
export type {
  BackupTarget, BackupSetRef, BackupFileInfo, ReadOptions, SftpOptions, SftpLocation, TargetSpec, RepositoryTarget, RepositoryCheck, ResticSpec, BorgSpec,
} from './targets/index.js';
// Restore drills and the BullMQ jobs.
export {
  runRestoreDrill, locateLatestDump, scratchDatabaseName, drillResultId, DRILL_KIND, postgresDrillServer, mariadbDrillServer,
  judgeValidation, DrillErrors, SCRATCH_PREFIX,
} from './drill/index.js';
export type { DrillOptions, DrillProgress, DrillStep, DrillServer, DrillEngine, ValidationOutcome } from './drill/index.js';
export {
  BackupQueues, VERIFY_QUEUE, DRILL_QUEUE, redisConnection, startBackupWorkers, recordBackupResults,
  BACKUP_ALERT_RULE_PREFIX, BACKUP_DATASET, BACKUP_RULE_IDS, backupResultEvent, isBackupAlertRule, resultCheck,
  JobErrors,
} from './jobs/index.js';
export type { BackupJobData, ScheduleSummary, BackupWorkerOptions, BackupWorkers, BackupJobOutcome, BackupEventSink } from './jobs/index.js';
