import { ruleInfo, type RuleInfo } from './analysis.js';
import { compileRuleSet, loadDefaultMapping, parseRuleText, type FieldMapping } from './sigma/index.js';
import type { RuleProblem } from './types.js';

/** What trying a pasted rule gives: the matches per event, or why the rule cannot run. Plain data (crosses threads). */
export type RuleTrial =
  | {
    ok: true;
    rules: Omit<RuleInfo, 'file'>[];
    warnings: string[];
    matched: number;
    results: { index: number; matched: string[] }[];
  }
  | { ok: false; problem: string };

const PASTED = 'pasted-rule.yml';
const describeProblem = (p: RuleProblem) => `第 ${p.line} 行 line ${p.line}: ${p.message}`;

let defaultMapping: FieldMapping | undefined;

/**
 * Parses, compiles and runs one pasted rule text against pasted events. Untrusted input: callers run
 * it in a RuleSandbox (a worker with a time and memory budget), never on a thread that serves others.
 */
export function tryRule(text: string, events: readonly Record<string, unknown>[], mapping?: FieldMapping): RuleTrial {
  const parsed = parseRuleText(text, PASTED);
  const set = compileRuleSet(parsed.documents, { mapping: mapping ?? (defaultMapping ??= loadDefaultMapping()) });
  const problems = [...parsed.problems, ...set.problems].sort((a, b) => a.line - b.line);
  const errors = problems.filter((p) => p.severity === 'error');
  if (errors.length) return { ok: false, problem: `rule ${errors.map(describeProblem).join('; ')}` };
  if (set.rules.length === 0) return { ok: false, problem: 'rule: 没有可试跑的单事件检测规则 / no single-event detection rule to test' };
  const results = events.map((event, index) => ({ index, matched: set.match(event).map((ref) => ref.id) }));
  return {
    ok: true,
    rules: parsed.documents.map(ruleInfo).map(({ file: _file, ...info }) => info),
    warnings: problems.filter((p) => p.severity === 'warning').map(describeProblem),
    matched: results.filter((r) => r.matched.length > 0).length,
    results,
  };
}
