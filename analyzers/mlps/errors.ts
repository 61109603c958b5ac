import { defineError } from '../../core/index.js';

export const MlpsErrors = {
  catalogRead: defineError('SW_ERR_MLPS_CATALOG_READ', 500, (path: string, reason: string) =>
    `无法读取等级保护控制项目录 / cannot read the MLPS catalog ${path}: ${reason}`),
  catalogInvalid: defineError('SW_ERR_MLPS_CATALOG_INVALID', 500, (where: string, problems: string) =>
    `等级保护控制项目录无效 / invalid MLPS catalog (${where}):\n${problems}`),
};
