import { defineError } from '../core/index.js';

export const BackupErrors = {
  noPolicy: defineError('SW_ERR_BACKUP_NO_POLICY', 400, (system: string) =>
    `系统 ${system} 没有备份策略 / system ${system} has no backup policy`),
  target: defineError('SW_ERR_BACKUP_TARGET', 503, (target: string, reason: string) =>
    `无法读取备份位置 ${target} / cannot read backup target ${target}: ${reason}`),
  manifest: defineError('SW_ERR_BACKUP_MANIFEST', 422, (where: string, reason: string) =>
    `备份清单无效 ${where} / invalid backup manifest ${where}: ${reason}`),
};
