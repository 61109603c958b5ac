import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { TimeRange } from '../store/index.js';
import { found, type ApiOptions } from './api-context.js';
import { ConsoleErrors } from './errors.js';
import { byRisk, computePosture, latestBackups, OPEN_ALERT_STATUSES, postureTrend, systemPosture, type CoverageSource } from './posture/index.js';
import { scopeOf } from './roles.js';
import { isoTime } from './routes.js';

export interface PostureOptions extends ApiOptions {
  coverage: CoverageSource;
  /** Where the trend's days start (`timeZone`). */
  timeZone?: string;
}

const DAY_MS = 86_400_000;

const Range = z.strictObject({ from: isoTime.optional(), to: isoTime.optional() });

function rangeOf(query: { from?: string | undefined; to?: string | undefined }): TimeRange {
  if (query.from && query.to && Date.parse(query.from) >= Date.parse(query.to)) {
    throw ConsoleErrors.requestInvalid('query from: 必须早于 to / must be before to');
  }
  return { ...(query.from ? { from: query.from } : {}), ...(query.to ? { to: query.to } : {}) };
}

/** 态势总览: risk per department and system, its trend, the top risks and a system's drill-down. */
export const postureApi: FastifyPluginAsync<PostureOptions> = async (app, { store, routes, coverage, timeZone }) => {
  routes.add(app, {
    method: 'GET', url: '/api/posture', tag: 'posture', access: 'alerts:read',
    summary: '各部门、各系统风险评分（0–100）及其构成 / risk score (0–100) per department and system with its components',
    query: Range,
    handler: async ({ query, auth }) => {
      const posture = await computePosture(store, coverage, scopeOf(auth.user), rangeOf(query));
      return { ...posture, departments: posture.departments.sort(byRisk), systems: posture.systems.sort(byRisk) };
    },
  });

  routes.add(app, {
    method: 'GET', url: '/api/posture/top', tag: 'posture', access: 'alerts:read',
    summary: '风险最高的系统 / the riskiest systems',
    query: z.strictObject({ limit: z.coerce.number().int().min(1).max(200).default(10), ...Range.shape }),
    handler: async ({ query, auth }) => {
      const posture = await computePosture(store, coverage, scopeOf(auth.user), rangeOf(query));
      return { at: posture.at, systems: posture.systems.sort(byRisk).slice(0, query.limit) };
    },
  });

  routes.add(app, {
    method: 'GET', url: '/api/posture/trend', tag: 'posture', access: 'alerts:read',
    summary: '每日告警数（按最后出现日，按配置的时区）与当日告警风险分 / alerts per day (by last seen, in the configured timeZone) and that day\'s alert risk, per department',
    query: z.strictObject({ days: z.coerce.number().int().min(1).max(90).default(30) }),
    handler: async ({ query, auth }) => ({ days: await postureTrend(store, scopeOf(auth.user), query.days, new Date(), timeZone) }),
  });

  routes.add(app, {
    method: 'GET', url: '/api/posture/systems/:id', tag: 'posture', access: 'alerts:read',
    summary: '系统下钻：评分构成、近期告警、按数据集的事件数 / system drill-down: score components, recent alerts, events by dataset',
    params: z.strictObject({ id: z.string().min(1).max(100) }),
    query: Range,
    handler: async ({ params, query, auth }) => {
      const scope = scopeOf(auth.user);
      const inventory = await store.assets.getInventory(scope);
      const system = found(inventory.systems.find((s) => s.id === params.id), 'system', params.id);
      const now = new Date();
      const range = rangeOf(query);
      // Event counts default to the last 24 hours: a bounded range on the (system, time) index.
      const eventRange = { from: range.from ?? new Date(now.getTime() - DAY_MS).toISOString(), ...(range.to ? { to: range.to } : {}) };
      const withScope = scope ? { scope } : {};
      const [groups, recent, datasets, backups, statuses] = await Promise.all([
        store.alerts.problems({ status: [...OPEN_ALERT_STATUSES], suppressed: false, system: [system.id], ...range, ...withScope }),
        store.alerts.search({ system: [system.id], ...range, ...withScope }, { size: 20 }),
        store.events.countBy({ filters: { 'shouwang.system': system.id }, ...eventRange, ...withScope }, 'event.dataset', 50),
        latestBackups(store.jobResults, scope, now, [system.id]),
        coverage(inventory, scope, now),
      ]);
      const sources = statuses.filter((s) => s.system === system.id);
      return {
        ...systemPosture(system, groups, backups.get(system.id), sources, now),
        system,
        sources,
        recentAlerts: recent.items,
        events: { ...eventRange, byDataset: datasets },
      };
    },
  });
};
