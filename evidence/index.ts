export { exportEvidenceBundle, readZipEntries, verifyEvidenceBundle, ZIP_LIMITS, MANIFEST_FILE, REPORT_FILE, SIGNATURE_FILE } from './bundle.js';
export { FINGERPRINT_LABEL, PDFTOTEXT, reportFingerprints } from './report-fingerprint.js';
export type { ExportOptions, ExportSummary, VerifyReport } from './bundle.js';
export { EVIDENCED_ITEMS, controlRows, evidencedClause, evidencedItems, systemVerdicts } from './controls.js';
export type { ControlRow } from './controls.js';
export { EvidenceErrors } from './errors.js';
export {
  acknowledgeSeconds, backupFacts, gatherFacts, handlingFacts, missingRecordFields, recordFacts, retentionFacts, selectSystems, SAMPLE_PER_DATASET,
} from './facts.js';
export { isIntrusionRule, isNetworkIntrusionRule, loadIntrusionRules, shippedRulesDir } from './intrusion-rules.js';
export type { IntrusionRule, IntrusionRuleOptions, IntrusionRules } from './intrusion-rules.js';
export { calendarMonthsBefore, formatLocal, formatLocalIso, localDay } from './local-time.js';
export type { EvidenceFacts, EvidenceSelection, SystemFacts } from './facts.js';
export { EVIDENCE_JOB_ID, EVIDENCE_QUEUE, EvidenceQueue, bundlePath, startEvidenceWorker } from './job.js';
export type { EvidenceJobData, EvidenceJobProgress, EvidenceQueueOptions, EvidenceWorkerOptions } from './job.js';
export { CJK_FONT, ensureCjkFont, renderReport } from './pdf-report.js';
export {
  algorithmOf, digestsOf, ensureSigningKey, fingerprintOf, generateSigningKey, readPublicKey, readSigningKey, signManifest, sm2Supported, writeSigningKey,
} from './signing.js';
export type { Manifest, ManifestFile, SignatureAlgorithm, SigningKey } from './signing.js';
export {
  STATUSES, STATUS_EN, STATUS_LABEL, RETENTION_MONTHS_REQUIRED, DEFAULT_RULE_SETTINGS, EVIDENCED_CONTROLS, MANUAL_REVIEW, auditCoverageVerdict,
  auditProtectionVerdict, auditRecordsVerdict, backupIdentificationVerdict, backupLocalVerdict, backupOffsiteVerdict, backupProceduresVerdict,
  backupStipulationVerdict, capToWindow, emergencyDrillVerdict, incidentHandlingVerdict, intrusionVerdict,
  notApplicable, retentionVerdict,
} from './status-rules.js';
export type {
  AuditFacts, BackupFacts, ComplianceStatus, ControlVerdict, EvidenceRuleSettings, EvidencedControl, HandlingFacts, IntrusionFacts, RetentionFacts,
  SiteBackupFacts,
} from './status-rules.js';
export { controlsCsv, controlsXlsx } from './tables.js';
export { csvCell } from './csv-cell.js';

