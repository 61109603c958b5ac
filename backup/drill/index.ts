export { runRestoreDrill, drillClauses, locateLatestDump, scratchDatabaseName, drillResultId, DRILL_KIND, DRILL_STEP_LABEL } from './restore-drill.js';
export type { DrillOptions, DrillProgress, DrillStep } from './restore-drill.js';
export { postgresDrillServer, mariadbDrillServer, DropDatabaseSwitches, SCRATCH_PREFIX } from './drill-server.js';
export type { DrillServer, DrillEngine } from './drill-server.js';
export { judgeValidation } from './validation.js';
export type { ValidationOutcome, ValidationSpec } from './validation.js';
export { DrillErrors } from './errors.js';
