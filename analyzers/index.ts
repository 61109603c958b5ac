export * from './types.js';
export * from './sigma/index.js';
export * from './mlps/index.js';
export * from './correlation/index.js';
export * from './alerts/index.js';
export * from './coverage/index.js';
export { ruleInfo, startAnalysis } from './analysis.js';
export type { Analysis, AnalysisOptions, RuleInfo } from './analysis.js';
