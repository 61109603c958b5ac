import { defineError } from '../core/index.js';

export const StoreErrors = {
  notFound: defineError('SW_ERR_STORE_NOT_FOUND', 404, (what: string, id: string) => `未找到 ${what} / ${what} not found: ${id}`),
  invalidQuery: defineError('SW_ERR_STORE_INVALID_QUERY', 400, (reason: string) => `查询无效 / invalid query: ${reason}`),
  transition: defineError('SW_ERR_ALERT_TRANSITION', 409, (from: string, to: string) => (from === to
    ? `告警已是 ${to}（可能他人刚处置过，请刷新）/ the alert is already ${to} (someone may just have changed it: reload)`
    : `告警状态不能从 ${from} 变为 ${to} / alert status cannot change from ${from} to ${to}`)),
  unavailable: defineError('SW_ERR_STORE_UNAVAILABLE', 503, (reason: string) => `存储不可用 / store unavailable: ${reason}`),
  queryTimeout: defineError('SW_ERR_STORE_QUERY_TIMEOUT', 503, (ms: number) =>
    `查询超过 ${ms} ms 已停止，请缩小时间范围或改用更具体的条件 / query stopped after ${ms} ms: narrow the time range or use more specific terms`),
  migration: defineError('SW_ERR_STORE_MIGRATION', 500, (version: number, reason: string) =>
    `存储迁移失败 / store migration ${version} failed: ${reason}`),
};
