import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { isFieldName } from '../core/index.js';
import { parseQuery, QUERY_LIMITS, StoreErrors, type EventQuery, type FieldValue, type JobResultQuery, type Scope } from '../store/index.js';
import { found, setFilters, type ApiOptions } from './api-context.js';
import { scopeOf } from './roles.js';
import { EventPage, EventView, InventoryView } from './api-responses.js';
import { isoTime, operationIdOf, pageOf, pageQuery, queryList } from './routes.js';

const ById = z.strictObject({ id: z.string().min(1).max(300) });

/** `field:value`, e.g. `user.name:root` or `event.outcome:failure`. */
const FieldFilter = z.string().max(300).regex(/^[^:]+:.+$/, '应为 字段:值 / expected field:value').refine(
  (text) => isFieldName(text.slice(0, text.indexOf(':'))), '字段名无效 / bad field name',
);

const EventListQuery = z.strictObject({
  // Longer than the language's own limit, so an over-long query gets its positioned SW_ERR_STORE_INVALID_QUERY.
  q: z.string().max(QUERY_LIMITS.length * 2).optional(),
  from: isoTime.optional(),
  to: isoTime.optional(),
  department: queryList(z.string().max(100)).optional(),
  system: queryList(z.string().max(100)).optional(),
  filter: queryList(FieldFilter).optional(),
  ...pageQuery,
});

function eventFilters(query: z.output<typeof EventListQuery>): Record<string, FieldValue[]> {
  const filters: Record<string, FieldValue[]> = {};
  for (const text of query.filter ?? []) {
    const colon = text.indexOf(':');
    (filters[text.slice(0, colon)] ??= []).push(text.slice(colon + 1));
  }
  if (query.department) (filters['shouwang.department'] ??= []).push(...query.department);
  if (query.system) (filters['shouwang.system'] ??= []).push(...query.system);
  return filters;
}

/** The store query of a search request: the search box parsed once, plus the form's filters, inside the scope. */
function toEventQuery(query: z.output<typeof EventListQuery>, scope: Scope | undefined, timeZone: string | undefined): EventQuery {
  const filters = eventFilters(query);
  return setFilters({
    match: query.q ? parseQuery(query.q, timeZone) : undefined, from: query.from, to: query.to,
    filters: Object.keys(filters).length ? filters : undefined, scope,
  });
}

const { size: _size, after: _after, order: _order, ...EventFilterShape } = EventListQuery.shape;
const EventHistogramQuery = z.strictObject({
  ...EventFilterShape,
  /** Bucket width in ms; absent: a round width giving at most HISTOGRAM_BUCKETS buckets. */
  interval: z.coerce.number().int().min(1000).max(366 * 86_400_000).optional(),
});
const EventTopQuery = z.strictObject({
  ...EventFilterShape,
  field: z.string().max(200).refine(isFieldName, '字段名无效 / bad field name'),
  size: z.coerce.number().int().min(1).max(50).optional(),
});

/** At most this many buckets on the chart; a requested interval that would make more is refused. */
const HISTOGRAM_BUCKETS = 200;
const ROUND_INTERVALS_MS = [1, 5, 10, 30, 60, 300, 600, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86_400, 7 * 86_400, 30 * 86_400]
  .map((seconds) => seconds * 1000);

/** The smallest round interval that covers `span` in at most `buckets` buckets. */
export function histogramInterval(spanMs: number, buckets = 60): number {
  return ROUND_INTERVALS_MS.find((interval) => spanMs / interval <= buckets) ?? ROUND_INTERVALS_MS[ROUND_INTERVALS_MS.length - 1]!;
}

/** The round interval for `span`, or a multiple of the longest one when even that would make more than HISTOGRAM_BUCKETS. */
export function fittingInterval(spanMs: number): number {
  const interval = histogramInterval(spanMs);
  return spanMs / interval <= HISTOGRAM_BUCKETS ? interval : Math.ceil(spanMs / HISTOGRAM_BUCKETS / interval) * interval;
}

