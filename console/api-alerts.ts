import { dirname, join } from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { defaultMlpsCatalogPath, loadMlpsCatalog, type MlpsCatalog } from '../analyzers/index.js';
import { ALERT_STATUSES, getField, RULE_LEVELS, ShouwangError, type Alert, type AlertStatusChange, type ShouwangEvent } from '../core/index.js';
import { ALERT_SORT_FIELDS, type AlertQuery, type Scope, type Store } from '../store/index.js';
import { RuleBook } from './alert-explain.js';
import { found, recordAction, setFilters, type ApiOptions } from './api-context.js';
import { ConsoleErrors } from './errors.js';
import { can, scopeOf } from './roles.js';
import { AlertDetail, AlertPage, AlertView, RelatedAlerts } from './api-responses.js';
import { isoTime, operationIdOf, pageOf, pageQuery, queryList } from './routes.js';

const AlertId = z.strictObject({ id: z.string().min(1).max(200) });
/** The first alert of a list: what its detail, related alerts and triage take. */
const FIRST_ALERT = { id: '$response.body#/items/0/id' };
const Change = z.strictObject({
  status: z.enum(ALERT_STATUSES).optional(),
  assignee: z.string().min(1).max(64).nullable().optional(),
  comment: z.string().min(1).max(2000).optional(),
}).refine((c) => c.status !== undefined || c.assignee !== undefined || c.comment !== undefined,
  '至少需要 status、assignee 或 comment 之一 / needs status, assignee or comment')
  // Closing is the decision a reviewer reads later: it says why (the timeline's status entry carries it).
  .refine((c) => !(c.status === 'resolved' || c.status === 'false_positive') || c.comment !== undefined,
    '关闭告警（resolved、false_positive）须在 comment 中写明原因 / closing an alert needs a comment saying why');

const AlertFilters = {
  level: queryList(z.enum(RULE_LEVELS)).optional(),
  status: queryList(z.enum(ALERT_STATUSES)).optional(),
  department: queryList(z.string().max(100)).optional(),
  system: queryList(z.string().max(100)).optional(),
  rule: queryList(z.string().max(200)).optional(),
  mlps: z.string().max(50).optional(),
  mlpsLevel: queryList(z.coerce.number().int().min(1).max(5)).optional(),
  assignee: z.string().max(64).optional(),
  from: isoTime.optional(),
  to: isoTime.optional(),
  /** Alerts a suppression marked: hidden by default, `show` lists them too, `only` alone. */
  suppressed: z.enum(['hide', 'show', 'only']).default('hide'),
};
const AlertListQuery = z.strictObject({
  ...AlertFilters,
  /** Default priority, then last seen: the worst alerts first. */
  sort: z.enum(ALERT_SORT_FIELDS).optional(),
  ...pageQuery,
});
const AlertGroupQuery = z.strictObject({ ...AlertFilters, by: z.enum(['rule', 'system']) });

/** The store query of the list filters, inside the caller's scope. */
function filtersOf(query: z.output<z.ZodObject<typeof AlertFilters>>, scope: Scope | undefined): AlertQuery {
  return setFilters({
    level: query.level, status: query.status, department: query.department, system: query.system, ruleId: query.rule,
    mlps: query.mlps, mlpsLevel: query.mlpsLevel, assignee: query.assignee, from: query.from, to: query.to, scope,
    suppressed: query.suppressed === 'show' ? undefined : query.suppressed === 'only',
  });
}

/** Related alerts: ±1 h around the alert, through the events that share its host, user or source address. */
const RELATED_WINDOW_MS = 3_600_000;
const RELATED_FIELDS = ['host.name', 'user.name', 'source.ip'] as const;
const RELATED_EVENTS_PER_ENTITY = 200;
const RELATED_VALUES_PER_FIELD = 5;
const SAMPLES_READ = 10;

/** The alert's sample events the caller may see; one that is gone or out of scope is left out. */
async function sampleEvents(store: Store, alert: Alert, scope: Scope | undefined): Promise<ShouwangEvent[]> {
  const events = await Promise.all(alert.sampleEventIds.slice(0, SAMPLES_READ).map((id) => store.events.get(id, scope)));
  return events.filter((e): e is ShouwangEvent => e !== undefined);
}

function toChange(change: z.output<typeof Change>, actor: string): AlertStatusChange {
  return {
    actor,
    ...(change.status !== undefined ? { status: change.status } : {}),
    ...(change.assignee !== undefined ? { assignee: change.assignee } : {}),
    ...(change.comment !== undefined ? { comment: change.comment } : {}),
  };
}

