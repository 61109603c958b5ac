export {
  SILENT_SOURCE_RULE, coverageBySystem, expectedSources, raiseSilentSourceAlerts, silentSourceAlert, sourceStatuses,
} from './sources.js';
export type { ExpectedSource, SourceStatus, SystemCoverage } from './sources.js';
