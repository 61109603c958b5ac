import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { loadMlpsCatalog, type MlpsCatalog } from '../analyzers/index.js';
import { ALERT_STATUSES, RULE_LEVELS, ShouwangError, type AlertStatusChange } from '../core/index.js';
import type { AlertQuery } from '../store/index.js';
import { found, recordAction, setFilters, type ApiOptions } from './api-context.js';
import { scopeOf } from './roles.js';
import { isoTime, pageOf, pageQuery, queryList } from './routes.js';

const AlertId = z.strictObject({ id: z.string().min(1).max(200) });
const Change = z.strictObject({
  status: z.enum(ALERT_STATUSES).optional(),
  assignee: z.string().min(1).max(64).nullable().optional(),
  comment: z.string().min(1).max(2000).optional(),
}).refine((c) => c.status !== undefined || c.assignee !== undefined || c.comment !== undefined,
  '至少需要 status、assignee 或 comment 之一 / needs status, assignee or comment');

const AlertListQuery = z.strictObject({
  level: queryList(z.enum(RULE_LEVELS)).optional(),
  status: queryList(z.enum(ALERT_STATUSES)).optional(),
  department: queryList(z.string().max(100)).optional(),
  system: queryList(z.string().max(100)).optional(),
  rule: queryList(z.string().max(200)).optional(),
  mlps: z.string().max(50).optional(),
  assignee: z.string().max(64).optional(),
  from: isoTime.optional(),
  to: isoTime.optional(),
  ...pageQuery,
});

function toChange(change: z.output<typeof Change>, actor: string): AlertStatusChange {
  return {
    actor,
    ...(change.status !== undefined ? { status: change.status } : {}),
    ...(change.assignee !== undefined ? { assignee: change.assignee } : {}),
    ...(change.comment !== undefined ? { comment: change.comment } : {}),
  };
}

/** Alert list and triage; the caller's department scope goes into every store call. */
/** The shipped MLPS catalog, read once: the alert detail resolves the clauses it cites to their texts. */
let catalog: MlpsCatalog | undefined;
const mlpsCatalog = () => (catalog ??= loadMlpsCatalog());

export const alertsApi: FastifyPluginAsync<ApiOptions> = async (app, { store, routes }) => {
  routes.add(app, {
    method: 'GET', url: '/api/alerts', tag: 'alerts', access: 'alerts:read',
    summary: '告警列表：级别、状态、部门、系统、规则、等保条款、时间 / alerts by level, status, department, system, rule, MLPS clause, time',
    query: AlertListQuery,
    handler: async ({ query, auth }) => {
      const alertQuery: AlertQuery = setFilters({
        level: query.level, status: query.status, department: query.department, system: query.system, ruleId: query.rule,
        mlps: query.mlps, assignee: query.assignee, from: query.from, to: query.to, scope: scopeOf(auth.user),
      });
      return store.alerts.search(alertQuery, pageOf(query));
    },
  });

  routes.add(app, {
    method: 'GET', url: '/api/alerts/:id', tag: 'alerts', access: 'alerts:read',
    summary: '告警详情：时间线，所引等保条款的要求原文与测评单元 / one alert with its timeline and the text and 28448 test unit of each MLPS clause it cites',
    params: AlertId,
    handler: async ({ params, auth }) => {
      const alert = found(await store.alerts.get(params.id, scopeOf(auth.user)), 'alert', params.id);
      return { ...alert, mlpsRequirements: mlpsCatalog().resolveRefs(alert.mlps) };
    },
  });

  routes.add(app, {
    method: 'PATCH', url: '/api/alerts/:id', tag: 'alerts', access: 'alerts:triage',
    summary: '处置告警：状态、指派、备注 / triage: status, assignee, comment', params: AlertId, body: Change,
    handler: async ({ params, body, auth, request }) => {
      const alert = await store.alerts.update(params.id, toChange(body, auth.user.username), scopeOf(auth.user));
      await recordAction(store, request, 'alert.update', { id: params.id, departments: [alert.department] }, { ...body });
      return alert;
    },
  });

  routes.add(app, {
    method: 'POST', url: '/api/alerts/bulk', tag: 'alerts', access: 'alerts:triage',
    summary: '批量处置，逐条返回结果 / bulk triage with an outcome per alert',
    body: z.strictObject({ ids: z.array(z.string().min(1).max(200)).min(1).max(500), change: Change }),
    handler: async ({ body, auth, request }) => {
      const scope = scopeOf(auth.user);
      const change = toChange(body.change, auth.user.username);
      const results: { id: string; ok: boolean; status?: string; code?: string; message?: string }[] = [];
      const departments = new Set<string | undefined>();
      for (const id of new Set(body.ids)) {
        try {
          const alert = await store.alerts.update(id, change, scope);
          results.push({ id, ok: true, status: alert.status });
          departments.add(alert.department);
        } catch (error) {
          if (!(error instanceof ShouwangError) || error.statusCode >= 500) throw error;
          results.push({ id, ok: false, code: error.code, message: error.message });
        }
      }
      // Seen by a scoped reviewer only when every updated alert is in their departments.
      await recordAction(store, request, 'alert.bulk_update', { departments: [...departments] }, {
        change: body.change, updated: results.filter((r) => r.ok).map((r) => r.id), failed: results.filter((r) => !r.ok).map((r) => r.id),
      });
      return { results };
    },
  });
};
