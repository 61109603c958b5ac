/** Errors users see carry a stable code, an HTTP status and a message (zh-CN first, then English). */
export class ShouwangError extends Error {
  readonly code: string;
  readonly statusCode: number;
  readonly details: unknown;

  constructor(code: string, message: string, statusCode = 500, options: { cause?: unknown; details?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'ShouwangError';
    this.code = code;
    this.statusCode = statusCode;
    this.details = options.details;
  }
}

type ErrorFactory<A extends unknown[]> = ((...args: A) => ShouwangError) & { code: string; statusCode: number };

/** Declares one error code; codes are never reused (see test/core/errors.test.ts). */
export function defineError<A extends unknown[]>(
  code: string,
  statusCode: number,
  message: (...args: A) => string,
): ErrorFactory<A> {
  const factory = (...args: A) => new ShouwangError(code, message(...args), statusCode);
  return Object.assign(factory, { code, statusCode });
}

export const CoreErrors = {
  configInvalid: defineError('SW_ERR_CONFIG_INVALID', 500, (where: string, problems: string) =>
    `配置无效 / invalid configuration (${where}):\n${problems}`),
  configRead: defineError('SW_ERR_CONFIG_READ', 500, (path: string, reason: string) =>
    `无法读取配置文件 / cannot read config file ${path}: ${reason}`),
  inventoryInvalid: defineError('SW_ERR_INVENTORY_INVALID', 400, (where: string, problems: string) =>
    `资产清单无效 / invalid inventory (${where}):\n${problems}`),
  inventoryWrite: defineError('SW_ERR_INVENTORY_WRITE', 409, (path: string, reason: string) =>
    `无法保存资产清单 / cannot save inventory ${path}: ${reason}`),
  inventoryRead: defineError('SW_ERR_INVENTORY_READ', 400, (path: string, reason: string) =>
    `无法读取资产清单 / cannot read inventory ${path}: ${reason}`),
  provisionFailed: defineError('SW_ERR_PROVISION', 500, (what: string, reason: string) =>
    `无法准备 ${what} / cannot provision ${what}: ${reason}`),
  serviceStart: defineError('SW_ERR_SERVICE_START', 500, (what: string, reason: string) =>
    `${what} 启动失败 / ${what} failed to start: ${reason}`),
};
