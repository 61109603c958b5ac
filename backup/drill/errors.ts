import { defineError } from '../../core/index.js';

export const DrillErrors = {
  server: defineError('SW_ERR_DRILL_SERVER', 503, (engine: string, reason: string) =>
    `没有可用的 ${engine} 演练服务器 / no ${engine} drill server: ${reason}`),
  tool: defineError('SW_ERR_DRILL_TOOL', 502, (what: string, reason: string) =>
    `恢复演练命令失败 / drill step failed: ${what}: ${reason}`),
};