/**
 * An assignee must be able to act on the alert: an enabled user who reads alerts and whose departments
 * include the alert's. Anyone else (a typo, a disabled account, another department's viewer) would hold
 * the alert where nobody works on it. Null (unassign) is always fine.
 */
async function checkAssignee(store: Store, change: AlertStatusChange, department: string | undefined): Promise<void> {
  if (change.assignee === undefined || change.assignee === null) return;
  const user = await store.users.get(change.assignee);
  const scope = user ? scopeOf(user) : undefined;
  const sees = user !== undefined && !user.disabled && can(user.role, 'alerts:read')
    && (!scope?.departments || (department !== undefined && scope.departments.includes(department)));
  if (!sees) {
    throw ConsoleErrors.requestInvalid(`assignee: ${change.assignee} 不存在、已停用或看不到该部门的告警 / does not exist, is disabled or cannot see this department's alerts`);
  }
}

/** The shipped MLPS catalog, read once: the alert detail resolves the clauses it cites to their texts. */
let catalog: MlpsCatalog | undefined;
const mlpsCatalog = () => (catalog ??= loadMlpsCatalog());
/** The shipped rules (rules/shouwang, next to the MLPS catalog), read once, for "why it matched" and the response. */
let shippedRules: Promise<RuleBook> | undefined;
// Without readable rules the detail still answers, only without the explanation's rule part.
const shippedRuleBook = () =>
  (shippedRules ??= RuleBook.load(join(dirname(dirname(defaultMlpsCatalogPath())), 'shouwang')).catch(() => new RuleBook([])));

const getText = (event: ShouwangEvent, field: string) => {
  const value = getField(event, field);
  return typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;
};

export interface AlertsApiOptions extends ApiOptions {
  /** The rules the analysis runs; default the shipped rules. */
  ruleBook?: () => Promise<RuleBook>;
}

