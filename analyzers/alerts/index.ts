export { mlpsClause, mlpsRefs } from './mlps-refs.js';
export { DEFAULT_SUPPRESS_MS, readAlertPolicy } from './alert-policy.js';
export type { AlertPolicy } from './alert-policy.js';
export { AlertBuilder } from './alert-builder.js';
export type { AlertBuilderOptions, AlertContribution } from './alert-builder.js';
export { AlertSink } from './alert-sink.js';
export type { AlertFlushResult, AlertSinkOptions } from './alert-sink.js';
export { Analyzer, correlationOnlyRules } from './analyzer.js';
export type { AnalyzerOptions, SignalForward, SignalMatcher } from './analyzer.js';
