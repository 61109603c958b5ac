export { ShouwangError, defineError, CoreErrors } from './errors.js';
export { formatIssues, formatPath } from './validation.js';
export { emailAddress, phoneNumber } from './contact-schemas.js';
export { ConfigSchema, ENV_VARIABLES, loadConfig } from './config.js';
export type { Config, LoadConfigOptions, LoadedConfig } from './config.js';
export { createLogger, REDACTED_PATHS } from './logger.js';
export type { Logger } from './logger.js';
export { createMetricsRegistry, counter, gauge, histogram, METRIC_PREFIX } from './metrics.js';
export { getField, expandDotted, isFieldName, isPlainObject, mergeFields } from './fields.js';
export { eventId } from './event.js';
export type { ShouwangEvent, EventAssetTags } from './event.js';
export {
  RULE_LEVELS, ALERT_STATUSES, ALERT_WRITER_LIMIT, SAMPLE_EVENT_LIMIT, alertId, alertPriority, mergeAlert, canTransition, applyAlertChange,
  writerTime,
} from './alert.js';
export type { Alert, AlertStatus, AlertNotification, AlertStatusChange, AlertTimelineEntry, RuleLevel } from './alert.js';
export { markSuppressed, sameMark, suppresses, SUPPRESSION_MAX_DAYS } from './alert-suppression.js';
export type { AlertSuppression, AlertSuppressedMark } from './alert-suppression.js';
export { parseDuration, formatDuration, durationSchema } from './duration.js';
export { canonicalTimeZone, zoneDayBounds } from './time-zone.js';
export { SHANGHAI_OFFSET, SHANGHAI_OFFSET_MS } from './shanghai-time.js';
export {
  DEFAULT_TIME_ZONE, formatOffset, isIsoInstant, isTimeZone, nextZoneDay, parseZonedTime, zoneHasDaylightSaving, zoneDate, zoneDayStart, zonedToEpoch, zoneOffset, zoneOffsetMs,
} from './time-zone.js';
export {
  NETWORK_ZONES, NETWORK_ZONE_EN, CSV_COLUMNS, InventorySchema, SystemSchema, DepartmentSchema, AssetIndex,
  loadInventory, saveInventory, inventoryFromYaml, inventoryFromCsv, parseInventory,
} from './inventory.js';
export type { Inventory, Department, BusinessSystem, BackupPolicy, LogSource, ValidationQuery } from './inventory.js';
export { GENESIS_HASH, auditDepartments, canonicalJson, chainEntry, chainHash, findChainBreak } from './audit-chain.js';
export type { AuditEntry, ChainedAuditEntry } from './audit-chain.js';
export {
  CHECKPOINT_EVERY_ENTRIES, CHECKPOINT_EVERY_MS, CHECKPOINT_MAX_GAP, ChainVerifier, checkpointPublicKey, checkpointSigned,
  keyFingerprint, signCheckpoint, verifyAuditExtract, algorithmOf, digestFor,
} from './audit-checkpoint.js';
export type { AuditCheckpoint, AuditKey, AuditLink, AuditVerification, ChainProblem } from './audit-checkpoint.js';
export { readHighWater, writeHighWater, type AuditHighWater } from './audit-high-water.js';
export type { JobResult } from './job-result.js';
export type {
  BackupCheckDetail, BackupCheckName, BackupCheckResult, EvidenceExportResult, JobKind, JobSite, JobStatus, RestoreDrillDetail,
  RestoreDrillResult, RtoMeasure,
} from './job-result.js';
export { drillSite } from './job-result.js';
export { ensureExecutable, findExecutable, versionedDirs } from './provision.js';
export type { Requirement } from './provision.js';
export { ChildService, freePort, canConnect, sleep } from './child-service.js';
export type { ChildServiceOptions } from './child-service.js';
export { startLocalRedis } from './redis-server.js';
export type { LocalRedis } from './redis-server.js';
export { connectRedis, describeRedis, parseSentinelHost, redisOptions, redisTarget } from './redis-connection.js';
export type { RedisSettings, RedisTarget, SentinelTarget } from './redis-connection.js';
export { ensureDebianPackage, type PackageRequirement } from './provision.js';
export { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE, ensurePrivateDir, ensurePrivateDirSync, writePrivateFileAtomically } from './private-files.js';
export { PRIVATE_DATA_DIRS, PRIVATE_DATA_FILES, tightenDataDirSync } from './private-files.js';
export { RECORD_LIMITS, recordShape, recordShapeProblem, typedFieldProblem } from './record-limits.js';
export type { RecordShape } from './record-limits.js';
export { seededRandom } from './random.js';
