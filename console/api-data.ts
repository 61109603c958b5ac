import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { isFieldName } from '../core/index.js';
import type { EventQuery, FieldValue, JobResultQuery } from '../store/index.js';
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
  q: z.string().max(500).optional(),
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

/** Events, inventory and backup results, each read inside the caller's department scope. */
export const dataApi: FastifyPluginAsync<ApiOptions> = async (app, { store, routes }) => {
  routes.add(app, {
    method: 'GET', url: '/api/events', tag: 'events', access: 'events:read',
    summary: '事件检索：全文、时间、字段过滤（field:value）/ event search: text, time range, field:value filters',
    query: EventListQuery, response: EventPage,
    links: { GetEvent: { operationId: operationIdOf('GET', '/api/events/:id'), parameters: { id: '$response.body#/items/0/id' } } },
    handler: async ({ query, auth }) => {
      const filters = eventFilters(query);
      const eventQuery: EventQuery = setFilters({
        text: query.q, from: query.from, to: query.to, filters: Object.keys(filters).length ? filters : undefined,
        scope: scopeOf(auth.user),
      });
      return store.events.search(eventQuery, pageOf(query));
    },
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
