import { defineError } from '../../core/index.js';

export const JobErrors = {
  redis: defineError('SW_ERR_JOBS_REDIS', 503, (reason: string) =>
    `无法连接任务队列 Redis / cannot use the job queue's Redis: ${reason}`),
  unknownSystem: defineError('SW_ERR_JOBS_UNKNOWN_SYSTEM', 404, (system: string) =>
    `资产清单中没有系统 ${system} / no system ${system} in the inventory`),
};
