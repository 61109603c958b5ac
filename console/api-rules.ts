import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import {
  compileRuleSet, loadDefaultMapping, parseRuleText, ruleInfo, type FieldMapping, type RuleInfo, type RuleProblem,
} from '../analyzers/index.js';
import { RULE_LEVELS } from '../core/index.js';
import { found, recordAction, type ApiOptions } from './api-context.js';
import { ConsoleErrors } from './errors.js';
import type { RuleSwitches } from './rule-switches.js';
import { queryList } from './routes.js';

export interface RulesDeps {
  /** The rules the running analysis loaded. */
  catalog: () => readonly RuleInfo[];
  switches: RuleSwitches;
  /** Field mapping for the test endpoint; default rules/mappings/default.yaml. */
  mapping?: FieldMapping;
}

export interface RulesApiOptions extends ApiOptions {
  rules?: RulesDeps;
}

const MAX_RULE_TEXT = 64 * 1024;
const MAX_TEST_EVENTS = 1000;
const PASTED = 'pasted-rule.yml';

const describeProblem = (p: RuleProblem) => `第 ${p.line} 行 line ${p.line}: ${p.message}`;

/** 规则: the loaded rules, switching them on and off, and trying a rule against pasted events. */
export const rulesApi: FastifyPluginAsync<RulesApiOptions> = async (app, { store, routes, rules }) => {
  const deps = () => {
    if (!rules) throw ConsoleErrors.unavailable('rules');
    return rules;
  };
  let mapping: FieldMapping | undefined = rules?.mapping;
  const view = (info: RuleInfo) => ({ ...info, enabled: deps().switches.isEnabled(info.id) });

  routes.add(app, {
    method: 'GET', url: '/api/rules', tag: 'rules', access: 'rules:read',
    summary: '已加载的规则：id、标题、级别、标签、等保条款、类型、是否启用 / loaded rules with level, tags, MLPS clauses, kind, enabled',
    query: z.strictObject({
      level: queryList(z.enum(RULE_LEVELS)).optional(),
      kind: queryList(z.enum(['detection', 'correlation', 'filter'])).optional(),
      enabled: z.enum(['true', 'false']).optional(),
      q: z.string().max(200).optional(),
    }),
    handler: async ({ query }) => {
      const text = query.q?.toLowerCase();
      const items = deps().catalog().map(view).filter((rule) =>
        (!query.level || query.level.includes(rule.level))
        && (!query.kind || query.kind.includes(rule.kind))
        && (query.enabled === undefined || String(rule.enabled) === query.enabled)
        && (!text || `${rule.id} ${rule.title} ${rule.tags.join(' ')}`.toLowerCase().includes(text)));
      return { items, total: items.length };
    },
  });

  routes.add(app, {
    method: 'PATCH', url: '/api/rules/:id', tag: 'rules', access: 'rules:write',
    summary: '启用或停用规则（立即生效，重启后保留）/ enable or disable a rule (at once, kept across restarts)',
    params: z.strictObject({ id: z.string().min(1).max(200) }),
    body: z.strictObject({ enabled: z.boolean() }),
    handler: async ({ params, body, request }) => {
      const rule = found(deps().catalog().find((r) => r.id === params.id), 'rule', params.id);
      await deps().switches.set(rule.id, body.enabled);
      await recordAction(store, request, body.enabled ? 'rule.enable' : 'rule.disable', rule.id, { title: rule.title });
      return view(rule);
    },
  });

  routes.add(app, {
    method: 'POST', url: '/api/rules/test', tag: 'rules', access: 'rules:read',
    summary: '用粘贴的事件试跑一条规则（Sigma YAML）/ test a pasted Sigma rule against pasted events',
    body: z.strictObject({
      rule: z.string().min(1).max(MAX_RULE_TEXT),
      events: z.array(z.record(z.string(), z.unknown())).min(1).max(MAX_TEST_EVENTS),
    }),
    handler: async ({ body }) => {
      const parsed = parseRuleText(body.rule, PASTED);
      const risky = parsed.documents.flatMap((doc) => unboundedRegexes(doc.body.detection));
      if (risky.length) {
        throw ConsoleErrors.requestInvalid(
          `rule: 正则可能无限回溯（量词嵌套或反向引用），试跑拒绝 / a regex that can backtrack without bound (nested quantifiers or a backreference) is refused here: ${risky.map((r) => JSON.stringify(r)).join(', ')}`,
        );
      }
      mapping ??= loadDefaultMapping();
      const set = compileRuleSet(parsed.documents, { mapping });
      const problems = [...parsed.problems, ...set.problems].sort((a, b) => a.line - b.line);
      const errors = problems.filter((p) => p.severity === 'error');
      if (errors.length) throw ConsoleErrors.requestInvalid(`rule ${errors.map(describeProblem).join('; ')}`);
      if (set.rules.length === 0) {
        throw ConsoleErrors.requestInvalid('rule: 没有可试跑的单事件检测规则 / no single-event detection rule to test');
      }
      const results = body.events.map((event, index) => ({ index, matched: set.match(event).map((ref) => ref.id) }));
      return {
        rules: parsed.documents.map(ruleInfo).map(({ file: _file, ...info }) => info),
        warnings: problems.filter((p) => p.severity === 'warning').map(describeProblem),
        matched: results.filter((r) => r.matched.length > 0).length,
        results,
      };
    },
  });
};

/**
 * Pasted rules run on the console's own thread, where one catastrophic regex would stall the console,
 * the collectors and the analyzers alike. Refused: a repeated group that itself repeats (`(a+)+`,
 * `(\w*\s?)*`) and backreferences. Rule files on disk are the operators' own and are not checked.
 */
function unboundedRegexes(value: unknown, key = ''): string[] {
  if (typeof value === 'string') {
    const isRegex = key.split('|').slice(1).includes('re');
    return isRegex && (nestedQuantifier(value) || /\\[1-9]|\\k</.test(value)) ? [value] : [];
  }
  if (Array.isArray(value)) return value.flatMap((item) => unboundedRegexes(item, key));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([name, item]) => unboundedRegexes(item, name));
  return [];
}

function nestedQuantifier(pattern: string): boolean {
  const outer: boolean[] = [];
  let repeats = false; // the group being read holds a quantifier
  for (let i = 0; i < pattern.length; i += 1) {
    const c = pattern[i];
    if (c === '\\') i += 1;
    else if (c === '[') {
      for (i += 1; i < pattern.length && pattern[i] !== ']'; i += 1) if (pattern[i] === '\\') i += 1;
    } else if (c === '(') {
      outer.push(repeats);
      repeats = false;
    } else if (c === ')') {
      const quantified = /^(?:[*+]|\{\d+,)/.test(pattern.slice(i + 1));
      if (quantified && repeats) return true;
      repeats = (outer.pop() ?? false) || repeats || quantified;
    } else if (c === '*' || c === '+' || (c === '{' && /^\{\d+,/.test(pattern.slice(i)))) repeats = true;
  }
  return false;
}
