import { createReadStream, existsSync } from 'node:fs';
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { recordAction, type ApiOptions } from '../api-context.js';
import { scopeOf } from '../roles.js';
import { isoTime } from '../routes.js';
import { EvidenceErrors } from './errors.js';
import { selectSystems } from './facts.js';
import { bundlePath, type EvidenceQueue } from './job.js';

export interface EvidenceApiOptions extends ApiOptions {
  evidence: Pick<EvidenceQueue, 'enqueue' | 'get'>;
  dataDir: string;
}

const ExportRequest = z.strictObject({
  system: z.string().min(1).max(100).optional(),
  department: z.string().min(1).max(100).optional(),
  all: z.literal(true).optional(),
  from: isoTime,
  to: isoTime,
}).refine((r) => [r.system, r.department, r.all].filter((v) => v !== undefined).length === 1,
  '需要且只能给出 system、department 或 all 之一 / exactly one of system, department or all');

const JobId = z.strictObject({ job: z.string().regex(/^\d{1,20}$/, '任务编号 / a job id') });

/**
 * Evidence export for compliance reviewers and admins (`evidence:export`): POST starts a BullMQ job
 * with the caller's department scope, GET shows its progress, /download streams the signed ZIP.
 * Only the requester (or an admin) sees a job; anyone else gets 404.
 */
export const evidenceApi: FastifyPluginAsync<EvidenceApiOptions> = async (app, { store, routes, evidence, dataDir }) => {
  const jobOf = async (id: string, user: { username: string; role: string }) => {
    const job = await evidence.get(id);
    if (!job || (job.data.requestedBy !== user.username && user.role !== 'admin')) throw EvidenceErrors.notFound(`evidence job ${id}`);
    return job;
  };

  routes.add(app, {
    method: 'POST', url: '/api/evidence', tag: 'evidence', access: 'evidence:export', status: 202,
    summary: '导出等保证据包（后台任务） / export an MLPS evidence bundle (background job)',
    body: ExportRequest,
    handler: async ({ body, auth, request }) => {
      const scope = scopeOf(auth.user);
      const selection = {
        from: body.from, to: body.to,
        ...(body.system ? { system: body.system } : {}),
        ...(body.department ? { department: body.department } : {}),
      };
      // Checked now, so a bad period or an out-of-scope system or department is refused at once rather than failing later.
      const systems = selectSystems(await store.assets.getInventory(scope), selection);
      const job = await evidence.enqueue({ selection, requestedBy: auth.user.username, ...(scope ? { scope } : {}) });
      // Audited under the selection's departments; "all" is the caller's scope, city-wide when unscoped.
      const departments = body.all ? scope?.departments ?? [] : body.department ? [body.department] : systems.map((s) => s.department);
      await recordAction(store, request, 'evidence.export', { id: `evidence-job:${job.id}`, departments }, { ...selection });
      return { job: job.id, status: 'queued' };
    },
  });

  routes.add(app, {
    method: 'GET', url: '/api/evidence/:job', tag: 'evidence', access: 'evidence:export',
    summary: '导出任务进度 / export job progress', params: JobId,
    handler: async ({ params, auth }) => {
      const job = await jobOf(params.job, auth.user);
      const state = await job.getState();
      return {
        job: job.id, state, progress: job.progress, selection: job.data.selection,
        ...(job.returnvalue ? { result: { bytes: job.returnvalue.bytes, files: job.returnvalue.files, systems: job.returnvalue.systems, statuses: job.returnvalue.statuses, fingerprint: job.returnvalue.fingerprint } } : {}),
        ...(job.failedReason ? { error: job.failedReason } : {}),
      };
    },
  });

  routes.add(app, {
    method: 'GET', url: '/api/evidence/:job/download', tag: 'evidence', access: 'evidence:export',
    summary: '下载证据包 ZIP / download the evidence bundle (ZIP)', params: JobId,
    handler: async ({ params, auth, reply, request }) => {
      const job = await jobOf(params.job, auth.user);
      const path = bundlePath(dataDir, job.id!);
      if ((await job.getState()) !== 'completed' || !existsSync(path)) throw EvidenceErrors.notFound(`finished bundle of evidence job ${job.id}`);
      await recordAction(store, request, 'evidence.download', `evidence-job:${job.id}`);
      reply.header('content-type', 'application/zip');
      reply.header('content-disposition', `attachment; filename="shouwang-evidence-${job.id}.zip"`);
      return createReadStream(path);
    },
  });
};
