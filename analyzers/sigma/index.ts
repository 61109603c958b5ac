export { parseRuleText, loadRuleDir, loadRuleFile, listRuleFiles, isTestVectorFile } from './parse.js';
export type { ParseOptions, ParsedRules } from './parse.js';
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
