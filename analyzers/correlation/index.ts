export { CORRELATION_TYPES, compileCorrelation, linkCorrelations, parseTimespan, fieldFor } from './compile.js';
export type { CompiledCorrelation, CorrelationType } from './compile.js';
export { Correlator } from './correlator.js';
export type { CorrelatorOptions, CorrelatorSnapshot } from './correlator.js';
export { CorrelationStateFile } from './state-file.js';
