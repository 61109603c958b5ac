import { defineError } from '../../core/index.js';

export const JobErrors = {
  redis: defineError('SW_ERR_JOBS_REDIS', 503, (reason: string) =>
    `无法连接任务队列 Redis / cannot use the job queue's Redis: ${reason}`),
  unknownSystem: defineError('SW_ERR_JOBS_UNKNOWN_SYSTEM', 404, (system: string) =>
    `资产清单中没有系统 ${system} / no system ${system} in the inventory`),
  drillPending: defineError('SW_ERR_JOBS_DRILL_PENDING', 409, (system: string, site: string, job: string) =>
    `系统 ${system} 已有一个待执行的${site === 'off-site' ? '异地' : '同城'}恢复演练（任务 ${job}），请等其完成后再发起 / a ${site} restore drill of system ${system} is already queued or running (job ${job}); start another when it has finished`),
  drillQueueFull: defineError('SW_ERR_JOBS_DRILL_QUEUE_FULL', 409, (pending: number, max: number) =>
    `恢复演练队列已满：全市待执行或执行中的演练 ${pending} 个，上限 ${max} 个（backup.drill.maxQueued）/ the restore drill queue is full: ${pending} drills are queued or running, at most ${max} (backup.drill.maxQueued)`),
};