/** Alert list, groups, detail, related alerts and triage; the caller's department scope goes into every store call. */
export const alertsApi: FastifyPluginAsync<AlertsApiOptions> = async (app, { store, routes, ruleBook = shippedRuleBook }) => {
  routes.add(app, {
    method: 'GET', url: '/api/alerts', tag: 'alerts', access: 'alerts:read',
    summary: '告警列表：级别、状态、部门、系统、规则、等保条款、等保级别、时间；按任一列排序（默认优先级、最近发生）/ alerts by level, status, department, system, rule, MLPS clause and level, time; sorted by any column (default priority, then last seen)',
    query: AlertListQuery, response: AlertPage,
    links: {
      GetAlert: { operationId: operationIdOf('GET', '/api/alerts/:id'), parameters: FIRST_ALERT },
      GetRelatedAlerts: { operationId: operationIdOf('GET', '/api/alerts/:id/related'), parameters: FIRST_ALERT },
      TriageAlert: { operationId: operationIdOf('PATCH', '/api/alerts/:id'), parameters: FIRST_ALERT },
      GetSampleEvent: { operationId: operationIdOf('GET', '/api/events/:id'), parameters: { id: '$response.body#/items/0/sampleEventIds/0' } },
    },
    handler: async ({ query, auth }) =>
      store.alerts.search(filtersOf(query, scopeOf(auth.user)), { ...pageOf(query), sort: query.sort ?? 'priority' }),
  });

  routes.add(app, {
    method: 'GET', url: '/api/alerts/groups', tag: 'alerts', access: 'alerts:read',
    summary: '按规则或系统分组的告警数（筛选条件同列表）/ alert counts per rule or system, with the list filters',
    query: AlertGroupQuery,
    handler: async ({ query, auth }) => {
      const groups = await store.alerts.groups(filtersOf(query, scopeOf(auth.user)), query.by === 'rule' ? 'ruleId' : 'system');
      return { by: query.by, groups };
    },
  });

  routes.add(app, {
    method: 'GET', url: '/api/alerts/:id/related', tag: 'alerts', access: 'alerts:read',
    summary: '相关告警：前后 1 小时内同主机、同用户或同源地址 / related alerts: same host, user or source address within ±1 h',
    params: AlertId, response: RelatedAlerts,
    handler: async ({ params, auth }) => {
      const scope = scopeOf(auth.user);
      const alert = found(await store.alerts.get(params.id, scope), 'alert', params.id);
      const samples = await sampleEvents(store, alert, scope);
      const from = new Date(Date.parse(alert.firstSeen) - RELATED_WINDOW_MS).toISOString();
      const to = new Date(Date.parse(alert.lastSeen) + RELATED_WINDOW_MS + 1).toISOString();
      // Each entity's events in the window (in scope), then the alerts that sampled any of them.
      const via = new Map<string, { field: string; value: string }[]>();
      for (const field of RELATED_FIELDS) {
        const values = new Set(samples.map((e) => getText(e, field)).filter((v): v is string => v !== undefined));
        // A bounded number of look-ups however many samples differ: at most a few values per field.
        for (const value of [...values].slice(0, RELATED_VALUES_PER_FIELD)) {
          const page = await store.events.search({ filters: { [field]: value }, from, to, scope }, { size: RELATED_EVENTS_PER_ENTITY });
          for (const event of page.items) via.set(event.id, [...(via.get(event.id) ?? []), { field, value }]);
        }
      }
      if (!via.size) return { items: [], window: { from, to } };
      const page = await store.alerts.search({ eventIds: [...via.keys()], from, scope }, { sort: 'priority', size: 50 });
      const items = page.items.filter((a) => a.id !== alert.id).map((a) => {
        const links = a.sampleEventIds.flatMap((id) => via.get(id) ?? []);
        const unique = [...new Map(links.map((l) => [`${l.field}=${l.value}`, l])).values()];
        return { ...a, via: unique };
      });
      return { items, window: { from, to } };
    },
  });

  routes.add(app, {
    method: 'GET', url: '/api/alerts/:id', tag: 'alerts', access: 'alerts:read',
    summary: '告警详情：时间线，所引等保条款的要求原文与测评单元，规则说明、命中字段、实体与处置建议 / one alert with its timeline, the text and 28448 test unit of each MLPS clause it cites, and why it matched (rule, fields, entities, response)',
    params: AlertId, response: AlertDetail,
    handler: async ({ params, auth }) => {
      const scope = scopeOf(auth.user);
      const alert = found(await store.alerts.get(params.id, scope), 'alert', params.id);
      const explanation = (await ruleBook()).explain(alert.rule.id, await sampleEvents(store, alert, scope));
      return { ...alert, mlpsRequirements: mlpsCatalog().resolveRefs(alert.mlps), explanation };
    },
  });

  routes.add(app, {
    method: 'PATCH', url: '/api/alerts/:id', tag: 'alerts', access: 'alerts:triage',
    summary: '处置告警：状态、指派、备注 / triage: status, assignee, comment', params: AlertId, body: Change, response: AlertView,
    links: { GetAlert: { operationId: operationIdOf('GET', '/api/alerts/:id'), parameters: { id: '$response.body#/id' } } },
    handler: async ({ params, body, auth, request }) => {
      const change = toChange(body, auth.user.username);
      if (change.assignee) await checkAssignee(store, change, found(await store.alerts.get(params.id, scopeOf(auth.user)), 'alert', params.id).department);
      const alert = await store.alerts.update(params.id, change, scopeOf(auth.user));
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
      const failed: string[] = [];
      let outOfScope = 0;
      for (const id of new Set(body.ids)) {
        try {
          // An alert out of scope or gone is left to update's "not found", as without an assignee.
          const target = change.assignee ? await store.alerts.get(id, scope) : undefined;
          if (target) await checkAssignee(store, change, target.department);
          const alert = await store.alerts.update(id, change, scope);
          results.push({ id, ok: true, status: alert.status });
          departments.add(alert.department);
        } catch (error) {
          if (!(error instanceof ShouwangError) || error.statusCode >= 500) throw error;
          results.push({ id, ok: false, code: error.code, message: error.message });
          // A failed alert the caller can see files the entry under its department too. An id outside a
          // scoped caller's departments (maybe another department's alert) is only counted: listing it
          // under this entry's departments would show it to their reviewers.
          const seen = await store.alerts.get(id, scope);
          if (seen) departments.add(seen.department);
          if (seen || !scope) failed.push(id);
          else outOfScope += 1;
        }
      }
      // Seen by a scoped reviewer only when every alert it lists is in their departments.
      await recordAction(store, request, 'alert.bulk_update', { departments: [...departments] }, {
        change: body.change, updated: results.filter((r) => r.ok).map((r) => r.id), failed, ...(outOfScope ? { notFound: outOfScope } : {}),
      });
      return { results };
    },
  });
};
