import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { BackupErrors, DRILL_KIND, type BackupJobOutcome, type BackupQueues } from '../backup/index.js';
import type { BusinessSystem, JobResult } from '../core/index.js';
import { StoreErrors, type Scope, type Store } from '../store/index.js';
import { found, recordAction, type ApiOptions } from './api-context.js';
import { ConsoleErrors } from './errors.js';
import { latestBackups, SITES, type LatestRun } from './posture/index.js';
import { scopeOf } from './roles.js';
import { BackupJobQueued, BackupJobView } from './api-responses.js';
import { operationIdOf, pageOf, pageQuery } from './routes.js';

export interface BackupApiOptions extends ApiOptions {
  /** The BullMQ queues; without them the console shows results but cannot start jobs. */
  backupQueues?: Pick<BackupQueues, 'enqueueVerify' | 'enqueueDrill' | 'verify' | 'drill'>;
}

const SystemId = z.string().min(1).max(100);
/** A backup copy: verify checks one or both, a drill restores from one. */
const Site = z.enum(['same-city', 'off-site']);
const JOB_PREFIX = { verify: 'console-verify-', drill: 'console-drill-' } as const;
/** A queued job's answer names the job its progress route takes. */
const JOB_LINKS = { GetJob: { operationId: operationIdOf('GET', '/api/backup/jobs/:id'), parameters: { id: '$response.body#/job' } } };

/** A system the caller may see, with a backup policy; 404 outside the scope, as absent. */
async function systemInScope(store: Store, id: string, scope: Scope | undefined): Promise<BusinessSystem> {
  const system = found((await store.assets.getInventory(scope)).systems.find((s) => s.id === id), 'system', id);
  if (!system.backup) throw BackupErrors.noPolicy(id);
  return system;
}

function siteCell(run: LatestRun | undefined, rpoSeconds: number, now: Date) {
  if (!run) return { status: 'none' as const };
  const freshness = run.results.find((r) => r.detail.check === 'freshness');
  const setTime = typeof freshness?.detail.latestSetTime === 'string' ? freshness.detail.latestSetTime : undefined;
  // Age now, not at check time: a set that was fresh yesterday may be stale today.
  const ageSeconds = setTime ? Math.round((now.getTime() - Date.parse(setTime)) / 1000) : undefined;
  return {
    status: run.status,
    checkedAt: run.finishedAt,
    runId: run.runId,
    ...(setTime ? { latestSetTime: setTime } : {}),
    ...(ageSeconds !== undefined ? { ageSeconds, rpoRatio: Math.round((ageSeconds / rpoSeconds) * 1000) / 1000 } : {}),
    rpoSeconds,
    problems: run.results.filter((r) => r.status !== 'pass').map((r) => ({ check: r.detail.check, status: r.status, summary: r.summary })),
  };
}

function drillCell(result: JobResult | undefined) {
  if (!result) return { status: 'none' as const };
  const rto = result.detail.rto as { targetSeconds?: number; achievedSeconds?: number; met?: boolean } | undefined;
  return { id: result.id, status: result.status, finishedAt: result.finishedAt, summary: result.summary, ...(rto ? { rto } : {}) };
}

