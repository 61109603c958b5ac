import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { SUPPRESSION_MAX_DAYS, type AlertSuppression } from '../core/index.js';
import { found, recordAction, type ApiOptions } from './api-context.js';
import { scopeOf } from './roles.js';

const DAY_MS = 86_400_000;

export const SuppressionView = z.strictObject({
  id: z.string(), ruleId: z.string(), ruleTitle: z.string().optional(), groupKey: z.string().optional(), department: z.string().optional(),
  reason: z.string(), createdBy: z.string(), createdAt: z.string(), expiresAt: z.string(),
});

const Suppress = z.strictObject({
  /** Why the noise is understood: what a reviewer reads in the audit trail. */
  reason: z.string().trim().min(1).max(500),
  /** Required and bounded: a suppression always ends. */
  days: z.number().int().min(1).max(SUPPRESSION_MAX_DAYS),
  /** `group`: this alert's group key only (e.g. one scanner address); `rule`: every alert of the rule in the department. */
  match: z.enum(['group', 'rule']).default('group'),
});

/**
 * 屏蔽 Suppressions, made from an alert: matching alerts are still stored and counted (evidence), but marked and not
 * notified, until they expire or are deleted. The department is the alert's, read within the caller's scope; list and
 * delete filter by scope in the store query.
 */
export const suppressionsApi: FastifyPluginAsync<ApiOptions> = async (app, { store, routes }) => {
  routes.add(app, {
    method: 'POST', url: '/api/alerts/:id/suppress', tag: 'alerts', access: 'alerts:triage', status: 201,
    summary: `从告警创建屏蔽：同规则（可限本分组）、本部门，须写原因，最长 ${SUPPRESSION_MAX_DAYS} 天；已有的和新来的匹配告警照常保存并计入证据，但立即标记为已屏蔽、默认不列出且不发通知 / suppress from an alert: its rule (optionally its group only) in its department, with a reason, for at most ${SUPPRESSION_MAX_DAYS} days; matching alerts, stored ones at once and new ones as they come, are still stored and counted, but marked, left out of the default list and not notified`,
    params: z.strictObject({ id: z.string().min(1).max(200) }), body: Suppress, response: SuppressionView,
    handler: async ({ params, body, auth, request }) => {
      const alert = found(await store.alerts.get(params.id, scopeOf(auth.user)), 'alert', params.id);
      const now = Date.now();
      const suppression: AlertSuppression = {
        id: randomUUID(), ruleId: alert.rule.id, ruleTitle: alert.rule.title,
        ...(body.match === 'group' && alert.groupKey !== undefined ? { groupKey: alert.groupKey } : {}),
        ...(alert.department !== undefined ? { department: alert.department } : {}),
        reason: body.reason, createdBy: auth.user.username,
        createdAt: new Date(now).toISOString(), expiresAt: new Date(now + body.days * DAY_MS).toISOString(),
      };
      await store.alerts.createSuppression(suppression);
      await recordAction(store, request, 'alert.suppress', { id: suppression.id, departments: [alert.department] }, {
        alert: alert.id, ruleId: suppression.ruleId, ...(suppression.groupKey !== undefined ? { groupKey: suppression.groupKey } : {}),
        days: body.days, expiresAt: suppression.expiresAt, reason: body.reason,
      });
      return suppression;
    },
  });

  routes.add(app, {
    method: 'GET', url: '/api/suppressions', tag: 'alerts', access: 'alerts:read',
    summary: '生效中的屏蔽（本人部门范围内）/ active suppressions in the caller\'s departments',
    response: z.strictObject({ items: z.array(SuppressionView) }),
    handler: async ({ auth }) => ({ items: await store.alerts.activeSuppressions(new Date(), scopeOf(auth.user)) }),
  });

  routes.add(app, {
    method: 'DELETE', url: '/api/suppressions/:id', tag: 'alerts', access: 'alerts:triage', status: 204,
    summary: '提前结束屏蔽：它标记的告警立即重新列出 / end a suppression early: the alerts it marked are listed again at once', params: z.strictObject({ id: z.string().min(1).max(200) }),
    handler: async ({ params, auth, request }) => {
      const deleted = found(await store.alerts.deleteSuppression(params.id, scopeOf(auth.user)), 'suppression', params.id);
      await recordAction(store, request, 'alert.unsuppress', { id: deleted.id, departments: [deleted.department] }, {
        ruleId: deleted.ruleId, ...(deleted.groupKey !== undefined ? { groupKey: deleted.groupKey } : {}),
      });
      return undefined;
    },
  });
};
