export { verifyBackups, recordResults, overallStatus, BACKUP_CHECK_KIND } from './verify.js';
export type { VerifyOptions, VerifyProgress } from './verify.js';
export { BACKUP_SITES, backupClause, checkResultId } from './outcome.js';
export type { BackupSite, CheckName, CheckOutcome } from './outcome.js';
export { takeSnapshot } from './snapshot.js';
export type { SiteSnapshot, SetListing } from './snapshot.js';
export { checkPresence } from './presence.js';
export { checkFreshness, FRESHNESS_WARN_RATIO } from './freshness.js';
export { checkCompleteness, COMPLETENESS_DROP_RATIO } from './completeness.js';
export { checkIntegrity, verifySetFiles, digestFile } from './integrity.js';
export type { IntegrityFinding, IntegrityOptions, IntegrityProblem, FileDigest } from './integrity.js';
export { checkRetention, RETENTION_GAP_FACTOR } from './retention.js';
export { checkCrossSite, compareManifests } from './cross-site.js';
export type { ManifestDiff } from './cross-site.js';
export { checkImmutability, checkResticImmutability } from './immutability.js';
export { compareObjects } from './object-agreement.js';
export type { ObjectAgreement } from './object-agreement.js';
export { checkRansomware, changeRate, renamedFiles, commonNewExtension, flippedFiles } from './ransomware.js';
export type { RansomwareOptions, FlippedFile, ChangeRate, NewExtension } from './ransomware.js';
export { fingerprintSet, pickSample, parseFingerprint, storedFingerprints, SAMPLE_FILES } from './set-fingerprint.js';
export type { SetFingerprint, SampledFile, FingerprintLookup, FingerprintOptions } from './set-fingerprint.js';
export {
  shannonEntropy, deflateRatio, measureBytes, sampleFile, isHighEntropy, isCompressible, ByteHistogram, SAMPLE_BLOCK_BYTES,
} from './byte-sample.js';
export type { ByteSample } from './byte-sample.js';
