import { defineError } from '../../core/index.js';

/** Errors of the rule engine that stop a command; problems inside rule files are RuleProblems instead. */
export const RuleErrors = {
  ruleRead: defineError('SW_ERR_RULE_READ', 400, (path: string, reason: string) =>
    `无法读取规则 / cannot read rules at ${path}: ${reason}`),
  mappingInvalid: defineError('SW_ERR_RULE_MAPPING', 400, (where: string, problems: string) =>
    `字段映射无效 / invalid field mapping (${where}):\n${problems}`),
  placeholdersInvalid: defineError('SW_ERR_RULE_PLACEHOLDERS', 400, (where: string, problems: string) =>
    `占位符文件无效 / invalid placeholders file (${where}):\n${problems}`),
};
