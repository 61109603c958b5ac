import { createReadStream, existsSync } from 'node:fs';
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { KeyObject } from 'node:crypto';
import { ShouwangError, type Inventory } from '../core/index.js';
import type { UserRecord } from '../store/index.js';
import { recordAction, type ApiOptions } from './api-context.js';
import { scopeOf } from './roles.js';
import { EvidenceJobQueued, EvidenceJobView } from './api-responses.js';
import { isoTime, operationIdOf } from './routes.js';
import {
  EvidenceErrors, EVIDENCE_JOB_ID, bundlePath, selectSystems, verifyEvidenceBundle, type EvidenceJobData, type EvidenceQueue,
} from '../evidence/index.js';

export interface EvidenceApiOptions extends ApiOptions {
  evidence: Pick<EvidenceQueue, 'enqueue' | 'get'>;
  dataDir: string;
  /** The instance's public key: a bundle must be signed by it to verify. Without it the bundle's own key is trusted. */
  publicKey?: KeyObject;
}

const ExportRequest = z.strictObject({
  system: z.string().min(1).max(100).optional(),
  department: z.string().min(1).max(100).optional(),
  all: z.literal(true).optional(),
  from: isoTime,
  to: isoTime,
}).refine((r) => [r.system, r.department, r.all].filter((v) => v !== undefined).length === 1,
  '需要且只能给出 system、department 或 all 之一 / exactly one of system, department or all');

const JobId = z.strictObject({ job: z.string().regex(EVIDENCE_JOB_ID, '任务编号 / a job id') });

/**
 * The departments a bundle can hold: its requester's scope, narrowed by a department or system
 * selection; undefined means every department (an `all` bundle of an unscoped requester).
 */
function bundleDepartments(data: EvidenceJobData, inventory: Inventory): string[] | undefined {
  if (data.departments) return data.departments;
  const { selection } = data;
  const scope = data.scope?.departments;
  let departments: string[] | undefined;
  if (selection.department) departments = [selection.department];
  else if (selection.system) {
    const system = inventory.systems.find((s) => s.id === selection.system);
    // A system gone from the inventory: its department is unknown, so only unscoped users may fetch it.
    if (system) departments = [system.department];
  }
  if (scope) departments = (departments ?? scope).filter((d) => scope.includes(d));
  return departments;
}

/** A user may see a bundle only when everything it can hold lies inside the user's scope. */
function withinScope(data: EvidenceJobData, user: UserRecord, inventory: Inventory): boolean {
  const allowed = scopeOf(user)?.departments;
  if (!allowed) return true;
  const departments = bundleDepartments(data, inventory);
  return departments !== undefined && departments.every((d) => allowed.includes(d));
}

/**
 * Evidence export for compliance reviewers and admins (`evidence:export`): POST starts a BullMQ job
 * with the caller's department scope, GET shows its progress, /download streams the signed ZIP.
 * Only the requester (or an admin) sees a job; anyone else gets 404.
 */
export const evidenceApi: FastifyPluginAsync<EvidenceApiOptions> = async (app, { store, routes, evidence, dataDir, publicKey }) => {
  // Unknown, someone else's (unless admin) and out of scope all answer the same 404: existence is not revealed.
  const jobOf = async (id: string, user: UserRecord) => {
    const job = await evidence.get(id);
    if (!job || (job.data.requestedBy !== user.username && user.role !== 'admin')
      || !withinScope(job.data, user, await store.assets.getInventory())) {
      throw EvidenceErrors.notFound(`evidence job ${id}`);
    }
    return job;
  };

  routes.add(app, {
    method: 'POST', url: '/api/evidence', tag: 'evidence', access: 'evidence:export', status: 202,
    summary: '导出等保证据包（后台任务） / export an MLPS evidence bundle (background job)',
    body: ExportRequest, response: EvidenceJobQueued,
    links: { GetEvidenceJob: { operationId: operationIdOf('GET', '/api/evidence/:job'), parameters: { job: '$response.body#/job' } } },
    handler: async ({ body, auth, request }) => {
      const scope = scopeOf(auth.user);
      const selection = {
        from: body.from, to: body.to,
        ...(body.system ? { system: body.system } : {}),
        ...(body.department ? { department: body.department } : {}),
      };
      // Checked now, so a bad period or an out-of-scope system or department is refused at once rather than failing later.
      const inventory = await store.assets.getInventory(scope);
      const systems = selectSystems(inventory, selection);
      const data: EvidenceJobData = { selection, requestedBy: auth.user.username, ...(scope ? { scope } : {}) };
      const held = bundleDepartments(data, inventory);
      const job = await evidence.enqueue({ ...data, ...(held ? { departments: held } : {}) });
      // Audited under the selection's departments; "all" is the caller's scope, city-wide when unscoped.
      const departments = body.all ? scope?.departments ?? [] : body.department ? [body.department] : systems.map((s) => s.department);
      await recordAction(store, request, 'evidence.export', { id: `evidence-job:${job.id}`, departments }, { ...selection });
      return { job: job.id, status: 'queued' };
    },
  });

  routes.add(app, {
    method: 'GET', url: '/api/evidence/:job', tag: 'evidence', access: 'evidence:export',
    summary: '导出任务进度 / export job progress', params: JobId, response: EvidenceJobView,
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
      await recordAction(store, request, 'evidence.download', { id: `evidence-job:${job.id}`, departments: job.data.departments ?? [] });
      reply.header('content-type', 'application/zip');
      reply.header('content-disposition', `attachment; filename="shouwang-evidence-${job.id}.zip"`);
      return createReadStream(path);
    },
  });

  // The offline verifier (`shouwang evidence verify`) on the stored bundle, scoped exactly like the download.
  routes.add(app, {
    method: 'GET', url: '/api/evidence/:job/verify', tag: 'evidence', access: 'evidence:export',
    summary: '校验证据包（哈希与签名） / verify the evidence bundle (digests and signature)', params: JobId,
    handler: async ({ params, auth }) => {
      const job = await jobOf(params.job, auth.user);
      const path = bundlePath(dataDir, job.id!);
      if ((await job.getState()) !== 'completed' || !existsSync(path)) throw EvidenceErrors.notFound(`finished bundle of evidence job ${job.id}`);
      try {
        return { job: job.id, ...await verifyEvidenceBundle(path, publicKey ? { publicKey } : {}) };
      } catch (error) {
        // A bundle too broken to read is a failed verification, not a bad request.
        if (!(error instanceof ShouwangError) || error.code !== 'SW_ERR_EVIDENCE_BUNDLE') throw error;
        return {
          job: job.id, ok: false, changed: [], added: [], removed: [], signatureValid: false, wrongKey: false,
          keySource: publicKey ? 'pinned' : 'bundle', problems: [error.message],
        };
      }
    },
  });
};