/** 备份与演练: the systems × sites matrix, jobs started from the console and their progress, drill history. */
export const backupApi: FastifyPluginAsync<BackupApiOptions> = async (app, { store, routes, backupQueues }) => {
  const queues = () => {
    if (!backupQueues) throw ConsoleErrors.unavailable('backup queues');
    return backupQueues;
  };

  routes.add(app, {
    method: 'GET', url: '/api/backup/matrix', tag: 'backup', access: 'backup:read',
    summary: '系统 × {同城, 异地}：最近核验状态、最新备份集时龄对比 RPO、最近演练 RTO / systems × sites: last check, set age vs RPO, last drill RTO',
    handler: async ({ auth }) => {
      const scope = scopeOf(auth.user);
      const now = new Date();
      const inventory = await store.assets.getInventory(scope);
      const latest = await latestBackups(store.jobResults, scope, now, inventory.systems.map((s) => s.id));
      return {
        at: now.toISOString(),
        systems: inventory.systems.map((system) => {
          const backups = latest.get(system.id);
          if (!system.backup) return { id: system.id, name: system.name, department: system.department, policy: null };
          const { rpo, rto } = system.backup;
          return {
            id: system.id, name: system.name, department: system.department,
            policy: { rpoSeconds: rpo, rtoSeconds: rto },
            sites: Object.fromEntries(SITES.map((site) => [site, siteCell(backups?.sites[site], rpo, now)])),
            crossSite: backups?.sites['cross-site'] ? { status: backups.sites['cross-site'].status, checkedAt: backups.sites['cross-site'].finishedAt } : { status: 'none' },
            drill: drillCell(backups?.drill),
          };
        }),
      };
    },
  });

  routes.add(app, {
    method: 'POST', url: '/api/backup/verify', tag: 'backup', access: 'backup:run', status: 202,
    summary: '立即核验备份（入队）/ verify backups now (queued); returns the job id',
    body: z.strictObject({ system: SystemId, site: Site.optional() }), response: BackupJobQueued, links: JOB_LINKS,
    handler: async ({ body, auth, request }) => {
      const system = await systemInScope(store, body.system, scopeOf(auth.user));
      const job = await queues().enqueueVerify(system.id, {
        jobId: `${JOB_PREFIX.verify}${randomUUID()}`, ...(body.site ? { sites: [body.site] } : {}),
      });
      await recordAction(store, request, 'backup.verify', { id: system.id, departments: [system.department] }, { job: job.id, ...(body.site ? { site: body.site } : {}) });
      return { job: job.id, system: system.id };
    },
  });

  routes.add(app, {
    method: 'POST', url: '/api/backup/drill', tag: 'backup', access: 'backup:run', status: 202,
    summary: '立即恢复演练（入队，可选同城或异地副本）/ restore drill now (queued) from the same-city (default) or off-site copy; returns the job id',
    body: z.strictObject({ system: SystemId, site: Site.optional() }), response: BackupJobQueued, links: JOB_LINKS,
    handler: async ({ body, auth, request }) => {
      const system = await systemInScope(store, body.system, scopeOf(auth.user));
      const job = await queues().enqueueDrill(system.id, { jobId: `${JOB_PREFIX.drill}${randomUUID()}`, ...(body.site ? { site: body.site } : {}) });
      await recordAction(store, request, 'backup.drill', { id: system.id, departments: [system.department] }, { job: job.id, ...(body.site ? { site: body.site } : {}) });
      return { job: job.id, system: system.id };
    },
  });

  routes.add(app, {
    method: 'GET', url: '/api/backup/jobs/:id', tag: 'backup', access: 'backup:read',
    summary: '任务状态与进度 / job state and progress', response: BackupJobView,
    params: z.strictObject({ id: z.string().regex(/^console-(verify|drill)-[0-9a-f-]{36}$/, '不是控制台任务 id / not a console job id') }),
    handler: async ({ params, auth }) => {
      const queue = params.id.startsWith(JOB_PREFIX.verify) ? queues().verify : queues().drill;
      const job = await queue.getJob(params.id);
      const scope = scopeOf(auth.user);
      // A job of a system outside the scope reads as absent.
      const visible = job && (await store.assets.getInventory(scope)).systems.some((s) => s.id === job.data.system);
      if (!job || !visible) throw StoreErrors.notFound('job', params.id);
      const outcome = job.returnvalue as BackupJobOutcome | null | undefined;
      return {
        id: job.id, kind: params.id.startsWith(JOB_PREFIX.verify) ? 'verify' : 'drill', system: job.data.system,
        ...(job.data.sites ? { sites: job.data.sites } : {}),
        // A drill restores from one copy: same-city unless the request chose off-site.
        ...(params.id.startsWith(JOB_PREFIX.drill) ? { site: job.data.site ?? 'same-city' } : {}),
        state: await job.getState(),
        progress: job.progress,
        attemptsMade: job.attemptsMade,
        createdAt: new Date(job.timestamp).toISOString(),
        ...(job.processedOn ? { startedAt: new Date(job.processedOn).toISOString() } : {}),
        ...(job.finishedOn ? { finishedAt: new Date(job.finishedOn).toISOString() } : {}),
        ...(outcome ? { outcome } : {}),
        ...(job.failedReason ? { failedReason: job.failedReason } : {}),
      };
    },
  });

  routes.add(app, {
    method: 'GET', url: '/api/backup/drills', tag: 'backup', access: 'backup:read',
    summary: '演练历史：RTO 对比目标 / drill history with RTO against the target',
    query: z.strictObject({ system: SystemId.optional(), ...pageQuery }),
    handler: async ({ query, auth }) => {
      const scope = scopeOf(auth.user);
      const page = await store.jobResults.search({
        kind: DRILL_KIND, ...(query.system ? { system: query.system } : {}), ...(scope ? { scope } : {}),
      }, pageOf(query));
      return { ...page, items: page.items.map((result) => ({ system: result.system, department: result.department, ...drillCell(result) })) };
    },
  });
};
