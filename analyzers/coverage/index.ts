export {
  SILENT_SOURCE_RULE, coverageBySystem, expectedSources, raiseSilentSourceAlerts, silentSourceAlert, sourceStatuses,
} from './sources.js';
export type { ExpectedSource, SourceStatus, SystemCoverage } from './sources.js';
export { detectionFields, ruleCoverage } from './rule-coverage.js';
export type { ControlCoverage, CoverageInput, CoverageReport, LogsourceCoverage, RuleCoverage } from './rule-coverage.js';
