import { existsSync } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { ShouwangError } from '../core/index.js';
import type { ApiOptions } from './api-context.js';
import { EvidenceErrors, bundlePath, verifyEvidenceBundle, type EvidenceQueue } from './evidence/index.js';

export interface EvidenceVerifyApiOptions extends ApiOptions {
  evidence: Pick<EvidenceQueue, 'get'>;
  dataDir: string;
  /** The instance's public key: the bundle must be signed by it. Without it the bundle's own key is trusted. */
  publicKey?: KeyObject;
}

const JobId = z.strictObject({ job: z.string().regex(/^\d{1,20}$/, '任务编号 / a job id') });

/**
 * `GET /api/evidence/:job/verify`: the offline verifier (`shouwang evidence verify`) run on the job's stored
 * bundle, so a reviewer sees in the console that what they download checks out. Scoped exactly like the
 * download: only the requester or an admin, only a finished bundle; anything else is 404.
 */
export const evidenceVerifyApi: FastifyPluginAsync<EvidenceVerifyApiOptions> = async (app, { routes, evidence, dataDir, publicKey }) => {
  routes.add(app, {
    method: 'GET', url: '/api/evidence/:job/verify', tag: 'evidence', access: 'evidence:export',
    summary: '校验证据包（哈希与签名） / verify the evidence bundle (digests and signature)', params: JobId,
    handler: async ({ params, auth }) => {
      const job = await evidence.get(params.job);
      if (!job || (job.data.requestedBy !== auth.user.username && auth.user.role !== 'admin')) throw EvidenceErrors.notFound(`evidence job ${params.job}`);
      const path = bundlePath(dataDir, job.id!);
      if ((await job.getState()) !== 'completed' || !existsSync(path)) throw EvidenceErrors.notFound(`finished bundle of evidence job ${job.id}`);
      try {
        const report = await verifyEvidenceBundle(path, publicKey ? { publicKey } : {});
        return { job: job.id, ...report };
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
