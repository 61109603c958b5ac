export { parseRuleText, loadRuleDir, loadRuleFile, listRuleFiles, isTestVectorFile } from './parse.js';
export type { ParseOptions, ParsedRules, RejectedDocument } from './parse.js';
export type {
  Correlation, CustomAttributes, Detection, FieldMatcher, MatchValue, Search, ShouwangAttributes, YamlValue,
} from './rule-tree.js';
export { buildDetection } from './detection-tree.js';
export { compileDetection, fieldGetter, DetectionError } from './detection.js';
export type { DetectionContext, EventPredicate, EventRecord } from './detection.js';
export { parseCondition, ConditionError } from './condition.js';
export type { ConditionNode } from './condition.js';
export { MODIFIERS } from './modifiers.js';
export {
  identityMapping, parseFieldMapping, loadFieldMapping, loadDefaultMapping, defaultMappingPath, resolveLogsource,
} from './mapping.js';
export type { FieldMapping, Logsource, LogsourceMapping, ResolvedLogsource } from './mapping.js';
export { compileRuleSet } from './rule-set.js';
export type { CompileOptions, CompiledRule, CompiledRuleSet } from './rule-set.js';
export { RuleErrors } from './errors.js';
export { loadPlaceholders, mergePlaceholders, parsePlaceholders } from './placeholders.js';
export type { Placeholders } from './placeholders.js';