/** Events, inventory and backup results, each read inside the caller's department scope. */
export const dataApi: FastifyPluginAsync<ApiOptions> = async (app, { store, routes, timeZone }) => {
  routes.add(app, {
    method: 'GET', url: '/api/events', tag: 'events', access: 'events:read',
    summary: '事件检索：全文、时间、字段过滤（field:value）/ event search: text, time range, field:value filters',
    query: EventListQuery, response: EventPage,
    links: { GetEvent: { operationId: operationIdOf('GET', '/api/events/:id'), parameters: { id: '$response.body#/items/0/id' } } },
    handler: async ({ query, auth }) => store.events.search(toEventQuery(query, scopeOf(auth.user), timeZone), pageOf(query)),
  });

  routes.add(app, {
    method: 'GET', url: '/api/events/histogram', tag: 'events', access: 'events:read',
    summary: '事件时间分布（与检索同一查询）/ events over time for the same query as the search',
    query: EventHistogramQuery,
    handler: async ({ query, auth }) => {
      const scope = scopeOf(auth.user);
      const eventQuery = toEventQuery(query, scope, timeZone);
      // Without a time range the chart spans the data the caller can see.
      const known = query.from && query.to ? undefined : await store.events.range(scope);
      const from = Date.parse(query.from ?? known?.oldest ?? new Date().toISOString());
      const to = Date.parse(query.to ?? known?.newest ?? new Date().toISOString()) + (query.to ? 0 : 1);
      const span = Math.max(to - from, 1000);
      // Only an interval the caller chose can be too fine; without one, data decades apart (a sender whose clock
      // reset to 1970) still fits, in whole multiples of the longest round interval.
      const interval = query.interval ?? fittingInterval(span);
      if (span / interval > HISTOGRAM_BUCKETS) {
        throw StoreErrors.invalidQuery(`时间范围内超过 ${HISTOGRAM_BUCKETS} 个区间 / more than ${HISTOGRAM_BUCKETS} intervals in the time range`);
      }
      return { interval, from: new Date(from).toISOString(), to: new Date(to).toISOString(), buckets: await store.events.histogram(eventQuery, interval) };
    },
  });

  routes.add(app, {
    // The field is a query parameter, not a path segment: paths carry ids here (the route matrix treats them so).
    method: 'GET', url: '/api/events/top', tag: 'events', access: 'events:read',
    summary: '字段的高频值（与检索同一查询）/ the top values of a field for the same query as the search',
    query: EventTopQuery,
    handler: async ({ query, auth }) => ({
      field: query.field, buckets: await store.events.countBy(toEventQuery(query, scopeOf(auth.user), timeZone), query.field, query.size ?? 10),
    }),
  });

  routes.add(app, {
    method: 'GET', url: '/api/events/:id', tag: 'events', access: 'events:read', summary: '单个事件 / one event', params: ById, response: EventView,
    handler: async ({ params, auth }) => {
      return found(await store.events.get(params.id, scopeOf(auth.user)), 'event', params.id);
    },
  });

  routes.add(app, {
    method: 'GET', url: '/api/inventory', tag: 'inventory', access: 'inventory:read',
    summary: '部门与系统 / departments and systems in scope', response: InventoryView,
    links: {
      VerifyBackup: { operationId: operationIdOf('POST', '/api/backup/verify'), requestBody: { system: '$response.body#/systems/0/id' } },
      DrillBackup: { operationId: operationIdOf('POST', '/api/backup/drill'), requestBody: { system: '$response.body#/systems/0/id' } },
    },
    handler: async ({ auth }) => store.assets.getInventory(scopeOf(auth.user)),
  });

  routes.add(app, {
    method: 'GET', url: '/api/backup/results', tag: 'backup', access: 'backup:read',
    summary: '备份核验与演练结果 / backup check and drill results',
    query: z.strictObject({
      kind: z.string().max(100).optional(),
      system: z.string().max(100).optional(),
      status: z.enum(['pass', 'warn', 'fail']).optional(),
      from: isoTime.optional(),
      to: isoTime.optional(),
      ...pageQuery,
    }),
    handler: async ({ query, auth }) => {
      const resultQuery: JobResultQuery = setFilters({
        kind: query.kind, system: query.system, status: query.status, from: query.from, to: query.to, scope: scopeOf(auth.user),
      });
      return store.jobResults.search(resultQuery, pageOf(query));
    },
  });

  routes.add(app, {
    method: 'GET', url: '/api/backup/results/:id', tag: 'backup', access: 'backup:read', summary: '单个结果 / one result', params: ById,
    handler: async ({ params, auth }) => {
      return found(await store.jobResults.get(params.id, scopeOf(auth.user)), 'job result', params.id);
    },
  });

  routes.add(app, {
    method: 'GET', url: '/api/audit', tag: 'audit', access: 'audit:read',
    summary: '控制台审计记录（范围内部门）/ the console audit trail, inside the caller\'s departments',
    query: z.strictObject({ from: isoTime.optional(), to: isoTime.optional(), ...pageQuery }),
    handler: async ({ query, auth }) => store.audit.list(setFilters({ from: query.from, to: query.to, scope: scopeOf(auth.user) }), pageOf(query)),
  });

  routes.add(app, {
    method: 'GET', url: '/api/audit/verify', tag: 'audit', access: 'audit:read',
    summary: '校验审计哈希链与签名检查点 / re-compute the audit hash chain against its signed checkpoints',
    handler: async ({ auth }) => {
      // A chain is only checkable whole, so the server verifies all of it; a scoped caller learns the
      // verdict, the count and the seq range, never which entry of another department broke it.
      const result = await store.audit.verify();
      if (!scopeOf(auth.user)) return result;
      const { ok, count, firstSeq, lastSeq, checkpoints, lastCheckpointSeq, signaturesChecked, problem } = result;
      return { ok, count, firstSeq, lastSeq, checkpoints, lastCheckpointSeq, signaturesChecked, problem, scoped: true };
    },
  });
};
