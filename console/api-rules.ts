import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import {
  RuleBudgetError, RuleInputError, RuleSandbox, type FieldMapping, type RuleInfo, type RuleSandboxOptions, type RuleTrial,
} from '../analyzers/index.js';
import { RULE_LEVELS, recordShapeProblem } from '../core/index.js';
import { found, recordAction, type ApiOptions } from './api-context.js';
import { ConsoleErrors } from './errors.js';
import type { RuleSwitches } from './rule-switches.js';
import { scopeOf } from './roles.js';
import { queryList } from './routes.js';

export interface RulesDeps {
  /** The rules the running analysis loaded. */
  catalog: () => readonly RuleInfo[];
  switches: RuleSwitches;
  /** Field mapping for the test endpoint; default rules/mappings/default.yaml. */
  mapping?: FieldMapping;
  /** Budget of each pasted-rule trial (worker thread); default 2 s and 128 MB. */
  budget?: RuleSandboxOptions;
}

export interface RulesApiOptions extends ApiOptions {
  rules?: RulesDeps;
}

const MAX_RULE_TEXT = 64 * 1024;
const MAX_TEST_EVENTS = 1000;
const RULES_SWITCH_SCOPE = 'rules:write，且不限部门（规则对所有部门生效）/ rules:write without a department scope (a rule applies to every department)';

/** 规则: the loaded rules, switching them on and off, and trying a rule against pasted events. */
export const rulesApi: FastifyPluginAsync<RulesApiOptions> = async (app, { store, routes, rules }) => {
  const deps = () => {
    if (!rules) throw ConsoleErrors.unavailable('rules');
    return rules;
  };
  // Pasted rules run in a worker with a budget: a catastrophic regex stops there, not the console.
  let sandboxed: RuleSandbox | undefined;
  const sandbox = () => (sandboxed ??= new RuleSandbox(rules?.budget));
  app.addHook('onClose', async () => sandboxed?.close());
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
    handler: async ({ params, body, request, auth }) => {
      // Rules apply to every department: a user scoped to some departments may not switch them for all.
      if (scopeOf(auth.user)) throw ConsoleErrors.forbidden(RULES_SWITCH_SCOPE);
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
      // The same bounds as ingested records: a pasted event nested thousands deep cannot even be copied to the worker.
      for (const [i, event] of body.events.entries()) {
        const problem = recordShapeProblem(event);
        if (problem) throw ConsoleErrors.requestInvalid(`events[${i}]: ${problem}`);
      }
      let trial: RuleTrial;
      try {
        trial = await sandbox().run(body.rule, body.events, rules?.mapping);
      } catch (error) {
        if (error instanceof RuleInputError) throw ConsoleErrors.requestInvalid(error.message);
        if (error instanceof RuleBudgetError) {
          throw error.budget === 'queue' ? ConsoleErrors.ruleBusy(error.limit) : ConsoleErrors.ruleBudget(error.budget, error.limit);
        }
        throw error;
      }
      if (!trial.ok) throw ConsoleErrors.requestInvalid(trial.problem);
      const { ok: _ok, ...result } = trial;
      return result;
    },
  });
};
